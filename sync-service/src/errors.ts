/**
 * The one error catalogue. Every failure the service acts on has a stable code and a `retryable`
 * flag; only retryable errors are retried, anything else is quarantined or dead-lettered with its code
 * and the record's key. Messages must never carry patient data or secrets: name the record and field,
 * never the value.
 */
export const ERROR_CATALOGUE = {
  CONFIG_INVALID: { retryable: false, description: 'Configuration is missing or invalid.' },
  ENCRYPTION_KEY_MISSING: {
    retryable: false,
    description: 'PHI-bearing storage needs SYNC_ENCRYPTION_KEY; the service will not start without it.',
  },
  DATA_MAP_INVALID: { retryable: false, description: 'config/data-map.yaml fails validation.' },
  DATA_MAP_NOT_SIGNED: {
    retryable: false,
    description: 'The data map differs from its last sign-off; sync refuses to run (dry-run still works).',
  },
  CLINIKO_AUTH_FAILED: {
    retryable: false,
    description: 'Cliniko rejected the API key (bad key or wrong shard).',
  },
  CLINIKO_RATE_LIMITED: {
    retryable: true,
    description: 'Cliniko answered 429; wait until X-RateLimit-Reset.',
  },
  CLINIKO_UNAVAILABLE: {
    retryable: true,
    description: 'Cliniko answered 5xx, timed out or dropped the connection.',
  },
  CLINIKO_BAD_REQUEST: {
    retryable: false,
    description: 'Cliniko answered 400 (e.g. a column that is not searchable).',
  },
  CLINIKO_NOT_FOUND: { retryable: false, description: 'Cliniko answered 404.' },
  CLINIKO_VALIDATION_FAILED: { retryable: false, description: 'Cliniko answered 422 to a write.' },
  CLINIKO_MALFORMED_RESPONSE: {
    retryable: true,
    description: 'Cliniko sent a body that is not the JSON it documents.',
  },
  CLINIKO_INVALID_RECORD: {
    retryable: false,
    description: 'A Cliniko record failed schema validation; it is quarantined, the rest continue.',
  },
  SALESFORCE_AUTH_FAILED: { retryable: false, description: 'Salesforce refused the OAuth grant.' },
  SALESFORCE_SESSION_EXPIRED: {
    retryable: true,
    description: 'INVALID_SESSION_ID: refresh the token and retry.',
  },
  SALESFORCE_UNAVAILABLE: {
    retryable: true,
    description: 'Salesforce answered 5xx, timed out or dropped the connection.',
  },
  SALESFORCE_RECORD_LOCKED: {
    retryable: true,
    description: 'UNABLE_TO_LOCK_ROW: another transaction holds the row.',
  },
  SALESFORCE_REQUEST_LIMIT: {
    retryable: true,
    description: 'REQUEST_LIMIT_EXCEEDED or the configured share of the daily API allowance is used: pause.',
  },
  SALESFORCE_RECORD_REJECTED: {
    retryable: false,
    description: 'Salesforce rejected the record (validation, FLS, picklist, length...): dead-lettered.',
  },
  EVENT_PUBLISH_IN_DOUBT: {
    retryable: false,
    description:
      'A crash interrupted a platform event publish before the store recorded it: never re-published blindly; replay it once checked.',
  },
  STORE_UNAVAILABLE: { retryable: true, description: 'The database could not be reached.' },
  STORE_CONFLICT: { retryable: true, description: 'A lease or serialisation conflict in the database.' },
  AUDIT_CHAIN_BROKEN: { retryable: false, description: 'The audit log hash chain does not verify.' },
  UNAUTHORIZED: { retryable: false, description: 'Missing or invalid admin bearer token.' },
  FORBIDDEN: { retryable: false, description: 'The admin token lacks the role this action needs.' },
  INTERNAL: { retryable: false, description: 'An unexpected error; a bug to report.' },
} as const satisfies Record<string, { retryable: boolean; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Where the failing record lives, so an operator can find and replay it. Never field values. */
export interface RecordRef {
  readonly system: 'cliniko' | 'salesforce' | 'store' | 'config';
  readonly object?: string;
  readonly id?: string;
  readonly field?: string;
}

export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly record: RecordRef | undefined;
  /** Upstream error code or HTTP status, e.g. `UNABLE_TO_LOCK_ROW` or `503`. */
  readonly upstreamCode: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { record?: RecordRef; upstreamCode?: string; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncError';
    this.code = code;
    // A caller may only narrow retryability (e.g. a retryable code that exhausted its attempts),
    // never make a permanent error retryable.
    this.retryable = ERROR_CATALOGUE[code].retryable && options.retryable !== false;
    this.record = options.record;
    this.upstreamCode = options.upstreamCode;
  }

  toJSON(): {
    code: ErrorCode;
    retryable: boolean;
    message: string;
    record?: RecordRef;
    upstreamCode?: string;
  } {
    return {
      code: this.code,
      retryable: this.retryable,
      message: this.message,
      ...(this.record ? { record: this.record } : {}),
      ...(this.upstreamCode ? { upstreamCode: this.upstreamCode } : {}),
    };
  }
}

export function isSyncError(err: unknown): err is SyncError {
  return err instanceof SyncError;
}

/** Only errors the catalogue marks retryable are retried; anything unknown is treated as permanent. */
export function isRetryable(err: unknown): boolean {
  return isSyncError(err) && err.retryable;
}
