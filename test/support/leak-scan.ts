import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { DatabaseSync } from 'node:sqlite';
import type { PayloadCipher } from '../../sync-service/src/store/index.js';

/**
 * The zero-leak scanner: finds canary tokens (and any other needles) in captured bytes. Canary tokens
 * are `CANARY-` + 16 hex digits (test/emulators/cliniko/canary.ts); matching is case-insensitive so a
 * transform that changed case would still be caught.
 */

const CANARY = /canary-[0-9a-f]{16}/gi;

export interface Finding {
  readonly where: string;
  readonly needle: string;
}

/** Every canary-looking token in `text`, labelled with where it was found. */
export function findCanaries(where: string, text: string): Finding[] {
  return [...text.matchAll(CANARY)].map((m) => ({ where, needle: m[0] }));
}

/** Each needle (a known patient value or secret) that occurs in `text`. */
export function findNeedles(where: string, text: string, needles: readonly string[]): Finding[] {
  const lower = text.toLowerCase();
  return needles.filter((n) => lower.includes(n.toLowerCase())).map((needle) => ({ where, needle }));
}

/** A pino destination that keeps every line. */
export function captureStream(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l !== ''));
      done();
    },
  });
  return { stream, lines };
}

export interface StoreDump {
  /** The database file and its WAL / shared-memory files, byte for byte (latin1, so nothing is lost). */
  readonly files: { readonly path: string; readonly text: string }[];
  /** Every cell of every table, decrypted where it decrypts. */
  readonly cells: { readonly where: string; readonly text: string }[];
  /** How many cells decrypted: proves the scan saw plaintext, not only ciphertext. */
  readonly decrypted: number;
}

/** Reads a SQLite store raw: its files, then every row of every table through a read-only connection. */
export function dumpSqliteStore(path: string, cipher: PayloadCipher): StoreDump {
  const files = [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]
    .filter((p) => existsSync(p))
    .map((p) => ({ path: p, text: readFileSync(p).toString('latin1') }));
  const db = new DatabaseSync(path, { readOnly: true });
  const cells: { where: string; text: string }[] = [];
  let decrypted = 0;
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[];
    for (const { name } of tables) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all();
      rows.forEach((row, i) => {
        for (const [column, value] of Object.entries(row)) {
          const where = `${name}[${i}].${column}`;
          if (value instanceof Uint8Array || typeof value === 'string') {
            const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
            cells.push({ where, text: Buffer.from(bytes).toString('latin1') });
            try {
              cells.push({ where: `${where} (decrypted)`, text: cipher.decrypt(bytes) });
              decrypted += 1;
            } catch {
              // Not ciphertext: scanned as it is above.
            }
          } else if (value !== null) {
            cells.push({ where, text: String(value) });
          }
        }
      });
    }
  } finally {
    db.close();
  }
  return { files, cells, decrypted };
}
