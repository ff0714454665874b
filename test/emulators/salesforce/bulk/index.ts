/**
 * Bulk API 2.0 ingest (`/services/data/vXX.X/jobs/ingest`) as a Fastify plugin: create a job, PUT CSV,
 * PATCH `UploadComplete`, poll while the job goes `UploadComplete` -> `InProgress` -> `JobComplete`
 * (or `Failed` / `Aborted`), then read `successfulResults`, `failedResults` and `unprocessedrecords`.
 * Processing runs on a timer after the PATCH, as in Salesforce, so pollers see the job in progress.
 * The writes themselves go through `deps.applyDml`, where the emulator enforces its schema and security.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { BulkDeps, DmlOperation, DmlRowResult } from '../model.js';
import {
  COLUMN_DELIMITERS,
  InvalidUploadError,
  NULL_MARKER,
  parseUpload,
  toCsv,
  type ColumnDelimiter,
  type DataLine,
  type LineEnding,
  type ParsedUpload,
} from './csv.js';

export interface BulkIngestOptions extends BulkDeps {
  /** Delay before `InProgress` and again before processing, in ms (default 25). */
  processingDelayMs?: number;
  /** Rows per `applyDml` call; Salesforce processes ingest data in internal batches of 10,000. */
  chunkSize?: number;
}

type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';
type Operation = DmlOperation;
const OPERATIONS: ReadonlySet<string> = new Set<Operation>(['insert', 'update', 'upsert', 'delete']);

interface Job {
  id: string;
  operation: Operation;
  object: string;
  createdById: string;
  createdDate: Date;
  systemModstamp: Date;
  state: JobState;
  externalIdFieldName?: string;
  apiVersion: number;
  lineEnding: LineEnding;
  columnDelimiter: ColumnDelimiter;
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  totalProcessingTime: number;
  errorMessage?: string;
  uploads: string[];
  /** Set once processing has parsed the data; the result CSVs repeat these original columns. */
  header?: string[];
  successful: string[][];
  failed: string[][];
  unprocessed: string[][];
}

/** Salesforce-shaped code for a data row whose cell count differs from the header's (emulator's name). */
const ROW_LENGTH_ERROR = 'INVALID_ROW';

const MAX_UPLOAD_BYTES = 150 * 1024 * 1024;

function apiError(reply: FastifyReply, status: number, errorCode: string, message: string): FastifyReply {
  return reply.code(status).send([{ errorCode, message }]);
}

function isoDate(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

/** 18-character id: 15 characters plus Salesforce's case-folding checksum. */
function salesforceId(prefix: string, n: number): string {
  const base = `${prefix}${'0'.repeat(12 - String(n).length)}${n}`.slice(0, 15);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = base.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += alphabet.charAt(bits);
  }
  return base + suffix;
}

function jobInfo(job: Job, full: boolean): Record<string, unknown> {
  const info: Record<string, unknown> = {
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: job.createdById,
    createdDate: isoDate(job.createdDate),
    systemModstamp: isoDate(job.systemModstamp),
    state: job.state,
    ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
    concurrencyMode: 'Parallel',
    contentType: 'CSV',
    apiVersion: job.apiVersion,
    jobType: 'V2Ingest',
    contentUrl: `services/data/v${job.apiVersion.toFixed(1)}/jobs/ingest/${job.id}/batches`,
    lineEnding: job.lineEnding,
    columnDelimiter: job.columnDelimiter,
  };
  if (!full) return info;
  return {
    ...info,
    numberRecordsProcessed: job.numberRecordsProcessed,
    numberRecordsFailed: job.numberRecordsFailed,
    retries: 0,
    totalProcessingTime: job.totalProcessingTime,
    apiActiveProcessingTime: job.totalProcessingTime,
    apexProcessingTime: 0,
    ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
  };
}

/** `sf__Error` as Salesforce writes it: `CODE:message:field,field --`. */
function errorText(result: DmlRowResult): string {
  const errors = result.errors?.length
    ? result.errors
    : [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'The row failed without an error', fields: [] }];
  return errors.map((e) => `${e.statusCode}:${e.message}:${e.fields.join(',')} --`).join(' ');
}

/** One CSV line -> the row applyDml receives: `#N/A` is null, an empty `Id` on insert/upsert is dropped. */
function toRow(header: string[], line: string[], operation: Operation): Record<string, string | null> {
  const row: Record<string, string | null> = {};
  header.forEach((name, i) => {
    const cell = line[i] ?? '';
    if (name.toLowerCase() === 'id' && cell === '' && (operation === 'insert' || operation === 'upsert'))
      return;
    row[name] = cell === NULL_MARKER ? null : cell;
  });
  return row;
}

/** Reads the state afresh: another request may have aborted the job while processing awaited. */
const stateOf = (job: Job): JobState => job.state;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const bulkIngestPlugin: FastifyPluginAsync<BulkIngestOptions> = (app, options) => {
  const now = () => options.now();
  const stepDelay = options.processingDelayMs ?? 25;
  const chunkSize = options.chunkSize ?? 10_000;
  const jobs = new Map<string, Job>();
  let sequence = 0;
  const pending = new Set<Promise<void>>();

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
    await Promise.allSettled([...pending]);
  });

  const findJob = (id: string, reply: FastifyReply): Job | undefined => {
    const job = jobs.get(id);
    if (!job) apiError(reply, 404, 'NOT_FOUND', 'The requested resource does not exist');
    return job;
  };
  const touch = (job: Job, state?: JobState): void => {
    if (state) job.state = state;
    job.systemModstamp = now();
  };

  /** An aborted job that never started reports all its uploaded lines as unprocessed. */
  function listUnprocessed(job: Job): void {
    try {
      const parsed = job.uploads.map((u) => parseUpload(u, job.columnDelimiter, job.lineEnding));
      job.header = parsed[0]?.header;
      job.unprocessed.push(...parsed.flatMap((p) => p.lines.map((l) => l.cells)));
    } catch {
      // Unreadable data cannot be listed; the job stays aborted with no unprocessed rows to show.
    }
  }

  async function processJob(job: Job): Promise<void> {
    await delay(stepDelay);
    if (job.state !== 'UploadComplete') return;
    touch(job, 'InProgress');
    await delay(stepDelay);
    if (stateOf(job) !== 'InProgress') return;
    const started = Date.now();

    let parsed: ParsedUpload[];
    try {
      parsed = job.uploads.map((u) => parseUpload(u, job.columnDelimiter, job.lineEnding));
      const header = parsed[0]?.header;
      if (!header) throw new InvalidUploadError('InvalidBatch : No data was uploaded for this job');
      const mismatch = parsed.find((p) => p.header.join('\u0000') !== header.join('\u0000'));
      if (mismatch)
        throw new InvalidUploadError('InvalidBatch : Every upload to a job must have the same header row');
      if (job.operation === 'delete' && !header.some((h) => h.toLowerCase() === 'id')) {
        throw new InvalidUploadError(
          'InvalidBatch : Field name not provided: Id (delete jobs need an Id column)',
        );
      }
      if (job.operation !== 'insert' && job.operation !== 'delete') {
        const key = job.operation === 'upsert' ? job.externalIdFieldName! : 'Id';
        if (!header.some((h) => h.toLowerCase() === key.toLowerCase())) {
          throw new InvalidUploadError(`InvalidBatch : Field name not provided: ${key}`);
        }
      }
      job.header = header;
    } catch (error) {
      job.errorMessage =
        error instanceof InvalidUploadError ? error.message : `InvalidBatch : ${String(error)}`;
      touch(job, 'Failed');
      return;
    }

    const header = job.header;
    const lines: Array<DataLine & { upload: number }> = parsed.flatMap((p, upload) =>
      p.lines.map((l) => ({ ...l, upload: upload + 1 })),
    );
    const fail = (cells: string[], message: string): void => {
      job.failed.push(['', message, ...cells]);
      job.numberRecordsFailed++;
      job.numberRecordsProcessed++;
    };
    let index = 0;
    try {
      while (index < lines.length) {
        if (stateOf(job) !== 'InProgress') break; // aborted meanwhile
        const chunk = lines.slice(index, index + chunkSize);
        const valid = chunk.filter((l) => {
          if (l.cells.length === header.length) return true;
          const where = parsed.length > 1 ? `upload ${l.upload}, line ${l.line}` : `line ${l.line}`;
          fail(
            l.cells,
            `${ROW_LENGTH_ERROR}:The row at ${where} has ${l.cells.length} values but the header has ${header.length} columns: --`,
          );
          return false;
        });
        const rows = valid.map((l) => toRow(header, l.cells, job.operation));
        const results = rows.length
          ? await options.applyDml(job.createdById, job.object, job.operation, job.externalIdFieldName, rows)
          : [];
        if (results.length !== rows.length) {
          throw new Error(`applyDml returned ${results.length} results for ${rows.length} rows`);
        }
        results.forEach((result, i) => {
          const original = valid[i]!.cells;
          if (result.success) {
            job.successful.push([result.id ?? '', String(result.created ?? false), ...original]);
            job.numberRecordsProcessed++;
          } else {
            job.failed.push([result.id ?? '', errorText(result), ...original]);
            job.numberRecordsFailed++;
            job.numberRecordsProcessed++;
          }
        });
        index += chunk.length;
      }
    } catch (error) {
      job.errorMessage = `InternalServerError : ${(error as Error).message}`;
      touch(job, 'Failed');
    }
    job.unprocessed.push(...lines.slice(index).map((l) => l.cells));
    job.totalProcessingTime = Date.now() - started;
    if (stateOf(job) === 'InProgress') touch(job, 'JobComplete');
  }

  const base = '/services/data/:version/jobs/ingest';

  app.post<{ Params: { version: string }; Body: Record<string, unknown> | undefined }>(
    base,
    async (request, reply) => {
      const body = request.body ?? {};
      const apiVersion = Number(request.params.version.replace(/^v/, ''));
      const object = typeof body.object === 'string' ? body.object : '';
      const operation = typeof body.operation === 'string' ? body.operation : '';
      const externalIdFieldName =
        typeof body.externalIdFieldName === 'string' ? body.externalIdFieldName : undefined;
      const lineEnding = (body.lineEnding ?? 'LF') as string;
      const columnDelimiter = (body.columnDelimiter ?? 'COMMA') as string;
      if (!object)
        return apiError(reply, 400, 'INVALIDJOB', 'InvalidJob : Required field is missing: object');
      if (!OPERATIONS.has(operation)) {
        return apiError(
          reply,
          400,
          'INVALIDJOB',
          `InvalidJob : Invalid operation: ${operation || '(missing)'}. The emulator supports insert, update, upsert and delete`,
        );
      }
      if (operation === 'upsert' && !externalIdFieldName) {
        return apiError(reply, 400, 'INVALIDJOB', 'InvalidJob : External ID was blank for upsert job');
      }
      if ((body.contentType ?? 'CSV') !== 'CSV') {
        return apiError(
          reply,
          400,
          'INVALIDJOB',
          `InvalidJob : Unsupported contentType: ${String(body.contentType)}`,
        );
      }
      if (lineEnding !== 'LF' && lineEnding !== 'CRLF') {
        return apiError(reply, 400, 'INVALIDJOB', `InvalidJob : Invalid lineEnding: ${lineEnding}`);
      }
      if (!(columnDelimiter in COLUMN_DELIMITERS)) {
        return apiError(reply, 400, 'INVALIDJOB', `InvalidJob : Invalid columnDelimiter: ${columnDelimiter}`);
      }
      const invalid = options.validateJob?.(
        request.bulkUserId ?? '',
        object,
        operation as Operation,
        externalIdFieldName,
      );
      if (invalid) return apiError(reply, 400, 'INVALIDJOB', invalid);
      const created = now();
      const job: Job = {
        id: salesforceId('750', ++sequence),
        operation: operation as Operation,
        object,
        createdById: request.bulkUserId ?? '',
        createdDate: created,
        systemModstamp: created,
        state: 'Open',
        externalIdFieldName,
        apiVersion: Number.isFinite(apiVersion) ? apiVersion : 0,
        lineEnding,
        columnDelimiter: columnDelimiter as ColumnDelimiter,
        numberRecordsProcessed: 0,
        numberRecordsFailed: 0,
        totalProcessingTime: 0,
        uploads: [],
        successful: [],
        failed: [],
        unprocessed: [],
      };
      jobs.set(job.id, job);
      return reply.code(200).send(jobInfo(job, false));
    },
  );

  app.get<{ Querystring: { jobType?: string } }>(base, (request, reply) => {
    const { jobType } = request.query;
    const records = [...jobs.values()]
      .filter(() => jobType === undefined || jobType === 'V2Ingest')
      .map((job) => jobInfo(job, false));
    return reply.send({ done: true, records, nextRecordsUrl: null });
  });

  app.get<{ Params: { id: string } }>(`${base}/:id`, async (request, reply) => {
    const job = findJob(request.params.id, reply);
    return job ? jobInfo(job, true) : reply;
  });

  app.put<{ Params: { id: string }; Body: unknown }>(`${base}/:id/batches`, async (request, reply) => {
    const job = findJob(request.params.id, reply);
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
    touch(job);
    return reply.code(201).send();
  });

  app.patch<{ Params: { id: string }; Body: { state?: string } | undefined }>(
    `${base}/:id`,
    async (request, reply) => {
      const job = findJob(request.params.id, reply);
      if (!job) return reply;
      const target = request.body?.state;
      if (target === 'UploadComplete' && job.state === 'Open') {
        touch(job, 'UploadComplete');
        const run = processJob(job).finally(() => pending.delete(run));
        pending.add(run);
        return jobInfo(job, false);
      }
      if (
        target === 'Aborted' &&
        (job.state === 'Open' || job.state === 'UploadComplete' || job.state === 'InProgress')
      ) {
        touch(job, 'Aborted');
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
    const job = findJob(request.params.id, reply);
    if (!job) return reply;
    if (job.state === 'Open' || job.state === 'InProgress') {
      return apiError(
        reply,
        409,
        'INVALIDJOBSTATE',
        `Job ${job.id} cannot be deleted while its state is ${job.state}`,
      );
    }
    jobs.delete(job.id);
    return reply.code(204).send();
  });

  const results = (kind: 'successfulResults' | 'failedResults' | 'unprocessedrecords') =>
    app.get<{ Params: { id: string } }>(`${base}/:id/${kind}`, (request, reply) => {
      const job = findJob(request.params.id, reply);
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
  return Promise.resolve();
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The running user of a Bulk API request, set by the plugin's authentication hook. */
    bulkUserId?: string;
  }
}
