import { SyncError, type ErrorCode } from '../errors.js';

/**
 * Salesforce error codes -> what the sync does about them. Only the codes listed as transient, limit
 * or session are retried; everything else is permanent and dead-lettered with its code.
 * Codes: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_concepts_core_data_objects.htm
 */
export type SalesforceErrorKind = 'transient' | 'limit' | 'session' | 'permanent';

const TRANSIENT = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'REQUEST_RUNNING_TOO_LONG',
  'QUERY_TIMEOUT',
  'TXN_SECURITY_METERING_ERROR',
  // With allOrNone the good records roll back only because a sibling failed; they are safe to retry.
  'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  // jsforce gave up waiting for a Bulk API job (it may still finish): re-sending the upserts is harmless.
  'JobPollingTimeout',
]);
const LIMIT = new Set([
  'REQUEST_LIMIT_EXCEEDED',
  'API_DISABLED_FOR_ORG_LIMIT',
  'CONCURRENT_REQUEST_LIMIT_EXCEEDED',
]);
const SESSION = new Set(['INVALID_SESSION_ID']);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function classifySalesforceCode(code: string | undefined, httpStatus?: number): SalesforceErrorKind {
  if (code && SESSION.has(code)) return 'session';
  if (code && LIMIT.has(code)) return 'limit';
  if (code && (TRANSIENT.has(code) || NETWORK.has(code))) return 'transient';
  if (httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429)) return 'transient';
  return 'permanent';
}

const KIND_TO_CODE: Record<SalesforceErrorKind, ErrorCode> = {
  transient: 'SALESFORCE_UNAVAILABLE',
  limit: 'SALESFORCE_REQUEST_LIMIT',
  session: 'SALESFORCE_SESSION_EXPIRED',
  permanent: 'SALESFORCE_RECORD_REJECTED',
};

/** The catalogue code for a classified Salesforce error (a row lock has its own). */
export function catalogueCode(kind: SalesforceErrorKind, upstreamCode: string): ErrorCode {
  return upstreamCode === 'UNABLE_TO_LOCK_ROW' ? 'SALESFORCE_RECORD_LOCKED' : KIND_TO_CODE[kind];
}

/** The SyncError for one Salesforce error code (record-level or call-level). */
export function salesforceSyncError(
  upstreamCode: string,
  message: string,
  record: { object: string; id?: string; field?: string },
  httpStatus?: number,
): SyncError {
  const kind = classifySalesforceCode(upstreamCode, httpStatus);
  const code: ErrorCode = catalogueCode(kind, upstreamCode);
  return new SyncError(code, message, { upstreamCode, record: { system: 'salesforce', ...record } });
}

interface JsforceLikeError {
  errorCode?: unknown;
  name?: unknown;
  code?: unknown;
  message?: unknown;
  statusCode?: unknown;
  status?: unknown;
  data?: unknown;
}

/** A whole call failed (HTTP error, network, expired session): turn jsforce's error into a SyncError. */
export function callFailure(err: unknown, object: string): SyncError {
  if (err instanceof SyncError) return err;
  const e = (err ?? {}) as JsforceLikeError;
  const status =
    typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  const networkCode = findNetworkCode(err);
  const upstream =
    networkCode ??
    ((typeof e.errorCode === 'string' && e.errorCode) ||
      (typeof e.code === 'string' && e.code) ||
      (typeof e.name === 'string' && e.name !== 'Error' && e.name) ||
      (status !== undefined ? String(status) : 'UNKNOWN'));
  const message = typeof e.message === 'string' ? e.message : 'Salesforce call failed';
  const kind = classifySalesforceCode(
    upstream,
    status ?? (/^\d{3}$/.test(upstream) ? Number(upstream) : undefined),
  );
  const code = catalogueCode(kind, upstream);
  return new SyncError(code, `${object}: ${withoutValues(message)}`, {
    upstreamCode: upstream,
    record: { system: 'salesforce', object },
    cause: err,
  });
}

/** A dropped or refused connection anywhere in the cause chain (undici nests it in `cause`). */
function findNetworkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK.has(code)) return code;
    const message = (current as { message?: unknown }).message;
    if (message === 'fetch failed' || message === 'socket hang up') return 'ECONNRESET';
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Salesforce echoes the rejected value in some error messages ("Email: invalid email address: <value>",
 * "data value too large: <value> (max length=80)", ...). Those messages end up in dead letters, the
 * admin API and logs, which must never carry patient data: the value is withheld, the field and the
 * reason are kept. Known formats are matched by their wording; besides, any text value of the record
 * that was sent (when known, except its identifiers) is withheld wherever it appears.
 */
const VALUE_ECHOES: ReadonlyArray<[RegExp, string]> = [
  [/(data value too large: ).*?( \(max length=\d+\))/gis, '$1[value withheld]$2'],
  [/(data value too large: )(?!\[value withheld\] \(max length).*$/gis, '$1[value withheld]'],
  [/(invalid email address: ).*$/gis, '$1[value withheld]'],
  [/(bad value for restricted picklist field: ).*$/gis, '$1[value withheld]'],
  [/(value outside of valid range on numeric field: ).*$/gis, '$1[value withheld]'],
  [/(value not of required type: ).*$/gis, '$1[value withheld]'],
  [/(from \w+ value ).*?( or request may be missing)/gis, '$1[value withheld]$2'],
];

export function withoutValues(message: string, record?: Readonly<Record<string, unknown>>): string {
  let out = message;
  for (const [pattern, replacement] of VALUE_ECHOES) out = out.replace(pattern, replacement);
  if (record) {
    // Identifiers (external ids, keys, parent references) name the record and stay readable.
    const texts = Object.entries(record)
      .filter(([field]) => !/(_Id__c|_Key__c)$/.test(field))
      .map(([, v]) => v)
      .filter((v): v is string => typeof v === 'string' && v.length >= 4)
      .sort((a, b) => b.length - a.length);
    for (const text of texts) out = out.split(text).join('[value withheld]');
  }
  return out;
}
