import { Readable } from 'node:stream';
import type { Connection } from 'jsforce';
import type { Logger } from '../logger.js';
import { BulkPace, systemClock, untilComplete, type BulkClock } from './bulk-checks.js';
import { readResultTables, type BulkResultTables } from './bulk-results.js';
import { callFailure, classifySalesforceCode, withoutValues, type SalesforceErrorKind } from './classify.js';

/**
 * Writes to Salesforce: upserts by external id through sObject Collections (200 records a call) or,
 * for large runs, Bulk API 2.0; platform event publishing. Whole-call failures throw a classified
 * SyncError; per-record failures come back as results, classified by their status code, so one bad
 * record never fails its 199 neighbours.
 */
export const COLLECTION_LIMIT = 200;

export interface SalesforceRecord {
  readonly [field: string]: unknown;
}

export interface RecordError {
  readonly code: string;
  readonly message: string;
  readonly fields: readonly string[];
  readonly kind: SalesforceErrorKind;
}

export interface WriteResult {
  /** The external id value (upserts) or the position (publish) the result belongs to. */
  readonly key: string;
  readonly success: boolean;
  readonly id: string | null;
  readonly created: boolean | null;
  readonly error?: RecordError;
}

export interface ApiUsage {
  readonly used: number;
  readonly max: number;
}

export interface UpsertOptions {
  /** One Bulk API 2.0 job instead of collections of 200. */
  readonly bulk?: boolean;
  /**
   * Told once the records are out: a Bulk job closed (Salesforce processes it while the caller does
   * other work), or the first collection call sent. Not told when the call fails before that.
   */
  readonly onSent?: () => void;
}

/** A writer's Bulk API 2.0 state: the connection, the call counter and the pace its jobs taught it. */
interface BulkContext {
  readonly connection: Connection;
  readonly countCall: () => void;
  readonly pace: BulkPace;
  readonly clock: BulkClock;
}

export interface SalesforceWriter {
  upsert(
    object: string,
    externalIdField: string,
    records: readonly SalesforceRecord[],
    options?: UpsertOptions,
  ): Promise<WriteResult[]>;
  publish(eventObject: string, events: readonly SalesforceRecord[]): Promise<WriteResult[]>;
  /** From the Sforce-Limit-Info header of the last response, if any. */
  apiUsage(): ApiUsage | undefined;
  /** Number of REST/Bulk calls this writer made (for the run summary). */
  calls(): number;
}

interface RawSaveResult {
  id?: string | null;
  success?: boolean;
  created?: boolean;
  errors?: Array<{ statusCode?: string; errorCode?: string; message?: string; fields?: string[] }>;
}

/**
 * A child written before its parent exists (the parent's write is still queued or being retried) gets
 * "Foreign key external ID ... not found". That is a matter of order, not of data: retry it.
 */
const MISSING_PARENT = /Foreign key external ID: .* not found/i;

function toResult(key: string, raw: RawSaveResult | undefined, record?: SalesforceRecord): WriteResult {
  if (raw?.success) return { key, success: true, id: raw.id ?? null, created: raw.created ?? null };
  const first = raw?.errors?.[0];
  const code = first?.statusCode ?? first?.errorCode ?? 'UNKNOWN_EXCEPTION';
  return {
    key,
    success: false,
    id: raw?.id ?? null,
    created: null,
    error: {
      code,
      message: withoutValues(first?.message ?? 'no result returned for this record', record),
      fields: first?.fields ?? [],
      kind: MISSING_PARENT.test(first?.message ?? '') ? 'transient' : classifySalesforceCode(code),
    },
  };
}

/** A scalar as Bulk 2.0 CSV expects it; #N/A clears the field. */
function csvCell(value: unknown): string {
  return value === null || value === undefined ? '#N/A' : csvText(value);
}

function csvText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return '';
}

export function createSalesforceWriter(connection: Connection, logger: Logger): SalesforceWriter {
  const log = logger.child({ module: 'salesforce-writer' });
  let calls = 0;
  const countCall = (): void => {
    calls += 1;
  };
  const bulk: BulkContext = { connection, countCall, pace: new BulkPace(), clock: systemClock };

  return {
    async upsert(object, externalIdField, records, options = {}) {
      if (records.length === 0) return [];
      const results = options.bulk
        ? await upsertBulk(bulk, object, externalIdField, records, options.onSent)
        : await upsertCollection(connection, countCall, object, externalIdField, records, options.onSent);
      const failed = results.filter((r) => !r.success).length;
      log.debug({ object, records: records.length, failed, bulk: options.bulk === true }, 'upsert finished');
      return results;
    },
    publish: (eventObject, events) => publishEvents(connection, countCall, eventObject, events),
    apiUsage() {
      const info = connection.limitInfo;
      return info.apiUsage ? { used: info.apiUsage.used, max: info.apiUsage.limit } : undefined;
    },
    calls: () => calls,
  };
}

/** Upserts through sObject Collections, 200 records a call, never all-or-none. */
async function upsertCollection(
  connection: Connection,
  countCall: () => void,
  object: string,
  externalIdField: string,
  records: readonly SalesforceRecord[],
  onSent: (() => void) | undefined,
): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  for (let i = 0; i < records.length; i += COLLECTION_LIMIT) {
    const chunk = records.slice(i, i + COLLECTION_LIMIT);
    countCall();
    if (i === 0) onSent?.();
    let raw: RawSaveResult[];
    try {
      raw = await connection.upsert(
        object,
        chunk.map((r) => ({ ...r })),
        externalIdField,
        {
          allOrNone: false,
        },
      );
    } catch (err) {
      throw callFailure(err, object);
    }
    chunk.forEach((record, index) =>
      results.push(toResult(csvText(record[externalIdField]), raw[index], record)),
    );
  }
  return results;
}

/** Publishes platform events, 200 a call; each result is keyed by the event's position. */
async function publishEvents(
  connection: Connection,
  countCall: () => void,
  eventObject: string,
  events: readonly SalesforceRecord[],
): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  for (let i = 0; i < events.length; i += COLLECTION_LIMIT) {
    const chunk = events.slice(i, i + COLLECTION_LIMIT);
    countCall();
    let raw: RawSaveResult[];
    try {
      raw = await connection.sobject(eventObject).create(
        chunk.map((e) => ({ ...e })),
        { allOrNone: false },
      );
    } catch (err) {
      throw callFailure(err, eventObject);
    }
    chunk.forEach((event, index) => results.push(toResult(String(i + index), raw[index], event)));
  }
  return results;
}

/**
 * Upserts through one Bulk API 2.0 job, checked until complete for up to 10 minutes, on a schedule the
 * pace learned from earlier jobs sets (bulk-checks.ts). `onSent` is told once the job is closed: its
 * records are Salesforce's to process, and the caller may do other work meanwhile.
 */
async function upsertBulk(
  bulk: BulkContext,
  object: string,
  externalIdField: string,
  records: readonly SalesforceRecord[],
  onSent: (() => void) | undefined,
): Promise<WriteResult[]> {
  bulk.countCall();
  const job = bulk.connection.bulk2.createJob({
    object,
    operation: 'upsert',
    externalIdFieldName: externalIdField,
  });
  try {
    await job.open();
    // As a stream: given a string, jsforce copies it whole (structuredClone) before writing it to the
    // same request stream (issue #16: 1-2 % of the service's thread in a backfill's drain).
    await job.uploadData(Readable.from([bulkCsv(records)]));
    await job.close();
    onSent?.();
    await untilComplete(job, { object, records: records.length, pace: bulk.pace, clock: bulk.clock });
    return bulkResults(await readResultTables(job), externalIdField, records);
  } catch (err) {
    // As jsforce's own load: a job that failed (not one still running when the wait ran out) is deleted.
    if (!(err instanceof Error && err.name === 'JobPollingTimeout')) job.delete().catch(() => undefined);
    throw callFailure(err, object);
  }
}

/**
 * The CSV one Bulk 2.0 job uploads. Bulk 2.0 takes flat columns: a parent reference becomes
 * `Contact__r.Cliniko_Patient_Id__c`, and a null must be sent as #N/A to clear a field. One job's rows
 * share the columns of all its records; a field a record does not carry is an empty cell, which Bulk 2.0
 * leaves unchanged (as a collection upsert leaves a field it is not sent), never #N/A, which would clear
 * it. RFC 4180 as csv-stringify writes it with its defaults (a header line, comma, LF after every line,
 * a cell quoted only when it holds a quote, a comma, CR or LF, its quotes doubled), written here: its
 * general path allocated about 9 KB a record of a backfill, an eighth of all the service allocated
 * (issue #16). `writer.test.ts` checks every cell against csv-stringify's output for the same rows.
 * Handed to jsforce as text: given objects, jsforce clones them all and streams them through
 * csv-stringify one record at a time, a socket write per row (README).
 */
export function bulkCsv(records: readonly SalesforceRecord[]): string {
  const columns = new Map<string, number>();
  const column = (name: string): number => {
    let at = columns.get(name);
    if (at === undefined) columns.set(name, (at = columns.size));
    return at;
  };
  const rows = records.map((record) => {
    const row: string[] = [];
    for (const [field, value] of Object.entries(record)) {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [refField, refValue] of Object.entries(value as Record<string, unknown>)) {
          row[column(`${field}.${refField}`)] = csvCell(refValue);
        }
      } else {
        row[column(field)] = csvCell(value);
      }
    }
    return row;
  });
  let csv = csvLine([...columns.keys()], columns.size);
  for (const row of rows) csv += csvLine(row, columns.size);
  return csv;
}

/** One CSV line of `width` cells (a cell not set is empty), LF-terminated. */
function csvLine(cells: readonly (string | undefined)[], width: number): string {
  let line = '';
  for (let i = 0; i < width; i++) {
    if (i > 0) line += ',';
    const cell = cells[i];
    if (cell !== undefined) line += NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
  }
  return `${line}\n`;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One result per record sent, in order, from the job's successful, failed and unprocessed rows. */
function bulkResults(
  tables: BulkResultTables,
  externalIdField: string,
  records: readonly SalesforceRecord[],
): WriteResult[] {
  const byKey = new Map<string, WriteResult>();
  const sent = new Map(records.map((r) => [csvText(r[externalIdField]), r]));
  const { successful, failed, unprocessed } = tables;
  for (const row of successful.rows) {
    const key = successful.cell(row, externalIdField);
    byKey.set(key, {
      key,
      success: true,
      id: successful.cell(row, 'sf__Id'),
      created: successful.cell(row, 'sf__Created') === 'true',
    });
  }
  for (const row of failed.rows) {
    const key = failed.cell(row, externalIdField);
    const [code = 'UNKNOWN_EXCEPTION', ...rest] = failed.cell(row, 'sf__Error').split(':');
    byKey.set(key, {
      key,
      success: false,
      id: null,
      created: null,
      error: {
        code,
        message: withoutValues(rest.join(':'), sent.get(key)),
        fields: [],
        kind: classifySalesforceCode(code),
      },
    });
  }
  for (const row of unprocessed.rows) {
    const key = unprocessed.cell(row, externalIdField);
    byKey.set(key, {
      key,
      success: false,
      id: null,
      created: null,
      error: {
        code: 'UNPROCESSED',
        message: 'the bulk job ended before this row was processed',
        fields: [],
        kind: 'transient',
      },
    });
  }
  return records.map((r) => {
    const key = String(r[externalIdField]);
    return byKey.get(key) ?? toResult(key, undefined);
  });
}
