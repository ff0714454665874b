import { SyncError, type ErrorCode } from '../errors.js';
import type { AuditRow } from '../store/index.js';

/** What crosses between the service's thread and the store's (threaded-store.ts, store-thread.ts). */
export interface StoreCall {
  readonly id: number;
  readonly method: string;
  /** Structured-cloned; a function argument travels as a marker and runs on the service's thread. */
  readonly args: readonly unknown[];
}

export type StoreReply =
  | { readonly kind: 'result'; readonly call: number; readonly value: unknown }
  | { readonly kind: 'error'; readonly call: number; readonly error: WireError }
  | {
      readonly kind: 'callback';
      readonly call: number;
      readonly index: number;
      readonly args: readonly unknown[];
    };

export interface CallbackMarker {
  readonly callback: number;
}

/**
 * An audit builder's rows, built on the service's thread onto the head it expected (threaded-store.ts,
 * prebuiltAudit): applied only if that is the head inside the transaction.
 */
export interface PrebuiltMarker {
  readonly prebuilt: { readonly expected: string | null; readonly rows: readonly AuditRow[] };
}

export function isPrebuiltMarker(value: unknown): value is PrebuiltMarker {
  return (
    typeof value === 'object' && value !== null && 'prebuilt' in value && Object.keys(value).length === 1
  );
}

export function isCallbackMarker(value: unknown): value is CallbackMarker {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 1 &&
    typeof (value as Partial<CallbackMarker>).callback === 'number'
  );
}

/** An error's own fields (a SyncError's code and record, node:sqlite's errcode), never a payload. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly errcode?: unknown;
  readonly errstr?: unknown;
  readonly retryable?: unknown;
  readonly record?: unknown;
  readonly upstreamCode?: unknown;
}

export function errorToWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const fields = err as Error & Record<string, unknown>;
  return {
    name: err.name,
    message: err.message,
    ...(fields.code !== undefined ? { code: fields.code } : {}),
    ...(fields.errcode !== undefined ? { errcode: fields.errcode } : {}),
    ...(fields.errstr !== undefined ? { errstr: fields.errstr } : {}),
    ...(err instanceof SyncError
      ? { retryable: err.retryable, record: err.record, upstreamCode: err.upstreamCode }
      : {}),
  };
}

/** The error again, on the service's thread: a SyncError stays one (callers read its code). */
export function errorFromWire(wire: WireError): Error {
  if (wire.name === 'SyncError') {
    return new SyncError(wire.code as ErrorCode, wire.message, {
      ...(wire.record !== undefined ? { record: wire.record as never } : {}),
      ...(typeof wire.upstreamCode === 'string' ? { upstreamCode: wire.upstreamCode } : {}),
      ...(wire.retryable === false ? { retryable: false } : {}),
    });
  }
  const error = new Error(wire.message) as Error & Record<string, unknown>;
  error.name = wire.name;
  for (const key of ['code', 'errcode', 'errstr'] as const)
    if (wire[key] !== undefined) error[key] = wire[key];
  return error;
}
