import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { createKeyring } from '../governance/encryption.js';
import { SqliteStore } from '../store/index.js';
import { keyringCipher } from './cipher.js';
import type { AuditHead, AuditRow } from '../store/index.js';
import {
  errorFromWire,
  errorToWire,
  isCallbackMarker,
  isPrebuiltMarker,
  type PrebuiltMarker,
  type StoreCall,
  type StoreReply,
  type WireError,
} from './store-thread-wire.js';

/**
 * The SQLite store's own thread (threaded-store.ts starts it): the store, its payload cipher and every
 * statement run here, one call at a time in the order the service made them, so the service's thread
 * reads Cliniko, projects and writes to Salesforce meanwhile (issue #16).
 */
interface ThreadData {
  readonly path: string;
  readonly activeKey: Uint8Array;
  readonly retiredKeys: readonly Uint8Array[];
  /** Where the service answers a callback (a prune's entry) while this thread waits in the transaction. */
  readonly answers: MessagePort;
  /** Set to 1 by the service once an answer is on `answers`. */
  readonly signal: SharedArrayBuffer;
}

const data = workerData as ThreadData;
const port = ((): MessagePort => {
  if (parentPort === null) throw new Error('store-thread.ts runs as a worker thread (threaded-store.ts)');
  return parentPort;
})();

const store = new SqliteStore(
  data.path,
  keyringCipher(
    createKeyring(
      Buffer.from(data.activeKey),
      data.retiredKeys.map((key) => Buffer.from(key)),
    ),
  ),
);
const signal = new Int32Array(data.signal);

/**
 * A function argument of the call (pruneAudit's entry builder, which needs the count the transaction
 * deletes; the other audit builders arrive as rows built ahead, `prebuilt`) runs on the service's
 * thread; this thread waits for its answer, the transaction open, as the one-thread store did.
 */
function remote(call: number, index: number) {
  return (...args: unknown[]): unknown => {
    port.postMessage({ kind: 'callback', call, index, args } satisfies StoreReply);
    for (;;) {
      const answer: { message: { value?: unknown; error?: WireError } } | undefined = receiveMessageOnPort(
        data.answers,
      );
      if (answer !== undefined) {
        if (answer.message.error !== undefined) throw errorFromWire(answer.message.error);
        return answer.message.value;
      }
      Atomics.wait(signal, 0, 0, 1_000);
      Atomics.store(signal, 0, 0);
    }
  };
}

/** The rows built ahead, as the builder the store calls inside its transaction (threaded-store.ts). */
function prebuilt(marker: PrebuiltMarker) {
  return (previous: AuditHead | null): AuditRow[] => {
    if ((previous?.hash ?? null) !== marker.prebuilt.expected) {
      const moved = new Error('the audit head moved since the rows were built; they are built again');
      moved.name = 'AuditHeadMoved';
      throw moved;
    }
    return [...marker.prebuilt.rows];
  };
}

port.on('message', (call: StoreCall) => {
  const withPrebuilt = call.args.some(isPrebuiltMarker);
  const args = call.args.map((arg) =>
    isCallbackMarker(arg) ? remote(call.id, arg.callback) : isPrebuiltMarker(arg) ? prebuilt(arg) : arg,
  );
  const method = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[call.method];
  let result: Promise<unknown>;
  try {
    if (typeof method !== 'function') throw new Error(`the store has no method ${call.method}`);
    result = method.apply(store, args);
  } catch (err) {
    result = Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
  if (withPrebuilt) {
    // The head after the call, so the service's thread knows what the next rows chain onto.
    result = result.then(async (value) => {
      const last = await store.lastAuditRow();
      return { value, head: last === undefined ? null : { hash: last.hash, entry: last.entry } };
    });
  }
  result.then(
    (value) => port.postMessage({ kind: 'result', call: call.id, value } satisfies StoreReply),
    (err: unknown) =>
      port.postMessage({ kind: 'error', call: call.id, error: errorToWire(err) } satisfies StoreReply),
  );
});
