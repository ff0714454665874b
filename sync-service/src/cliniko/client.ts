import type { Config } from '../config/index.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BackoffPolicy } from './backoff.js';
import type { Clock, Sleep } from './budget.js';
import { RESOURCES, type RecordOf, type ResourceDefinition, type ResourceKey } from './resources.js';
import { patientPatchSchema, patientSchema, type ClinikoPatient, type PatientPatch } from './schemas.js';
import { createResourceStream, type ResourceStream } from './stream.js';
import { ClinikoTransport, type TransportStats } from './transport.js';

export interface ClinikoClientDeps {
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** Rolling window of the request budget (60 s unless a test shrinks it). */
  readonly budgetWindowMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly maxAttempts?: number;
  readonly maxRateLimitRetries?: number;
  readonly timeoutMs?: number;
}

export interface ConnectionCheck {
  readonly status: 'ok' | 'error';
  readonly latencyMs: number;
  /** Error code from the catalogue when status is `error`. */
  readonly code?: string;
}

export type ClinikoStreams = { readonly [K in ResourceKey]: ResourceStream<RecordOf<K>> };

export interface ClinikoClient {
  readonly streams: ClinikoStreams;
  /** One patient by id, archived ones included. */
  getPatient(id: string): Promise<ClinikoPatient>;
  /**
   * Partial update of a patient's contact details (the data map's write-back fields). The body is
   * checked against the fields the sync may write; Cliniko's 422 becomes a ClinikoValidationError naming
   * the fields. Returns the patient as Cliniko now has it.
   */
  patchPatient(id: string, fields: PatientPatch): Promise<ClinikoPatient>;
  /** One cheap authenticated GET, one attempt, for /health. */
  checkConnection(): Promise<ConnectionCheck>;
  /** Budget and retry counters for /metrics. */
  stats(): TransportStats;
  close(): Promise<void>;
}

/**
 * The Cliniko client: a transport (base URL, auth, User-Agent, budget, retries, pagination) and the
 * resource streams over it. One per process; every stream shares the one per-key budget.
 */
export function createClinikoClient(
  config: Config['cliniko'],
  logger: Logger,
  deps: ClinikoClientDeps = {},
): ClinikoClient {
  const log = logger.child({ module: 'cliniko' });
  const clock = deps.clock ?? Date.now;
  const transport = createTransport(config, log, clock, deps);

  const streams = Object.fromEntries(
    (Object.keys(RESOURCES) as ResourceKey[]).map((key) => [
      key,
      // The mapped type is rebuilt by hand: TypeScript cannot correlate the key with its definition here.
      createResourceStream(transport, RESOURCES[key] as ResourceDefinition, log),
    ]),
  ) as unknown as ClinikoStreams;

  return {
    streams,

    async getPatient(id) {
      checkId(id);
      // archived_at:* so an archived or merged-away patient is found, not a 404.
      const response = await transport.getJson(transport.url(`patients/${id}`, { 'q[]': ['archived_at:*'] }));
      return parsePatient(response.body, id);
    },

    async patchPatient(id, fields) {
      checkId(id);
      const patch = checkedPatch(id, fields);
      if (Object.keys(patch).length === 0) return this.getPatient(id);
      const response = await transport.sendJson('PATCH', `patients/${id}`, patch);
      log.info({ object: 'patients', id, fields: Object.keys(patch).sort() }, 'cliniko patient updated');
      return parsePatient(response.body, id);
    },

    checkConnection: () => checkConnection(transport, clock, log),
    stats: () => transport.stats(),
    close: () => transport.close(),
  };
}

function createTransport(
  config: Config['cliniko'],
  log: Logger,
  clock: Clock,
  deps: ClinikoClientDeps,
): ClinikoTransport {
  return new ClinikoTransport({
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    contactEmail: config.contactEmail,
    requestsPerMinute: config.requestsPerMinute,
    logger: log,
    clock,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.budgetWindowMs !== undefined ? { budgetWindowMs: deps.budgetWindowMs } : {}),
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
    ...(deps.maxAttempts !== undefined ? { maxAttempts: deps.maxAttempts } : {}),
    ...(deps.maxRateLimitRetries !== undefined ? { maxRateLimitRetries: deps.maxRateLimitRetries } : {}),
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
  });
}

/** One cheap authenticated GET with a single attempt, timed on the injected clock. */
async function checkConnection(
  transport: ClinikoTransport,
  clock: Clock,
  log: Logger,
): Promise<ConnectionCheck> {
  const started = clock();
  try {
    await transport.getJson(transport.url('businesses', { per_page: 1 }), { attempts: 1 });
    return { status: 'ok', latencyMs: Math.max(0, clock() - started) };
  } catch (err) {
    const code = err instanceof SyncError ? err.code : 'INTERNAL';
    log.warn({ code }, 'cliniko connection check failed');
    return { status: 'error', latencyMs: Math.max(0, clock() - started), code };
  }
}

function parsePatient(body: unknown, id: string): ClinikoPatient {
  const parsed = patientSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SyncError('CLINIKO_INVALID_RECORD', `Cliniko patient ${id} failed validation`, {
      record: {
        system: 'cliniko',
        object: 'patients',
        id,
        field: issue?.path.map(String).join('.') ?? '(record)',
      },
    });
  }
  return parsed.data;
}

function checkId(id: string): void {
  if (!/^\d{1,20}$/.test(id)) {
    throw new SyncError('CLINIKO_BAD_REQUEST', 'A Cliniko patient id must be a string of digits', {
      record: { system: 'cliniko', object: 'patients' },
    });
  }
}

/** The write-back body checked against the fields the sync may write; refused (naming fields) otherwise. */
function checkedPatch(id: string, fields: PatientPatch): PatientPatch {
  const checked = patientPatchSchema.safeParse(fields);
  if (checked.success) return checked.data;
  const fieldNames = [
    ...new Set(
      checked.error.issues.map((i) => (i.path.length > 0 ? i.path.map(String).join('.') : unknownKeys(i))),
    ),
  ];
  throw new SyncError(
    'CLINIKO_VALIDATION_FAILED',
    `Refusing to send patient ${id} fields Cliniko cannot take: ${fieldNames.join(', ')}`,
    {
      record: {
        system: 'cliniko',
        object: 'patients',
        id,
        ...(fieldNames[0] ? { field: fieldNames[0] } : {}),
      },
    },
  );
}

function unknownKeys(issue: { code: string; keys?: unknown }): string {
  return issue.code === 'unrecognized_keys' && Array.isArray(issue.keys)
    ? issue.keys.map(String).join(', ')
    : '(body)';
}
