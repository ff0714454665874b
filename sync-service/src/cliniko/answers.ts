import type { Dispatcher } from 'undici';
import { SyncError, type ErrorCode } from '../errors.js';
import { rateLimitDelayMs } from './backoff.js';

/**
 * What one HTTP exchange with Cliniko means for the transport: a usable answer, one to retry (and whether
 * it was a 429, which pauses the whole budget) or a permanent failure. Pure functions of the answer; the
 * transport (transport.ts) owns the sending, the budget and the retry loop.
 */

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
  /** The server's `Date` header as ISO 8601, for signposts taken on Cliniko's clock. */
  readonly serverDate: string | undefined;
  readonly url: string;
}

export type Outcome =
  | { readonly kind: 'ok'; readonly response: JsonResponse }
  | {
      readonly kind: 'retry';
      readonly error: SyncError;
      readonly delayMs?: number;
      readonly rateLimited: boolean;
    }
  | { readonly kind: 'fail'; readonly error: SyncError };

export type ResponseHeaders = Dispatcher.ResponseData['headers'];

/** The Cliniko record an exchange concerns, for error records and messages (never values). */
export interface ExchangeRecord {
  readonly system: 'cliniko';
  readonly object?: string;
  readonly id?: string;
}

/** A complete answer: status, headers and body text. */
export interface Answer {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly text: string;
}

/** A 422 from Cliniko: names the fields it rejected, never the values sent. */
export class ClinikoValidationError extends SyncError {
  readonly fields: readonly string[];
  constructor(object: string, id: string | undefined, fields: readonly string[]) {
    super(
      'CLINIKO_VALIDATION_FAILED',
      `Cliniko rejected the write to ${object}${id ? ` ${id}` : ''}: invalid field${fields.length === 1 ? '' : 's'} ${
        fields.length > 0 ? fields.join(', ') : '(none named)'
      }`,
      {
        record: {
          system: 'cliniko',
          object,
          ...(id ? { id } : {}),
          ...(fields[0] ? { field: fields[0] } : {}),
        },
        upstreamCode: '422',
      },
    );
    this.name = 'ClinikoValidationError';
    this.fields = fields;
  }
}

/** Connection refused or reset, socket closed mid-body, header or body time-out: retried. */
export function networkFailure(record: ExchangeRecord, err: unknown): Outcome {
  const code = (err as { code?: unknown }).code;
  return {
    kind: 'retry',
    rateLimited: false,
    error: new SyncError(
      'CLINIKO_UNAVAILABLE',
      `Cliniko request for ${record.object ?? 'the API'} failed before a complete answer`,
      {
        record,
        upstreamCode: typeof code === 'string' ? code : 'NETWORK',
        cause: err,
      },
    ),
  };
}

/**
 * Classifies a complete answer. `validate` checks a 2xx JSON body (a returned problem makes it malformed,
 * and so retried); `nowMs` is the local clock, against which a 429's reset is measured.
 */
export function classifyAnswer(
  answer: Answer,
  record: ExchangeRecord,
  url: string,
  validate: ((body: unknown) => string | undefined) | undefined,
  nowMs: () => number,
): Outcome {
  const { status } = answer;
  if (status >= 200 && status < 300) return successOutcome(answer, record, url, validate);
  if (status === 429) return rateLimitedOutcome(answer, record, nowMs());
  if (status >= 500 || status === 408) {
    return {
      kind: 'retry',
      rateLimited: false,
      error: new SyncError(
        'CLINIKO_UNAVAILABLE',
        `Cliniko answered ${status} for ${record.object ?? 'the API'}`,
        {
          record,
          upstreamCode: String(status),
        },
      ),
    };
  }
  return permanentFailure(answer, record);
}

function successOutcome(
  { status, headers, text }: Answer,
  record: ExchangeRecord,
  url: string,
  validate: ((body: unknown) => string | undefined) | undefined,
): Outcome {
  let body: unknown = null;
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch (err) {
      return { kind: 'retry', rateLimited: false, error: malformed(record, 'is not valid JSON', err) };
    }
  }
  const problem = validate?.(body);
  if (problem !== undefined) return { kind: 'retry', rateLimited: false, error: malformed(record, problem) };
  return { kind: 'ok', response: { status, body, serverDate: serverDateIso(headers), url } };
}

function rateLimitedOutcome({ status, headers }: Answer, record: ExchangeRecord, nowMs: number): Outcome {
  const delayMs = rateLimitDelayMs(
    {
      retryAfter: headerValue(headers, 'retry-after'),
      rateLimitReset: headerValue(headers, 'x-ratelimit-reset'),
      date: headerValue(headers, 'date'),
    },
    nowMs,
  );
  return {
    kind: 'retry',
    rateLimited: true,
    ...(delayMs === undefined ? {} : { delayMs }),
    error: new SyncError(
      'CLINIKO_RATE_LIMITED',
      `Cliniko kept answering 429 for ${record.object ?? 'the API'}`,
      {
        record,
        upstreamCode: String(status),
      },
    ),
  };
}

/** 401/403, 404, 422 and any other 4xx: never retried. */
function permanentFailure({ status, text }: Answer, record: ExchangeRecord): Outcome {
  const upstreamCode = String(status);
  const fail = (code: ErrorCode, message: string): Outcome => ({
    kind: 'fail',
    error: new SyncError(code, message, { record, upstreamCode }),
  });
  if (status === 401 || status === 403) {
    return fail(
      'CLINIKO_AUTH_FAILED',
      `Cliniko rejected the API key (${status}); check the key and its shard`,
    );
  }
  if (status === 404)
    return fail(
      'CLINIKO_NOT_FOUND',
      `Cliniko has no ${record.object ?? 'resource'}${record.id ? ` ${record.id}` : ''}`,
    );
  if (status === 422) {
    return {
      kind: 'fail',
      error: new ClinikoValidationError(record.object ?? 'resource', record.id, validationFields(text)),
    };
  }
  return fail(
    'CLINIKO_BAD_REQUEST',
    `Cliniko answered ${status} for ${record.object ?? 'the API'}${upstreamMessage(text)}`,
  );
}

/** The server's `Date` header as ISO 8601, or undefined when absent or unreadable. */
function serverDateIso(headers: ResponseHeaders): string | undefined {
  const serverDate = headerValue(headers, 'date');
  return serverDate && Number.isFinite(Date.parse(serverDate))
    ? new Date(Date.parse(serverDate)).toISOString()
    : undefined;
}

export function malformed(record: ExchangeRecord, problem: string, cause?: unknown): SyncError {
  return new SyncError(
    'CLINIKO_MALFORMED_RESPONSE',
    `Cliniko's answer for ${record.object ?? 'the API'} ${problem}`,
    {
      record,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** The field names of a 422 body; its messages are dropped because they may quote the rejected value. */
function validationFields(text: string): string[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (body.errors && typeof body.errors === 'object' && !Array.isArray(body.errors)) {
      return Object.keys(body.errors).sort();
    }
  } catch {
    // A 422 without the documented body still fails the write; it just names no field.
  }
  return [];
}

/**
 * Cliniko's 400 message (e.g. "This column is not searchable.") helps an operator; it is kept short and
 * only when it is a plain sentence, since our queries never carry patient data.
 */
function upstreamMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string' && body.message.length <= 200) return `: ${body.message}`;
  } catch {
    // Not JSON: say nothing rather than echo an arbitrary page.
  }
  return '';
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value[0];
  return typeof value === 'string' ? value : undefined;
}

/** The resource and id a URL addresses (`patients`, `123`), for error records and logs. */
export function objectOf(url: string, baseUrl: string): { object?: string; id?: string } {
  try {
    const root = new URL(baseUrl).pathname.replace(/\/+$/, '');
    const rest = new URL(url).pathname
      .slice(root.length)
      .split('/')
      .filter((s) => s !== '');
    const object = rest[0];
    const id = rest[1] !== undefined && /^\d+$/.test(rest[1]) ? rest[1] : undefined;
    return { ...(object ? { object } : {}), ...(id ? { id } : {}) };
  } catch {
    return {};
  }
}

/** Path only: query strings may hold filter values and never go to the log. */
export function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(invalid url)';
  }
}
