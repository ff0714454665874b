import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import type { AdminToken } from '../config/index.js';
import { appointmentTypeInfo } from '../journey/appointment-type.js';
import type { JourneyConfig } from '../journey/index.js';
import type { DeadLetter, RunRecord, Store } from '../store/index.js';
import type { CycleMode } from '../sync/cycle/runner.js';
import type { TriggerResult } from '../runtime/scheduler.js';
import { requireRole, sendError } from './auth.js';

/**
 * The operator routes of the admin API: trigger a run, list and replay dead letters, list the
 * quarantine, list runs, and check an appointment type name against the journey config. GET routes need the viewer role, POST
 * routes the operator role. Responses never carry payload values: dead letters are listed by key,
 * error code and message (messages name records and fields, never values).
 */
export interface AdminRouteOptions {
  readonly tokens: readonly AdminToken[];
  readonly store: Pick<
    Store,
    | 'listDeadLetters'
    | 'getDeadLetter'
    | 'replayDeadLetter'
    | 'listRuns'
    | 'listQuarantine'
    | 'listContactHolds'
  >;
  readonly trigger: (mode: CycleMode) => Promise<TriggerResult>;
  readonly journeyConfig: JourneyConfig;
  readonly now: () => number;
}

export interface DeadLetterView {
  readonly id: string;
  readonly object: string;
  readonly externalId: string;
  readonly operation: string;
  readonly code: string;
  readonly upstreamCode: string | null;
  readonly message: string;
  readonly attempts: number;
  /** Every attempt since the record first failed, across re-queues and replays. */
  readonly totalAttempts: number;
  /** Failures folded into this letter (one open letter per record and slot). */
  readonly occurrences: number;
  readonly firstFailedAt: string;
  readonly runId: string;
  readonly createdAt: string;
  readonly replayedAt: string | null;
  /** `requeued`, or `dropped: <reason>` when a newer write superseded it. */
  readonly replayOutcome: string | null;
}

/** Everything about a dead letter except its payload. */
export function deadLetterView(d: DeadLetter): DeadLetterView {
  return {
    id: d.id,
    object: d.object,
    externalId: d.externalId,
    operation: d.operation,
    code: d.errorCode,
    upstreamCode: d.upstreamCode,
    message: d.errorMessage,
    attempts: d.attempts,
    totalAttempts: d.totalAttempts,
    occurrences: d.occurrences,
    firstFailedAt: new Date(d.firstFailedAt).toISOString(),
    runId: d.runId,
    createdAt: new Date(d.createdAt).toISOString(),
    replayedAt: d.replayedAt === null ? null : new Date(d.replayedAt).toISOString(),
    replayOutcome: d.replayOutcome,
  };
}

function runView(r: RunRecord) {
  let counts: unknown = {};
  try {
    counts = JSON.parse(r.counts) as unknown;
  } catch {
    counts = {};
  }
  return {
    id: r.id,
    mode: r.mode,
    status: r.status,
    startedAt: new Date(r.startedAt).toISOString(),
    finishedAt: r.finishedAt === null ? null : new Date(r.finishedAt).toISOString(),
    durationSeconds: r.finishedAt === null ? null : (r.finishedAt - r.startedAt) / 1000,
    counts,
    dataMapHash: r.dataMapHash,
    error: r.error,
  };
}

const limitQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    includeReplayed: { type: 'boolean', default: false },
  },
  additionalProperties: false,
} as const;

type Guard = ReturnType<typeof requireRole>;

/** `POST /sync/run`: starts a cycle now (empty body: incremental). */
function registerRunTrigger(app: FastifyInstance, options: AdminRouteOptions, operator: Guard): void {
  app.post<{ Body: { mode?: CycleMode } | undefined }>(
    '/sync/run',
    { onRequest: operator },
    async (request, reply) => {
      // An empty body means incremental; validated by hand because the body is optional.
      const body: unknown = request.body ?? {};
      const mode = typeof body === 'object' && body !== null ? (body as { mode?: unknown }).mode : undefined;
      if (
        typeof body !== 'object' ||
        body === null ||
        Object.keys(body).some((k) => k !== 'mode') ||
        (mode !== undefined && mode !== 'incremental' && mode !== 'backfill')
      ) {
        return sendError(reply, 400, 'BAD_REQUEST', 'body must be {} or {"mode":"incremental"|"backfill"}');
      }
      const result = await options.trigger(mode ?? 'incremental');
      if (!result.accepted) {
        const message =
          result.reason === 'running'
            ? 'a run is already in progress'
            : result.reason === 'leased-elsewhere'
              ? 'another instance is running a sync'
              : 'the scheduler is stopping';
        return reply.code(409).send({ error: { code: 'RUN_IN_PROGRESS', message, reason: result.reason } });
      }
      return reply.code(202).send({ runId: result.runId, mode: mode ?? 'incremental' });
    },
  );
}

/** `GET /dlq` and `POST /dlq/:id/replay`: dead letters by key and code, and putting one back. */
function registerDeadLetters(
  app: FastifyInstance,
  options: AdminRouteOptions,
  viewer: Guard,
  operator: Guard,
): void {
  app.get<{ Querystring: { limit: number; includeReplayed: boolean } }>(
    '/dlq',
    { onRequest: viewer, schema: { querystring: limitQuery } },
    async (request) => {
      const items = await options.store.listDeadLetters({
        limit: request.query.limit,
        includeReplayed: request.query.includeReplayed,
      });
      return { items: items.map(deadLetterView) };
    },
  );

  app.post<{ Params: { id: string } }>('/dlq/:id/replay', { onRequest: operator }, async (request, reply) => {
    const { id } = request.params;
    const item = await options.store.getDeadLetter(id);
    if (!item) {
      return sendError(reply, 404, 'NOT_FOUND', `no dead letter ${id}`);
    }
    if (item.replayedAt !== null) {
      return sendError(reply, 409, 'ALREADY_REPLAYED', `dead letter ${id} was already replayed`);
    }
    const now = options.now();
    const replayed = await options.store.replayDeadLetter(id, now, `replay-${now}`);
    if (!replayed) {
      return sendError(reply, 409, 'ALREADY_REPLAYED', `dead letter ${id} was already replayed`);
    }
    // A replay never writes older data over newer: a letter a newer write (or a queued newer payload)
    // superseded is closed with the reason instead (200); otherwise it is back in the outbox (202) and
    // the next cycle's drain writes it.
    const outcome = (await options.store.getDeadLetter(id))?.replayOutcome ?? 'requeued';
    if (outcome !== 'requeued') return reply.code(200).send({ id, replayed: false, dropped: outcome });
    return reply.code(202).send({ id, replayed: true });
  });
}

/**
 * `GET /quarantine`: records that failed validation or projection, newest last sighting first, with
 * resource, id, field, reason and first/last seen. Never values (the store's listing has none).
 */
function registerQuarantine(app: FastifyInstance, options: AdminRouteOptions, viewer: Guard): void {
  app.get<{ Querystring: { limit: number } }>(
    '/quarantine',
    {
      onRequest: viewer,
      schema: {
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { items, total } = await options.store.listQuarantine({ limit: request.query.limit });
      return { items, total };
    },
  );
}

/**
 * `GET /matches`: patients whose Contact the sync holds back (issue #19): in match review (several
 * Salesforce records could be the patient) or deleted in Salesforce. Patient and Salesforce ids only.
 */
function registerMatches(app: FastifyInstance, options: AdminRouteOptions, viewer: Guard): void {
  app.get<{ Querystring: { limit: number; all: boolean } }>(
    '/matches',
    {
      onRequest: viewer,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            all: { type: 'boolean', default: false },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const items = await options.store.listContactHolds({
        open: !request.query.all,
        limit: request.query.limit,
      });
      return { items, total: items.length };
    },
  );
}

/** `GET /runs`: run history, newest first. */
function registerRuns(app: FastifyInstance, options: AdminRouteOptions, viewer: Guard): void {
  app.get<{ Querystring: { limit: number } }>(
    '/runs',
    {
      onRequest: viewer,
      schema: {
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => ({
      runs: (await options.store.listRuns({ limit: request.query.limit })).map(runView),
    }),
  );
}

/** `GET /appointment-types/validate?name=`: what the journey does with that appointment type. */
function registerAppointmentTypes(app: FastifyInstance, options: AdminRouteOptions, viewer: Guard): void {
  app.get<{ Querystring: { name: string } }>(
    '/appointment-types/validate',
    {
      onRequest: viewer,
      schema: {
        querystring: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
    (request) => Promise.resolve(appointmentTypeInfo(request.query.name, options.journeyConfig)),
  );
}

export const adminRoutes: FastifyPluginCallback<AdminRouteOptions> = (app, options, done) => {
  const viewer = requireRole(options.tokens, 'viewer');
  const operator = requireRole(options.tokens, 'operator');
  registerRunTrigger(app, options, operator);
  registerDeadLetters(app, options, viewer, operator);
  registerQuarantine(app, options, viewer);
  registerMatches(app, options, viewer);
  registerRuns(app, options, viewer);
  registerAppointmentTypes(app, options, viewer);
  done();
};
