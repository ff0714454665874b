import { EXTERNAL_ID_FIELDS } from '../../governance/project.js';
import { suppressInactiveMarketing } from '../../governance/suppression.js';
import type { OutboxInput } from '../../store/index.js';
import { instantOf, sameFieldValue } from '../common/value-equality.js';
import { REVERSE_STREAM } from '../writeback/index.js';
import { contactsNotToRecreate } from '../match/reconcile-hook.js';
import { matchSalesforceOf } from '../match/salesforce.js';
import type { ReconcileContext } from './context.js';
import type { ClinikoSide } from './read-cliniko.js';
import { RECONCILED_OBJECTS, SAMPLE, type ObjectReconciliation, type Row } from './types.js';

/** What the comparison found and queued, for the counting that follows the drain. */
export interface Comparison {
  readonly objects: Record<string, ObjectReconciliation>;
  /** object -> key -> payload hash of each repair queued. */
  readonly enqueued: Map<string, Map<string, string>>;
  /** `${object}:${key}` of orphan status updates. */
  readonly orphanUpdates: Set<string>;
  /** The Contacts as Salesforce holds them now (the consent snapshot counts from them). */
  contactRows: Row[];
}

/** A Contact edited after the write-back poller last read Contacts (never, when it does not run). */
type UnseenByWriteBack = (row: Row) => boolean;

/** Compares every synced object with what Cliniko says and queues the repairs through the outbox. */
export async function reconcileObjects(
  ctx: ReconcileContext,
  side: ClinikoSide,
  runId: string,
): Promise<Comparison> {
  const found: Comparison = { objects: {}, enqueued: new Map(), orphanUpdates: new Set(), contactRows: [] };
  const unseen = await unseenByWriteBack(ctx);
  for (const target of RECONCILED_OBJECTS) {
    await ctx.renewLease();
    await reconcileObject(ctx, side, target, runId, unseen, found);
  }
  return found;
}

async function unseenByWriteBack(ctx: ReconcileContext): Promise<UnseenByWriteBack> {
  const mark = await ctx.deps.store.getWatermark(REVERSE_STREAM);
  const seen = mark ? Date.parse(mark.cursor) : Number.NaN;
  return (row) =>
    Number.isFinite(seen) &&
    typeof row.LastModifiedDate === 'string' &&
    instantOf(row.LastModifiedDate) > seen;
}

async function reconcileObject(
  ctx: ReconcileContext,
  side: ClinikoSide,
  { object, resource }: (typeof RECONCILED_OBJECTS)[number],
  runId: string,
  unseen: UnseenByWriteBack,
  found: Comparison,
): Promise<void> {
  const extField = EXTERNAL_ID_FIELDS[object];
  if (!extField) throw new Error(`${object}: no external id field in the data map contract`);
  const expected = side.expected.get(object) ?? new Map<string, Row>();
  const columns = columnsFor(extField, expected, extraColumns(ctx, object));
  const rows = await querySalesforce(ctx, object, columns, extField);
  if (object === 'Contact') found.contactRows = rows;
  const actual = new Map(rows.map((row) => [String(row[extField]), row]));
  const diff = compareRecords(ctx, object, expected, actual, unseen, runId);
  // Issue #19: a Contact deleted in Salesforce (or a held patient's) is reported, never re-created.
  const kept =
    object === 'Contact'
      ? await contactsNotToRecreate(
          ctx.deps.store,
          matchSalesforceOf(ctx.deps.connection),
          diff.repairs.map((r) => r.externalId).filter((key) => !actual.has(key)),
          { runId, now: ctx.deps.now() },
        )
      : null;
  if (kept) diff.repairs = diff.repairs.filter((r) => !kept.skip.has(r.externalId));
  // Every synced object is keyed on its Cliniko record's id, so a key Cliniko did not list (and did
  // not list as unprojectable) is a record Cliniko no longer has. After an incomplete read nothing
  // can be concluded, so nothing is reported or marked.
  const orphansKnown = !side.incomplete.has(resource);
  const unprojectable = side.unprojectableIds.get(resource) ?? new Set<string>();
  const orphans = orphansKnown
    ? [...actual.keys()].filter((key) => !expected.has(key) && !unprojectable.has(key)).sort()
    : [];
  const orphanRepairs = markOrphans(ctx, object, orphans, actual, runId);
  for (const r of orphanRepairs) found.orphanUpdates.add(`${object}:${r.externalId}`);
  await enqueueRepairs(ctx, object, [...diff.repairs, ...orphanRepairs], found.enqueued);
  found.objects[object] = {
    compared: diff.compared,
    drifted: diff.drifted,
    missingInSalesforce: diff.missing,
    repaired: 0,
    orphaned: orphans.length,
    driftedFields: diff.driftedFields,
    sample: diff.sample,
    orphanSample: orphans.slice(0, SAMPLE),
    heldForWriteBack: diff.held,
    orphansKnown,
    ...(kept ? { deletedInSalesforce: kept.deleted, heldContacts: kept.skip.size } : {}),
  };
  const { compared, drifted, missing } = diff;
  ctx.log.info({ object, compared, drifted, missing, orphaned: orphans.length }, 'compared');
}

/** Contact columns read besides the payload's: the edit time and the consent fields the map writes. */
function extraColumns(ctx: ReconcileContext, object: string): string[] {
  if (object !== 'Contact') return [];
  return [
    'LastModifiedDate',
    'Email_Marketing_Consent__c',
    'SMS_Marketing_Consent__c',
    'HasOptedOutOfEmail',
    'DoNotCall',
    'Cliniko_Status__c',
  ].filter((f) => f === 'LastModifiedDate' || ctx.isMapped('Contact', f));
}

/**
 * The SOQL columns for an object: its external id and every field any expected payload carries (a
 * lookup written by external id, `Contact__r: {Cliniko_Patient_Id__c}`, is read back through the
 * same relationship). Fields the journey engine owns are never in these payloads, so never compared.
 */
export function columnsFor(
  extField: string,
  expected: ReadonlyMap<string, Row>,
  extra: readonly string[],
): string[] {
  const columns = new Set<string>([extField, ...extra]);
  for (const fields of expected.values()) {
    for (const [field, value] of Object.entries(fields)) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const sub of Object.keys(value)) columns.add(`${field}.${sub}`);
      } else {
        columns.add(field);
      }
    }
  }
  return [...columns];
}

async function querySalesforce(
  ctx: ReconcileContext,
  object: string,
  columns: readonly string[],
  extField: string,
): Promise<Row[]> {
  const soql = `SELECT Id, ${columns.join(', ')} FROM ${object} WHERE ${extField} != null`;
  const result = await ctx.deps.connection.query<Row>(soql, { autoFetch: true, maxFetch: 10_000_000 });
  return result.records;
}

interface RecordsDiff {
  compared: number;
  drifted: number;
  missing: number;
  held: number;
  readonly driftedFields: Record<string, number>;
  readonly sample: string[];
  repairs: OutboxInput[];
}

/** Field by field, with the shared Salesforce value equality; a drifted or missing record is re-sent. */
function compareRecords(
  ctx: ReconcileContext,
  object: string,
  expected: ReadonlyMap<string, Row>,
  actual: ReadonlyMap<string, Row>,
  unseen: UnseenByWriteBack,
  runId: string,
): RecordsDiff {
  const diff: RecordsDiff = {
    compared: 0,
    drifted: 0,
    missing: 0,
    held: 0,
    driftedFields: {},
    sample: [],
    repairs: [],
  };
  for (const [key, fields] of expected) {
    const row = actual.get(key);
    if (!row) {
      diff.missing += 1;
    } else {
      diff.compared += 1;
      const differing = Object.keys(fields).filter(
        (field) => !sameFieldValue(fields[field], row, field, ctx.fieldTypes.get(`${object}.${field}`)),
      );
      if (differing.length === 0) continue;
      diff.drifted += 1;
      for (const field of differing) diff.driftedFields[field] = (diff.driftedFields[field] ?? 0) + 1;
      // Left alone tonight so the Salesforce edit reaches Cliniko instead of being undone.
      if (object === 'Contact' && unseen(row) && differing.some((f) => ctx.writeBackFields.has(f))) {
        diff.held += 1;
        continue;
      }
    }
    if (diff.sample.length < SAMPLE) diff.sample.push(key);
    diff.repairs.push(ctx.outboxItem(object, key, fields, runId));
  }
  return diff;
}

/** Contacts gone from Cliniko are marked Deleted and taken out of marketing, as the runner does. */
function markOrphans(
  ctx: ReconcileContext,
  object: string,
  orphans: readonly string[],
  actual: ReadonlyMap<string, Row>,
  runId: string,
): OutboxInput[] {
  if (object !== 'Contact' || !ctx.isMapped('Contact', 'Cliniko_Status__c')) return [];
  return orphans
    .filter((key) => actual.get(key)?.Cliniko_Status__c !== 'Deleted')
    .map((key) => {
      const fields = suppressInactiveMarketing('Contact', {
        Cliniko_Patient_Id__c: key,
        Cliniko_Status__c: 'Deleted',
        ...(ctx.isMapped('Contact', 'HasOptedOutOfEmail') ? { HasOptedOutOfEmail: true } : {}),
        ...(ctx.isMapped('Contact', 'DoNotCall') ? { DoNotCall: true } : {}),
      });
      return ctx.outboxItem(object, key, fields, runId);
    });
}

async function enqueueRepairs(
  ctx: ReconcileContext,
  object: string,
  repairs: readonly OutboxInput[],
  enqueued: Map<string, Map<string, string>>,
): Promise<void> {
  if (repairs.length === 0) return;
  const { store } = ctx.deps;
  // Forget the last written hash first: if a repair write fails, the next cycle writes it again.
  await store.forgetRecordStates(
    object,
    repairs.map((r) => r.externalId),
  );
  await store.commitBatch({ stream: 'reconcile', outbox: [...repairs], now: ctx.deps.now() });
  enqueued.set(object, new Map(repairs.map((r) => [r.externalId, r.payloadHash])));
}
