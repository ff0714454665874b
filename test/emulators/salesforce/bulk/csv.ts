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

export interface ParsedUpload {
  header: string[];
  /** Cell text exactly as uploaded, one array per data line. */
  lines: string[][];
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
  let rows: string[][];
  try {
    rows = parse(body, {
      delimiter: COLUMN_DELIMITERS[delimiter],
      record_delimiter: lineEnding === 'LF' ? '\n' : '\r\n',
      skip_empty_lines: true,
    });
  } catch (error) {
    throw new InvalidUploadError(`InvalidBatch : Failed to parse CSV: ${(error as Error).message}`);
  }
  const [header, ...lines] = rows;
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
