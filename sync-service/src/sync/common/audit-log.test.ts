import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAuditEntry, type AuditEntry } from '../../governance/audit.js';
import { SqliteStore, type AuditRow } from '../../store/index.js';
import { AUDIT_PAGE, auditRowOf, walkAuditLog } from './audit-log.js';

/**
 * A walk of the audit log lets the event loop through between its pages: the SQLite store answers
 * synchronously, and the hourly self-check walks millions of entries at scale (issue #16). A callback
 * queued before the walk runs after the first page, not after the last.
 */
let store: SqliteStore;

beforeEach(async () => {
  store = new SqliteStore(':memory:', {
    encrypt: (plaintext) => Buffer.from(plaintext, 'utf8'),
    decrypt: (ciphertext) => Buffer.from(ciphertext).toString('utf8'),
  });
  await store.migrate();
  const rows: AuditRow[] = [];
  let previous: AuditEntry | undefined;
  for (let i = 0; i < AUDIT_PAGE + 10; i++) {
    previous = buildAuditEntry(
      {
        timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
        actor: 'sync-service',
        sourceSystem: 'cliniko',
        object: 'Contact',
        externalId: String(1000 + i),
        operation: 'create',
        changedFields: ['Email'],
        payload: { n: i },
        runId: 'run-1',
      },
      previous,
    );
    rows.push(auditRowOf(previous, 0));
  }
  await store.completeWrites([], () => rows, 0);
});

afterEach(async () => {
  await store.close();
});

describe('walkAuditLog', () => {
  it('visits every entry once, in order, and lets the event loop through between pages', async () => {
    let visited = 0;
    let lastSeq = 0;
    let ranAfter: number | undefined;
    setImmediate(() => (ranAfter = visited));
    const { count, rowProblem } = await walkAuditLog(store, (entry) => {
      expect(entry.seq).toBe(lastSeq + 1);
      lastSeq = entry.seq;
      visited += 1;
    });
    expect(rowProblem).toBeUndefined();
    expect(count).toBe(AUDIT_PAGE + 10);
    // Fails if the walk runs its pages back to back (the callback would run only after the walk).
    expect(ranAfter).toBe(AUDIT_PAGE);
  });
});
