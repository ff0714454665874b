import { parse } from 'csv-parse/sync';

/**
 * A finished Bulk API 2.0 job's results, read as Salesforce sends them: three CSV files (successful,
 * failed and unprocessed rows), each carrying every column of the row as it was uploaded. The writer
 * needs only a few of those columns (the external id, `sf__Id`, `sf__Created`, `sf__Error`), so the
 * files are fetched as text and parsed into arrays, the columns found by header name; jsforce's own
 * `getAllResults` builds an object per row with every column (issue #16: about twice the CPU, 19 against
 * 9 µs a row of 15 columns).
 */

/** The job methods used here (jsforce's `IngestJobV2`, raw forms). */
interface BulkResultSource {
  getSuccessfulResults(raw: true): Promise<string>;
  getFailedResults(raw: true): Promise<string>;
  getUnprocessedRecords(raw: true): Promise<string>;
}

/** One result file: its rows as arrays of cells, and a column's cell of a row by header name. */
export interface ResultTable {
  readonly rows: readonly string[][];
  /** The cell of `row` under the header `name`; '' when the file has no such column. */
  readonly cell: (row: readonly string[], name: string) => string;
}

export interface BulkResultTables {
  readonly successful: ResultTable;
  readonly failed: ResultTable;
  readonly unprocessed: ResultTable;
}

export async function readResultTables(job: BulkResultSource): Promise<BulkResultTables> {
  const [successful, failed, unprocessed] = await Promise.all([
    job.getSuccessfulResults(true),
    job.getFailedResults(true),
    job.getUnprocessedRecords(true),
  ]);
  return {
    successful: resultTable(successful),
    failed: resultTable(failed),
    unprocessed: resultTable(unprocessed),
  };
}

/**
 * A result file as a table. Jobs are created with the default COMMA delimiter, the one their results
 * come back in; RFC 4180 quoting (a quoted cell may hold commas, quotes and line breaks).
 */
function resultTable(text: unknown): ResultTable {
  const all = typeof text === 'string' && text.length > 0 ? csvRows(text) : [];
  const header = all[0] ?? [];
  const index = new Map(header.map((name, at) => [name, at]));
  return {
    rows: all.slice(1),
    cell: (row, name) => {
      const at = index.get(name);
      return at === undefined ? '' : (row[at] ?? '');
    },
  };
}

/**
 * The rows of a CSV text exactly as csv-parse reads them (`bom: true`, comma-delimited, its other
 * defaults). A job's results are LF-terminated lines of quoted cells of one width, which a scan reads
 * in a fraction of csv-parse's time (issue #16: csv-parse was 3.8 % of the service's thread in a
 * backfill's drain; about 0.8 against 10 ms a file of 2,500 rows of 14 columns). Anything else (a CR
 * anywhere, an empty line, a quote inside an unquoted cell, text after a closing quote, an unclosed
 * quote, rows of different widths) goes to csv-parse itself, whose answer (rows or error) is the
 * reference; `bulk-results.test.ts` compares the two on random texts, valid and broken.
 */
export function csvRows(text: string): string[][] {
  return plainCsvRows(text) ?? parse(text, { bom: true, delimiter: ',' });
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;

/** The plain case's rows (LF-terminated lines of one width, no CR), or undefined when the text is not that. */
export function plainCsvRows(text: string): string[][] | undefined {
  if (text.includes('\r')) return undefined;
  const end = text.length;
  const rows: string[][] = [];
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let row: string[] = [];
  while (at < end) {
    if (row.length === 0 && text.charCodeAt(at) === LF) return undefined;
    const cell = text.charCodeAt(at) === QUOTE ? quotedCell(text, at) : plainCell(text, at);
    if (cell === undefined) return undefined;
    row.push(cell.value);
    at = cell.next;
    const after = at < end ? text.charCodeAt(at) : LF;
    if (after === COMMA) {
      at += 1;
      if (at === end) row.push('');
      else continue;
    } else if (after !== LF) return undefined;
    if (rows.length > 0 && row.length !== rows[0]!.length) return undefined;
    rows.push(row);
    row = [];
    at += 1;
  }
  return rows;
}

/** A quoted cell starting at `at` (its doubled quotes made single) and where the text goes on. */
function quotedCell(text: string, at: number): { value: string; next: number } | undefined {
  let value = '';
  let from = at + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return undefined;
    if (text.charCodeAt(quote + 1) !== QUOTE)
      return { value: value + text.slice(from, quote), next: quote + 1 };
    value += text.slice(from, quote + 1);
    from = quote + 2;
  }
}

/** An unquoted cell starting at `at`, up to the next comma or line end; undefined if it holds a quote. */
function plainCell(text: string, at: number): { value: string; next: number } | undefined {
  let next = at;
  for (; next < text.length; next += 1) {
    const c = text.charCodeAt(next);
    if (c === COMMA || c === LF) break;
    if (c === QUOTE) return undefined;
  }
  return { value: text.slice(at, next), next };
}
