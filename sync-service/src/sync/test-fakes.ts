import type { ClinikoClient, ReadOptions, StreamEvent } from '../cliniko/index.js';
import type { SalesforceRecord, SalesforceWriter, WriteResult } from '../salesforce/writer.js';
import { SqliteStore, type PayloadCipher } from '../store/index.js';

/**
 * Fakes at the adapter edges of the sync use cases, for their unit tests: a scripted Cliniko stream
 * source, a recording Salesforce writer, a manual clock, and a real SQLite store in memory (the store is
 * not faked: its transactions are what the bookmark discipline relies on). Test support only; no product
 * module imports this file.
 */

/** Plain text at rest: these tests are about the cycle, not encryption (the store tests cover that). */
const PLAIN: PayloadCipher = {
  encrypt: (plaintext) => Buffer.from(plaintext, 'utf8'),
  decrypt: (ciphertext) => Buffer.from(ciphertext).toString('utf8'),
};

export async function memoryStore(): Promise<SqliteStore> {
  const store = new SqliteStore(':memory:', PLAIN);
  await store.migrate();
  return store;
}

/** A clock that only moves when told to (or when the code under test sleeps). */
export function manualClock(start: number) {
  let t = start;
  return {
    now: () => t,
    sleep: (ms: number): Promise<void> => {
      t += ms;
      return Promise.resolve();
    },
    advance: (ms: number): void => {
      t += ms;
    },
  };
}

type Raw = Record<string, unknown> & { readonly id: string; readonly updated_at?: string };
type Event = StreamEvent<Record<string, unknown>>;
/**
 * One scripted read: the events it yields, in order; an Error is thrown where it stands, and a promise
 * is waited for there (the read paused, as while Cliniko answers its next page).
 */
export type ScriptedRead = ReadonlyArray<Event | Error | Promise<unknown>>;

export const ev = {
  record(resource: string, raw: Raw): Event {
    return {
      kind: 'record',
      resource,
      id: raw.id,
      updatedAt: raw.updated_at ?? '2026-11-22T00:00:00Z',
      record: raw,
      raw,
    };
  },
  page(resource: string, at: { maxUpdatedAt?: string; serverDate?: string }, items = 1): Event {
    return {
      kind: 'page',
      resource,
      path: `/${resource}`,
      pass: 1,
      pageNumber: 1,
      items,
      totalEntries: undefined,
      maxUpdatedAt: at.maxUpdatedAt,
      serverDate: at.serverDate,
    };
  },
  end(resource: string, complete: boolean, startedAt?: string): Event {
    return {
      kind: 'end',
      resource,
      complete,
      passes: 1,
      pages: 1,
      records: 0,
      duplicates: 0,
      quarantined: 0,
      maxUpdatedAt: undefined,
      startedAt,
    };
  },
  quarantine(resource: string, id: string, field: string): Event {
    return {
      kind: 'quarantine',
      item: { resource, id, field, reason: `${field}: not valid`, updatedAt: '2026-11-22T00:00:00Z' },
    };
  },
};

const STREAM_KEYS = [
  'patients',
  'patientCases',
  'individualAppointments',
  'invoices',
  'businesses',
  'practitioners',
  'appointmentTypes',
] as const;

/**
 * A Cliniko client whose streams yield scripted events. `script[key]` is called once per read with the
 * read's options; a stream without a script yields one complete, empty read. Every read is recorded.
 */
export function fakeCliniko(
  script: Partial<Record<(typeof STREAM_KEYS)[number], (o: ReadOptions) => ScriptedRead>>,
) {
  const reads: Array<{ stream: string; options: ReadOptions }> = [];
  const streamOf = (key: (typeof STREAM_KEYS)[number]) => ({
    name: key,
    key: 'id' as const,
    cursorField: 'updated_at' as const,
    async *read(options: ReadOptions = {}): AsyncGenerator<Event, void, undefined> {
      reads.push({ stream: key, options });
      await Promise.resolve();
      for (const e of script[key]?.(options) ?? [ev.end(key, true)]) {
        if (e instanceof Error) throw e;
        if (e instanceof Promise) await e;
        else yield e;
      }
    },
  });
  const client = {
    streams: Object.fromEntries(STREAM_KEYS.map((key) => [key, streamOf(key)])),
    stats: () => ({ requests: reads.length }),
    close: () => Promise.resolve(),
  } as unknown as ClinikoClient;
  return { client, reads };
}

export interface WriterCall {
  readonly operation: 'upsert' | 'publish';
  readonly object: string;
  readonly externalIdField: string | undefined;
  readonly records: readonly SalesforceRecord[];
}

/** How the fake org answers one call: per-record results, or a throw for the whole call. */
export type Answer = (call: WriterCall) => WriteResult[];

export const accept: Answer = (call) =>
  call.records.map((r, i) => {
    const key = String(call.externalIdField ? r[call.externalIdField] : i);
    return { key, success: true, id: `sf-${call.object}-${key}`, created: true };
  });

/** A rejection of every record in the call with this Salesforce status code. */
export function rejectWith(code: string, kind: 'transient' | 'permanent', fields: string[] = []): Answer {
  return (call) =>
    call.records.map((r, i) => ({
      key: String(call.externalIdField ? r[call.externalIdField] : i),
      success: false,
      id: null,
      created: null,
      error: { code, message: `${code} (test)`, fields, kind },
    }));
}

/** A Salesforce writer that records every call and answers through `answer` (swap it at any time). */
export function fakeWriter(answer: Answer = accept) {
  const calls: WriterCall[] = [];
  const state = { answer, usage: undefined as { used: number; max: number } | undefined };
  const run = (call: WriterCall): Promise<WriteResult[]> => {
    calls.push(call);
    try {
      return Promise.resolve(state.answer(call));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const writer: SalesforceWriter = {
    upsert: (object, externalIdField, records) =>
      run({ operation: 'upsert', object, externalIdField, records }),
    publish: (object, records) => run({ operation: 'publish', object, externalIdField: undefined, records }),
    apiUsage: () => state.usage,
    calls: () => calls.length,
  };
  return { writer, calls, state };
}
