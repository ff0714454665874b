/**
 * Bulk 2.0 ingest jobs: their state, the job info Salesforce answers with, and the checks a create
 * request passes before a job exists (all answered 400 INVALIDJOB, in Salesforce's order).
 */
import type { FastifyReply } from 'fastify';
import type { BulkDeps, DmlOperation } from '../model.js';
import { COLUMN_DELIMITERS, type ColumnDelimiter, type LineEnding } from './csv.js';

export type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';
export type Operation = DmlOperation;
export const OPERATIONS: ReadonlySet<string> = new Set<Operation>(['insert', 'update', 'upsert', 'delete']);

export interface Job {
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

export function apiError(
  reply: FastifyReply,
  status: number,
  errorCode: string,
  message: string,
): FastifyReply {
  return reply.code(status).send([{ errorCode, message }]);
}

export function isoDate(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

/** 18-character id: 15 characters plus Salesforce's case-folding checksum. */
export function salesforceId(prefix: string, n: number): string {
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

export function jobInfo(job: Job, full: boolean): Record<string, unknown> {
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

/** Moves the job to `state` (when given) and stamps SystemModstamp. */
export function touch(job: Job, now: Date, state?: JobState): void {
  if (state) job.state = state;
  job.systemModstamp = now;
}

/** The fields of a job create request, or the InvalidJob message that refuses it. */
export function jobRequest(
  body: Record<string, unknown>,
  userId: string,
  deps: BulkDeps,
):
  | {
      object: string;
      operation: Operation;
      externalIdFieldName: string | undefined;
      lineEnding: LineEnding;
      columnDelimiter: ColumnDelimiter;
    }
  | string {
  const object = typeof body.object === 'string' ? body.object : '';
  const operation = typeof body.operation === 'string' ? body.operation : '';
  const externalIdFieldName =
    typeof body.externalIdFieldName === 'string' ? body.externalIdFieldName : undefined;
  const lineEnding = (body.lineEnding ?? 'LF') as string;
  const columnDelimiter = (body.columnDelimiter ?? 'COMMA') as string;
  if (!object) return 'InvalidJob : Required field is missing: object';
  if (!OPERATIONS.has(operation))
    return `InvalidJob : Invalid operation: ${operation || '(missing)'}. The emulator supports insert, update, upsert and delete`;
  if (operation === 'upsert' && !externalIdFieldName)
    return 'InvalidJob : External ID was blank for upsert job';
  if ((body.contentType ?? 'CSV') !== 'CSV')
    return `InvalidJob : Unsupported contentType: ${String(body.contentType)}`;
  if (lineEnding !== 'LF' && lineEnding !== 'CRLF') return `InvalidJob : Invalid lineEnding: ${lineEnding}`;
  if (!(columnDelimiter in COLUMN_DELIMITERS))
    return `InvalidJob : Invalid columnDelimiter: ${columnDelimiter}`;
  const invalid = deps.validateJob?.(userId, object, operation as Operation, externalIdFieldName);
  if (invalid) return invalid;
  return {
    object,
    operation: operation as Operation,
    externalIdFieldName,
    lineEnding,
    columnDelimiter: columnDelimiter as ColumnDelimiter,
  };
}
