/**
 * CSV in and out of Bulk API 2.0 ingest jobs. Parsing with csv-parse and writing with csv-stringify
 * (the csv project's maintained packages) keeps quoting, embedded newlines and delimiters right.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

export const COLUMN_DELIMITERS = {
  COMMA: ',',
  TAB: '\t',
  PIPE: '|',
  SEMICOLON: ';',
  CARET: '^',
  BACKQUOTE: '`',
} as const;
export type ColumnDelimiter = keyof typeof COLUMN_DELIMITERS;
export type LineEnding = 'LF' | 'CRLF';

/** Bulk 2.0 writes `#N/A` in a CSV cell to mean "set this field to null". */
export const NULL_MARKER = '#N/A';

export interface DataLine {
  /** Cell text exactly as uploaded. */
  cells: string[];
  /** Where it was, for error messages: the line of the upload the record ends on. */
  line: number;
}

export interface ParsedUpload {
  header: string[];
  lines: DataLine[];
}

/** A problem with the uploaded data as a whole; the job fails with this message. */
export class InvalidUploadError extends Error {}

/**
 * Parses one upload. Every failure names what is wrong and where (csv-parse reports the line), so the
 * job's `errorMessage` tells the client how to fix its file.
 */
export function parseUpload(text: string, delimiter: ColumnDelimiter, lineEnding: LineEnding): ParsedUpload {
  const body = text.replace(/^\uFEFF/, '');
  // Salesforce refuses data whose line endings do not match the job's `lineEnding`.
  if (lineEnding === 'LF' ? body.includes('\r\n') : body.includes('\n') && !body.includes('\r\n')) {
    throw new InvalidUploadError(
      `ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is ${lineEnding}`,
    );
  }
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // Rows with the wrong number of cells are let through and fail one by one, so the rest of the
    // upload is still applied.
    rows = parse(body, {
      delimiter: COLUMN_DELIMITERS[delimiter],
      record_delimiter: lineEnding === 'LF' ? '\n' : '\r\n',
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as unknown as typeof rows; // with `info`, csv-parse yields { record, info } (its types miss this)
  } catch (error) {
    throw new InvalidUploadError(`InvalidBatch : Failed to parse CSV: ${(error as Error).message}`);
  }
  const header = rows[0]?.record;
  const lines = rows.slice(1).map((r) => ({ cells: r.record, line: r.info.lines }));
  if (!header || header.length === 0)
    throw new InvalidUploadError('InvalidBatch : The CSV data has no header row');
  const seen = new Set<string>();
  header.forEach((name, index) => {
    const trimmed = name.trim();
    if (trimmed === '')
      throw new InvalidUploadError(`InvalidBatch : Field name is empty in column ${index + 1}`);
    if (seen.has(trimmed.toLowerCase()))
      throw new InvalidUploadError(`InvalidBatch : Duplicate field name: ${trimmed}`);
    seen.add(trimmed.toLowerCase());
  });
  return { header: header.map((h) => h.trim()), lines };
}

export function toCsv(
  header: string[],
  rows: string[][],
  delimiter: ColumnDelimiter,
  lineEnding: LineEnding,
): string {
  return stringify([header, ...rows], {
    delimiter: COLUMN_DELIMITERS[delimiter],
    record_delimiter: lineEnding === 'LF' ? 'unix' : 'windows',
    quoted: true,
  });
}
