/**
 * The reads of stored facts, journey states, announced appointment events, signposts, the reminder
 * index, the outbox's statistics and the reference lists, and the reference lists' save, written once
 * for both adapters: each passes the one function that runs a statement and returns its rows (SQLite
 * synchronously inside a resolved promise, PostgreSQL on its pool). The save is one upsert that no
 * other write depends on, so none of them needs the adapter's transaction discipline.
 */
import type { SqlDialect } from './dialect.js';
import {
  OPEN_DEAD_LETTERS_SQL,
  OUTBOX_STATS_SQL,
  QUARANTINE_COUNT_SQL,
  toFact,
  toJourneyState,
  toOutboxStats,
  toText,
  type Row,
} from './rows.js';
import * as S from './statements.js';
import type { PayloadCipher, Store } from './types.js';

export type FactReads = Pick<
  Store,
  | 'listFacts'
  | 'listFactPatientIds'
  | 'listJourneyDue'
  | 'readJourneyChunk'
  | 'getFacts'
  | 'listResourceFacts'
  | 'announcedEvents'
  | 'getSignpost'
  | 'dueReminders'
  | 'remindersFingerprint'
  | 'getJourneyState'
  | 'getJourneyStates'
  | 'listJourneyStates'
  | 'getReferenceLists'
  | 'saveReferenceLists'
  | 'outboxStats'
>;

export function factReads(
  dialect: SqlDialect,
  rows: (query: S.Query) => Promise<Row[]>,
  cipher: PayloadCipher,
): FactReads {
  const facts = async (query: S.Query) => (await rows(query)).map((row) => toFact(row, cipher));
  const first = async (query: S.Query) => (await rows(query))[0];
  const listFacts: FactReads['listFacts'] = async (patientIds) =>
    patientIds.length === 0 ? [] : facts(S.selectFacts(dialect, patientIds));
  const listFactPatientIds: FactReads['listFactPatientIds'] = async (after, limit) =>
    (await rows(S.selectFactPatientIds(after, limit))).map((r) => toText(r.patient_id));
  const listJourneyDue: FactReads['listJourneyDue'] = async (after, limit) =>
    (await rows(S.selectJourneyDue(after, limit))).map((r) => toText(r.patient_id));
  const getJourneyStates: FactReads['getJourneyStates'] = async (patientIds) =>
    patientIds.length === 0
      ? []
      : (await rows(S.selectJourneyStatesOf(dialect, patientIds))).map(toJourneyState);
  return {
    listFacts,
    listFactPatientIds,
    listJourneyDue,
    readJourneyChunk: async (source, after, limit) => {
      const patientIds = await (source === 'queued' ? listJourneyDue : listFactPatientIds)(after, limit);
      const [chunkFacts, states] = await Promise.all([listFacts(patientIds), getJourneyStates(patientIds)]);
      return { patientIds, facts: chunkFacts, states };
    },
    getFacts: async (resource, ids) =>
      ids.length === 0 ? [] : facts(S.selectFactsById(dialect, resource, ids)),
    listResourceFacts: async (resource, after, limit) => facts(S.selectResourceFacts(resource, after, limit)),
    announcedEvents: async (keys) =>
      keys.length === 0
        ? new Set<string>()
        : new Set((await rows(S.selectAnnouncedEvents(dialect, keys))).map((r) => toText(r.event_key))),
    getSignpost: async (name) => {
      const row = await first(S.selectSignpost(name));
      return row ? Number(row.at) : undefined;
    },
    dueReminders: async (nowMs, limit) =>
      (await rows(S.selectDueReminders(nowMs, limit))).map((r) => toText(r.appointment_id)),
    remindersFingerprint: async () => {
      const row = await first(S.selectRemindersIndex());
      return row ? toText(row.fingerprint) : undefined;
    },
    getJourneyState: async (patientId) => {
      const row = await first(S.selectJourneyState(patientId));
      return row ? toJourneyState(row) : undefined;
    },
    getJourneyStates,
    listJourneyStates: async () => (await rows(S.selectJourneyStates())).map(toJourneyState),
    getReferenceLists: async (name) => {
      const row = await first(S.selectReferenceLists(name));
      return row
        ? { loadedAt: Number(row.loaded_at), lists: cipher.decrypt(row.lists as Uint8Array) }
        : undefined;
    },
    outboxStats: async () =>
      toOutboxStats(
        await first({ sql: OUTBOX_STATS_SQL, params: [] }),
        await first({ sql: OPEN_DEAD_LETTERS_SQL, params: [] }),
        await first({ sql: QUARANTINE_COUNT_SQL, params: [] }),
      ),
    saveReferenceLists: async (name, loadedAt, lists) => {
      await rows(S.upsertReferenceLists(name, loadedAt, cipher.encrypt(lists)));
    },
  };
}
