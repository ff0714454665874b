import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvRows, plainCsvRows } from './bulk-results.js';

/** csv-parse as the writer used it before, and as `csvRows` falls back to it: the reference. */
function reference(text: string): { rows: string[][] } | { error: string } {
  try {
    return { rows: parse(text, { bom: true, delimiter: ',' }) };
  } catch (err) {
    return { error: String((err as { code?: unknown }).code ?? err) };
  }
}

function ours(read: (text: string) => string[][] | undefined, text: string) {
  try {
    return read(text);
  } catch (err) {
    return { error: String((err as { code?: unknown }).code ?? err) };
  }
}

/**
 * Random CSV texts: tables of adversarial cells (quotes, commas, CR, LF, BOM, non-ASCII, empty),
 * quoted always, only where needed or never (which breaks them), LF or CRLF, with or without a BOM
 * and a last line end, and sometimes one character inserted or removed at random.
 */
const cell = fc.oneof(
  fc.string({
    unit: fc.constantFrom('"', ',', '\r', '\n', 'a', 'b', ' ', 'é', '名', '\uFEFF'),
    maxLength: 6,
  }),
  fc.constantFrom('', 'a01000000000001AAA', 'true', 'false', '2025-01-01T10:00:00.000Z'),
);
const quoting = fc.constantFrom('always', 'needed', 'never');
const table = fc
  .integer({ min: 1, max: 4 })
  .chain((width) => fc.array(fc.array(cell, { minLength: width, maxLength: width }), { maxLength: 5 }));
const csvText = fc
  .record({
    header: fc.array(fc.constantFrom('sf__Id', 'sf__Created', 'sf__Error', 'Ext__c', 'Name'), {
      minLength: 1,
      maxLength: 4,
    }),
    rows: table,
    quote: quoting,
    eol: fc.constantFrom('\n', '\n', '\r\n'),
    bom: fc.boolean(),
    lastEol: fc.boolean(),
    ragged: fc.boolean(),
    mutation: fc.option(fc.record({ at: fc.nat(), insert: fc.constantFrom('', '"', ',', '\n', '\r', 'x') })),
  })
  .map(({ header, rows, quote, eol, bom, lastEol, ragged, mutation }) => {
    const width = header.length;
    const lines = [
      header,
      ...rows.map((r) => (ragged ? r : [...r, ...Array<string>(width).fill('')].slice(0, width))),
    ];
    const encode = (c: string) =>
      quote === 'always' || (quote === 'needed' && /[",\r\n]/.test(c)) ? `"${c.replaceAll('"', '""')}"` : c;
    let text =
      (bom ? '\uFEFF' : '') + lines.map((l) => l.map(encode).join(',')).join(eol) + (lastEol ? eol : '');
    if (mutation) {
      const at = mutation.at % (text.length + 1);
      text = text.slice(0, at) + mutation.insert + text.slice(at + (mutation.insert === '' ? 1 : 0));
    }
    return text;
  });

describe("a Bulk job's result files, read as csv-parse reads them", () => {
  it('reads every text exactly as csv-parse does: the same rows, or the same error', () => {
    let plain = 0;
    let plainValid = 0;
    fc.assert(
      fc.property(csvText, (text) => {
        const expected = reference(text);
        if (plainCsvRows(text) !== undefined) plain += 1;
        if (plainCsvRows(text) !== undefined && 'rows' in expected) plainValid += 1;
        // The scan, where it answers, never answers otherwise than csv-parse (nor where csv-parse refuses).
        const scanned = plainCsvRows(text);
        if (scanned !== undefined) expect(scanned).toEqual('rows' in expected ? expected.rows : expected);
        const read = ours(csvRows, text);
        expect(read).toEqual('rows' in expected ? expected.rows : expected);
      }),
      { numRuns: 3_000 },
    );
    // Not vacuous: the scan answered a good share of the texts itself (the rest went to csv-parse).
    expect(plain).toBeGreaterThan(300);
    expect(plainValid).toBe(plain);
  });

  it('is a comparison that can fail: a reader that splits on commas and line ends is caught', () => {
    const naive = (text: string) =>
      text
        .replace(/^\uFEFF/, '')
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => line.split(',').map((c) => c.replace(/^"(.*)"$/s, '$1')));
    const differs = fc.sample(csvText, { numRuns: 500, seed: 7 }).filter((text) => {
      const expected = reference(text);
      return (
        JSON.stringify(ours(naive, text)) !== JSON.stringify('rows' in expected ? expected.rows : expected)
      );
    });
    expect(differs.length).toBeGreaterThan(50);
  });

  it.each([
    [
      'quoted commas, doubled quotes and line breaks',
      '"sf__Id","Name"\n"001","a, ""b""\nc"\n',
      [
        ['sf__Id', 'Name'],
        ['001', 'a, "b"\nc'],
      ],
    ],
    [
      'a BOM, unquoted cells, no last line end',
      '\uFEFFsf__Id,sf__Created\n001,true',
      [
        ['sf__Id', 'sf__Created'],
        ['001', 'true'],
      ],
    ],
    [
      'an empty last cell',
      'a,b\n1,\n',
      [
        ['a', 'b'],
        ['1', ''],
      ],
    ],
    [
      'CRLF lines (read by csv-parse)',
      'a,b\r\n1,2\r\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    ['a header alone', '"sf__Id","sf__Error"\n', [['sf__Id', 'sf__Error']]],
  ])('%s', (_name, text, rows) => {
    expect(csvRows(text)).toEqual(rows);
  });

  it.each([
    ['an unclosed quote', 'a,b\n"1,2\n', 'CSV_QUOTE_NOT_CLOSED'],
    ['text after a closing quote', 'a,b\n"1"x,2\n', 'CSV_INVALID_CLOSING_QUOTE'],
    ['rows of different widths', 'a,b\n1\n', 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'],
  ])('refuses %s with csv-parse’s own error', (_name, text, code) => {
    expect(plainCsvRows(text)).toBeUndefined();
    expect(() => csvRows(text)).toThrow(expect.objectContaining({ code }) as Error);
  });
});
