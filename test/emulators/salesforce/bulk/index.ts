/**
 * Bulk API 2.0 ingest (`/services/data/vXX.X/jobs/ingest`) as a Fastify plugin: create a job, PUT CSV,
 * PATCH `UploadComplete`, poll while the job goes `UploadComplete` -> `InProgress` -> `JobComplete`
 * (or `Failed` / `Aborted`), then read `successfulResults`, `failedResults` and `unprocessedrecords`.
 * Processing runs on a timer after the PATCH, as in Salesforce, so pollers see the job in progress.
 * The writes themselves go through `deps.applyDml`, where the emulator enforces its schema and security.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { BulkDeps } from '../model.js';
import { toCsv } from './csv.js';
import type { Job } from './jobs.js';
import { apiError, jobInfo, jobRequest, salesforceId, touch } from './jobs.js';
import type { ProcessEnv } from './processing.js';
import { listUnprocessed, processJob } from './processing.js';

export interface BulkIngestOptions extends BulkDeps {
  /** Delay before `InProgress` and again before processing, in ms (default 25). */
  processingDelayMs?: number;
  /** Rows per internal batch (default 10,000, as Salesforce): an abort is seen between batches. */
  chunkSize?: number;
  /**
   * Rows per `applyDml` call (default 200), with a turn of the event loop between calls, so that the
   * API answers other requests while a job is processing, as Salesforce's does.
   */
  sliceRows?: number;
}

const MAX_UPLOAD_BYTES = 150 * 1024 * 1024;
const base = '/services/data/:version/jobs/ingest';

/** What the routes of one plugin instance share. */
interface Ingest {
  jobs: Map<string, Job>;
  /** Processing runs still in flight (awaited on close). */
  pending: Set<Promise<void>>;
  /** The last job queued for processing: the next one starts when it ends. */
  queue: Promise<void>;
  env: ProcessEnv;
  sequence: number;
}

export const bulkIngestPlugin: FastifyPluginAsync<BulkIngestOptions> = (app, options) => {
  const ctx: Ingest = {
    jobs: new Map(),
    pending: new Set(),
    queue: Promise.resolve(),
    env: {
      stepDelay: options.processingDelayMs ?? 25,
      chunkSize: options.chunkSize ?? 10_000,
      sliceRows: options.sliceRows ?? 200,
      deps: options,
    },
    sequence: 0,
  };
  app.addContentTypeParser(
    ['text/csv', 'text/plain'],
    { parseAs: 'string', bodyLimit: MAX_UPLOAD_BYTES },
    (_request, body, done) => done(null, body),
  );
  app.addHook('onRequest', async (request, reply) => {
    const user = await options.authenticate(request);
    if (!user) {
      return reply
        .code(401)
        .send([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    }
    request.bulkUserId = user.userId;
  });
  // Let in-flight processing finish before the server closes, so no timer outlives it.
  app.addHook('onClose', async () => {
    await Promise.allSettled([...ctx.pending]);
  });
  registerCreateRoute(app, ctx, options);
  registerJobRoutes(app, ctx, () => options.now());
  registerResultRoutes(app, ctx);
  return Promise.resolve();
};

function findJob(ctx: Ingest, id: string, reply: FastifyReply): Job | undefined {
  const job = ctx.jobs.get(id);
  if (!job) apiError(reply, 404, 'NOT_FOUND', 'The requested resource does not exist');
  return job;
}

/** `POST jobs/ingest`: a new job in state Open. */
function registerCreateRoute(app: FastifyInstance, ctx: Ingest, options: BulkIngestOptions): void {
  app.post<{ Params: { version: string }; Body: Record<string, unknown> | undefined }>(
    base,
    async (request, reply) => {
      const apiVersion = Number(request.params.version.replace(/^v/, ''));
      const fields = jobRequest(request.body ?? {}, request.bulkUserId ?? '', options);
      if (typeof fields === 'string') return apiError(reply, 400, 'INVALIDJOB', fields);
      const created = options.now();
      const job: Job = {
        id: salesforceId('750', ++ctx.sequence),
        operation: fields.operation,
        object: fields.object,
        createdById: request.bulkUserId ?? '',
        createdDate: created,
        systemModstamp: created,
        state: 'Open',
        externalIdFieldName: fields.externalIdFieldName,
        apiVersion: Number.isFinite(apiVersion) ? apiVersion : 0,
        lineEnding: fields.lineEnding,
        columnDelimiter: fields.columnDelimiter,
        numberRecordsProcessed: 0,
        numberRecordsFailed: 0,
        totalProcessingTime: 0,
        uploads: [],
        successful: [],
        failed: [],
        unprocessed: [],
      };
      ctx.jobs.set(job.id, job);
      return reply.code(200).send(jobInfo(job, false));
    },
  );
}

/** List, get, upload data, change state (UploadComplete starts processing; Aborted), delete. */
function registerJobRoutes(app: FastifyInstance, ctx: Ingest, now: () => Date): void {
  app.get<{ Querystring: { jobType?: string } }>(base, (request, reply) => {
    const { jobType } = request.query;
    const records = [...ctx.jobs.values()]
      .filter(() => jobType === undefined || jobType === 'V2Ingest')
      .map((job) => jobInfo(job, false));
    return reply.send({ done: true, records, nextRecordsUrl: null });
  });

  app.get<{ Params: { id: string } }>(`${base}/:id`, async (request, reply) => {
    const job = findJob(ctx, request.params.id, reply);
    return job ? jobInfo(job, true) : reply;
  });

  app.put<{ Params: { id: string }; Body: unknown }>(`${base}/:id/batches`, async (request, reply) => {
    const job = findJob(ctx, request.params.id, reply);
    if (!job) return reply;
    if (job.state !== 'Open') {
      return apiError(
        reply,
        409,
        'INVALIDJOBSTATE',
        `Job ${job.id} is not open for data upload: its state is ${job.state}`,
      );
    }
    if (typeof request.body !== 'string') {
      return apiError(reply, 400, 'INVALIDJOB', 'InvalidJob : Upload job data as text/csv');
    }
    job.uploads.push(request.body);
    touch(job, now());
    return reply.code(201).send();
  });

  app.patch<{ Params: { id: string }; Body: { state?: string } | undefined }>(
    `${base}/:id`,
    async (request, reply) => {
      const job = findJob(ctx, request.params.id, reply);
      if (!job) return reply;
      const target = request.body?.state;
      if (target === 'UploadComplete' && job.state === 'Open') {
        touch(job, now(), 'UploadComplete');
        // One job processed at a time, in the order they were closed: a job closed while another is
        // processing waits its turn in UploadComplete ("queued for processing"), as in Salesforce.
        const run = ctx.queue.then(() => processJob(job, ctx.env)).finally(() => ctx.pending.delete(run));
        ctx.queue = run.catch(() => undefined);
        ctx.pending.add(run);
        return jobInfo(job, false);
      }
      if (
        target === 'Aborted' &&
        (job.state === 'Open' || job.state === 'UploadComplete' || job.state === 'InProgress')
      ) {
        touch(job, now(), 'Aborted');
        if (!job.header) listUnprocessed(job);
        return jobInfo(job, false);
      }
      return apiError(
        reply,
        409,
        'INVALIDJOBSTATE',
        `Cannot change the state of job ${job.id} from ${job.state} to ${target ?? '(missing)'}`,
      );
    },
  );

  app.delete<{ Params: { id: string } }>(`${base}/:id`, async (request, reply) => {
    const job = findJob(ctx, request.params.id, reply);
    if (!job) return reply;
    if (job.state === 'Open' || job.state === 'InProgress') {
      return apiError(
        reply,
        409,
        'INVALIDJOBSTATE',
        `Job ${job.id} cannot be deleted while its state is ${job.state}`,
      );
    }
    ctx.jobs.delete(job.id);
    return reply.code(204).send();
  });
}

/** `successfulResults`, `failedResults`, `unprocessedrecords` as CSV once the job has ended. */
function registerResultRoutes(app: FastifyInstance, ctx: Ingest): void {
  const results = (kind: 'successfulResults' | 'failedResults' | 'unprocessedrecords') =>
    app.get<{ Params: { id: string } }>(`${base}/:id/${kind}`, (request, reply) => {
      const job = findJob(ctx, request.params.id, reply);
      if (!job) return reply;
      if (job.state !== 'JobComplete' && job.state !== 'Failed' && job.state !== 'Aborted') {
        return apiError(
          reply,
          409,
          'INVALIDJOBSTATE',
          `Results are not available while job ${job.id} is ${job.state}`,
        );
      }
      const original = job.header ?? [];
      const [header, rows] =
        kind === 'successfulResults'
          ? [['sf__Id', 'sf__Created', ...original], job.successful]
          : kind === 'failedResults'
            ? [['sf__Id', 'sf__Error', ...original], job.failed]
            : [original, job.unprocessed];
      return reply
        .header('content-type', 'text/csv; charset=UTF-8')
        .send(header.length ? toCsv(header, rows, job.columnDelimiter, job.lineEnding) : '');
    });
  results('successfulResults');
  results('failedResults');
  results('unprocessedrecords');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The running user of a Bulk API request, set by the plugin's authentication hook. */
    bulkUserId?: string;
  }
}
