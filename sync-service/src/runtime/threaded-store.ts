import { MessageChannel, Worker } from 'node:worker_threads';
import { SyncError } from '../errors.js';
import type { AuditHead, AuditRow, Store } from '../store/index.js';
import {
  errorFromWire,
  errorToWire,
  type PrebuiltMarker,
  type StoreCall,
  type StoreReply,
} from './store-thread-wire.js';

/**
 * The SQLite store on a thread of its own (issue #16). The store's transactions were 40 % of the
 * service's CPU in a backfill, on the one thread that also reads Cliniko, projects and writes to
 * Salesforce; here they run on a second core while that thread goes on. Every method of `Store` is
 * forwarded as a message and answered in the order the calls were made (one thread runs them one at a
 * time, each in its own transaction, exactly as the one-thread store did); what the service awaits it
 * gets as with PostgreSQL, later. The audit rows of completeWrites, holdContact and resolveContactHold,
 * which chain onto the head read inside the transaction, are built here ahead of the call
 * (`prebuiltAudit`); any other function argument (a prune's, which needs the count the transaction
 * deletes) runs here while the store's thread waits for it. If the thread fails, every call fails with
 * STORE_UNAVAILABLE (the health check reports it) until the process is restarted. One process owns the
 * file, as before: this thread is its one connection.
 */
export function openThreadedSqlite(
  path: string,
  keys: { readonly active: Buffer; readonly retired: readonly Buffer[] },
): Store {
  const { port1: answers, port2: answersForThread } = new MessageChannel();
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const worker = new Worker(threadEntry(), {
    workerData: {
      path,
      activeKey: new Uint8Array(keys.active),
      retiredKeys: keys.retired.map((key) => new Uint8Array(key)),
      answers: answersForThread,
      signal,
    },
    transferList: [answersForThread],
    ...(import.meta.url.endsWith('.ts') ? { execArgv: withTsx(process.execArgv) } : {}),
  });
  const pending = new Map<number, Pending>();
  let failure: Error | undefined;
  worker.unref();

  const settleAll = (error: Error): void => {
    failure ??= error;
    for (const call of pending.values()) call.reject(failure);
    pending.clear();
  };
  worker.on('message', (reply: StoreReply) => {
    const call = pending.get(reply.call);
    if (call === undefined) return;
    if (reply.kind === 'callback') {
      answers.postMessage(runCallback(call, reply.index, reply.args));
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      return;
    }
    pending.delete(reply.call);
    if (pending.size === 0) worker.unref();
    settle(call, reply);
  });
  worker.on('error', (err: Error) =>
    settleAll(
      new SyncError('STORE_UNAVAILABLE', `the store's thread failed: ${err.message}`, { cause: err }),
    ),
  );
  worker.on('exit', () => settleAll(new SyncError('STORE_UNAVAILABLE', "the store's thread has stopped")));

  const call = caller(worker, pending, () => failure);
  const chained = prebuiltAudit(call);
  const methods = Object.fromEntries(
    FORWARDED.map((name) => [name, (...args: unknown[]) => call(name, args)]),
  ) as unknown as Omit<Store, 'kind' | 'close'>;
  const store: Store = {
    kind: 'sqlite',
    ...methods,
    completeWrites: (writes, audit, now) => chained('completeWrites', [writes, audit, now], 1),
    holdContact: (hold, block, audit, now) => chained('holdContact', [hold, block, audit, now], 2),
    resolveContactHold: (patientId, resolution, audit, now) =>
      chained('resolveContactHold', [patientId, resolution, audit, now], 2),
    close: async () => {
      if (failure === undefined) await call('close', []);
      failure ??= new SyncError('STORE_UNAVAILABLE', 'the store is closed');
      await worker.terminate();
    },
  };
  return store;
}

/** Sends a call to the store's thread; its promise settles with the reply (or the thread's failure). */
function caller(worker: Worker, pending: Map<number, Pending>, failed: () => Error | undefined): Call {
  let next = 1;
  return (method, args) => {
    const failure = failed();
    if (failure !== undefined) return Promise.reject(failure);
    const id = next++;
    const callbacks: Array<(...a: unknown[]) => unknown> = [];
    const wireArgs = args.map((arg) => {
      if (typeof arg !== 'function') return arg;
      callbacks.push(arg as (...a: unknown[]) => unknown);
      return { callback: callbacks.length - 1 };
    });
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, callbacks });
      if (pending.size === 1) worker.ref();
      try {
        worker.postMessage({ id, method, args: wireArgs } satisfies StoreCall);
      } catch (err) {
        pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  };
}

type Call = (method: string, args: readonly unknown[]) => Promise<unknown>;

/**
 * The audit builders of the hot paths, run before the call instead of inside its transaction (a drain
 * completion's thousands of chained entries would otherwise hold the store's thread while this one
 * builds them): each is built onto the head this side expects (the last row it sent, or the stored
 * head, asked for), and the store's thread applies the rows only if that is still the head in its
 * transaction, else refuses the call whole (`AuditHeadMoved`) and it is built again onto the head as
 * it is. Builds are made one at a time, in call order, so calls made one after another chain in order.
 */
function prebuiltAudit(call: Call) {
  let head: AuditHead | null | undefined;
  let line: Promise<unknown> = Promise.resolve();
  let lastSent = 0;
  return async <T>(method: string, args: unknown[], index: number): Promise<T> => {
    const build = args[index] as (previous: AuditHead | null) => AuditRow[];
    for (let attempt = 1; ; attempt += 1) {
      const sending = line.then(async () => {
        head ??= await storedHead(call);
        const expected = head;
        const rows = build(expected);
        const last = rows[rows.length - 1];
        if (last !== undefined) head = { hash: last.hash, entry: last.entry };
        const id = ++lastSent;
        const wire = [...args];
        wire[index] = { prebuilt: { expected: expected?.hash ?? null, rows } } satisfies PrebuiltMarker;
        return { id, reply: call(method, wire) as Promise<{ value: T; head: AuditHead | null }> };
      });
      line = sending.catch(() => undefined);
      const { id, reply } = await sending;
      try {
        const answer = await reply;
        // Nothing sent since: the stored head is known exactly (the rows may not have been needed).
        if (id === lastSent) head = answer.head;
        return answer.value;
      } catch (err) {
        // The rows were not stored: the head is asked for again before the next build.
        head = undefined;
        if (!(err instanceof Error && err.name === 'AuditHeadMoved') || attempt >= MAX_REBUILDS) throw err;
      }
    }
  };
}

const MAX_REBUILDS = 20;

async function storedHead(call: Call): Promise<AuditHead | null> {
  const row = (await call('lastAuditRow', [])) as AuditHead | undefined;
  return row === undefined ? null : { hash: row.hash, entry: row.entry };
}

function settle(call: Pending, reply: Exclude<StoreReply, { kind: 'callback' }>): void {
  if (reply.kind === 'result') call.resolve(reply.value);
  else call.reject(errorFromWire(reply.error));
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly callbacks: ReadonlyArray<(...a: unknown[]) => unknown>;
}

function runCallback(
  call: Pending,
  index: number,
  args: readonly unknown[],
): { value?: unknown; error?: unknown } {
  try {
    const callback = call.callbacks[index];
    if (callback === undefined) throw new Error(`no callback ${index} for this store call`);
    return { value: callback(...args) };
  } catch (err) {
    return { error: errorToWire(err) };
  }
}

/** The thread's module: the compiled one beside this file, or the source through tsx in development. */
function threadEntry(): URL {
  return new URL(
    import.meta.url.endsWith('.ts') ? './store-thread.ts' : './store-thread.js',
    import.meta.url,
  );
}

function withTsx(execArgv: readonly string[]): string[] {
  return execArgv.some((arg) => arg.includes('tsx')) ? [...execArgv] : [...execArgv, '--import', 'tsx'];
}

/** Every method of Store but `kind` and `close`; the type below fails to compile if one is missing. */
const FORWARDED = [
  'migrate',
  'ping',
  'getWatermark',
  'listWatermarks',
  'commitBatch',
  'getRecordStates',
  'pendingPayloadHashes',
  'listRecordStates',
  'forgetRecordStates',
  'claimOutbox',
  'completeWrites',
  'retryLater',
  'deadLetter',
  'openDeadLetterHashes',
  'blockOutbox',
  'markPublishing',
  'unwrittenFailedPatients',
  'holdContact',
  'listContactHolds',
  'resolveContactHold',
  'listBlocked',
  'listDeadLetters',
  'getDeadLetter',
  'replayDeadLetter',
  'listQuarantinePayloads',
  'listQuarantine',
  'releaseQuarantine',
  'listFacts',
  'listFactPatientIds',
  'listJourneyDue',
  'readJourneyChunk',
  'getFacts',
  'listResourceFacts',
  'announcedEvents',
  'getSignpost',
  'dueReminders',
  'remindersFingerprint',
  'getReferenceLists',
  'saveReferenceLists',
  'getJourneyState',
  'getJourneyStates',
  'listJourneyStates',
  'startRun',
  'finishRun',
  'listRuns',
  'lastAuditRow',
  'listAudit',
  'pruneAudit',
  'acquireLease',
  'releaseLease',
  'renewLeases',
  'holdOutboxItems',
  'releaseLeases',
  'outboxStats',
] as const satisfies ReadonlyArray<keyof Store>;
type Unforwarded = Exclude<keyof Store, (typeof FORWARDED)[number] | 'kind' | 'close'>;
const everyMethodForwarded: [Unforwarded] extends [never] ? true : Unforwarded = true;
void everyMethodForwarded;
