/**
 * Processing a job after `UploadComplete`, on a timer as Salesforce does: `InProgress`, then the
 * uploads are parsed and checked (same header everywhere, the key column present), then the rows are
 * applied in chunks through `applyDml`; rows of the wrong length fail alone. An abort between chunks
 * stops processing and leaves the remaining rows unprocessed. Salesforce processes a job apart from the
 * API that answers its clients, so a chunk is applied a slice at a time with a turn of the event loop
 * between slices: while a large job is processing, the emulator still takes another job's upload and
 * answers checks (applied whole, a 5,000-row job held every request for the length of its processing).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BulkDeps, DmlRowResult } from '../model.js';
import { InvalidUploadError, NULL_MARKER, parseUpload, type DataLine, type ParsedUpload } from './csv.js';
import type { Job, JobState, Operation } from './jobs.js';
import { touch } from './jobs.js';

/** Salesforce-shaped code for a data row whose cell count differs from the header's (emulator's name). */
const ROW_LENGTH_ERROR = 'INVALID_ROW';

export interface ProcessEnv {
  /** Delay before `InProgress` and again before processing, in ms. */
  stepDelay: number;
  /** Rows per internal batch: an abort is seen between batches. */
  chunkSize: number;
  /** Rows per `applyDml` call, with a turn of the event loop between calls. */
  sliceRows: number;
  deps: BulkDeps;
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

/** An aborted job that never started reports all its uploaded lines as unprocessed. */
export function listUnprocessed(job: Job): void {
  try {
    const parsed = job.uploads.map((u) => parseUpload(u, job.columnDelimiter, job.lineEnding));
    job.header = parsed[0]?.header;
    job.unprocessed.push(...parsed.flatMap((p) => p.lines.map((l) => l.cells)));
  } catch {
    // Unreadable data cannot be listed; the job stays aborted with no unprocessed rows to show.
  }
}

export async function processJob(job: Job, env: ProcessEnv): Promise<void> {
  const now = (): Date => env.deps.now();
  await delay(env.stepDelay);
  if (job.state !== 'UploadComplete') return;
  touch(job, now(), 'InProgress');
  await delay(env.stepDelay);
  if (stateOf(job) !== 'InProgress') return;
  const started = Date.now();
  const parsed = readUploads(job, now);
  if (!parsed) return;
  const lines: Array<DataLine & { upload: number }> = parsed.flatMap((p, upload) =>
    p.lines.map((l) => ({ ...l, upload: upload + 1 })),
  );
  const index = await applyLines(job, env, lines, parsed.length > 1);
  job.unprocessed.push(...lines.slice(index).map((l) => l.cells));
  job.totalProcessingTime = Date.now() - started;
  if (stateOf(job) === 'InProgress') touch(job, now(), 'JobComplete');
}

/** The parsed uploads with the job's header set; undefined (job Failed) when the data is unusable. */
function readUploads(job: Job, now: () => Date): ParsedUpload[] | undefined {
  try {
    const parsed = job.uploads.map((u) => parseUpload(u, job.columnDelimiter, job.lineEnding));
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
    return parsed;
  } catch (error) {
    job.errorMessage =
      error instanceof InvalidUploadError ? error.message : `InvalidBatch : ${String(error)}`;
    touch(job, now(), 'Failed');
    return undefined;
  }
}

/** Applies the lines chunk by chunk; the index of the first line not processed. */
async function applyLines(
  job: Job,
  env: ProcessEnv,
  lines: Array<DataLine & { upload: number }>,
  severalUploads: boolean,
): Promise<number> {
  const header = job.header ?? [];
  const fail = (cells: string[], message: string): void => {
    job.failed.push(['', message, ...cells]);
    job.numberRecordsFailed++;
    job.numberRecordsProcessed++;
  };
  let index = 0;
  try {
    while (index < lines.length) {
      if (stateOf(job) !== 'InProgress') break; // aborted meanwhile
      const chunk = lines.slice(index, index + env.chunkSize);
      const valid = chunk.filter((l) => {
        if (l.cells.length === header.length) return true;
        const where = severalUploads ? `upload ${l.upload}, line ${l.line}` : `line ${l.line}`;
        fail(
          l.cells,
          `${ROW_LENGTH_ERROR}:The row at ${where} has ${l.cells.length} values but the header has ${header.length} columns: --`,
        );
        return false;
      });
      const rows = valid.map((l) => toRow(header, l.cells, job.operation));
      const results = await applySlices(job, env, rows);
      if (results.length !== rows.length) {
        throw new Error(`applyDml returned ${results.length} results for ${rows.length} rows`);
      }
      record(job, results, valid);
      index += chunk.length;
    }
  } catch (error) {
    job.errorMessage = `InternalServerError : ${(error as Error).message}`;
    touch(job, env.deps.now(), 'Failed');
  }
  return index;
}

/** One chunk's rows through `applyDml`, a slice at a time, each after a turn of the event loop. */
async function applySlices(
  job: Job,
  env: ProcessEnv,
  rows: Array<Record<string, string | null>>,
): Promise<DmlRowResult[]> {
  const results: DmlRowResult[] = [];
  for (let at = 0; at < rows.length; at += env.sliceRows) {
    await nextTurn();
    const slice = rows.slice(at, at + env.sliceRows);
    results.push(
      ...(await env.deps.applyDml(
        job.createdById,
        job.object,
        job.operation,
        job.externalIdFieldName,
        slice,
      )),
    );
  }
  return results;
}

/** Each result goes to the successful or failed results, with the row's original cells. */
function record(job: Job, results: DmlRowResult[], valid: DataLine[]): void {
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
}
