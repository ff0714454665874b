import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE, sqlitePlaceholders } from './dialect.js';
import { migrationSql, pendingMigrations } from './migrations.js';
import * as S from './statements.js';

/**
 * The SQLite plans of the hot paths' statements (issue #16). SQLite plans without statistics, so a
 * statement that reads the whole outbox instead of the rows it names still gives the right answer,
 * only slower with every item queued; these tests pin the index each one uses, and each has a control:
 * the earlier spelling of the same statement, which read everything.
 */
let db: DatabaseSync;
beforeEach(() => {
  db = new DatabaseSync(':memory:');
  for (const m of pendingMigrations(new Set())) db.exec(migrationSql('sqlite', m.sql));
});
afterEach(() => db.close());

const plan = (query: S.Query): string =>
  db
    .prepare(`EXPLAIN QUERY PLAN ${sqlitePlaceholders(query.sql)}`)
    .all(...(query.params as never[]))
    .map((row) => String(row.detail))
    .join('\n');

const write = { outboxId: '1', object: 'Contact', externalId: '1', payloadHash: 'h', salesforceId: null };

describe('SQLite plans of the hot paths', () => {
  it('claims the other slots of claimed records through the unique key, not the whole outbox', () => {
    const claim = S.claimOutbox(SQLITE, {
      owner: 'w',
      limit: 2,
      leaseMs: 1,
      now: 1,
      objects: ['Contact'],
      externalIds: ['1#journey', '2'],
    });
    expect(plan(claim)).toMatch(/USING INDEX sqlite_autoindex_outbox_1 \(object=\? AND external_id=\?\)/);
    // Control: with the blocked_by term free to use an index holding every item (outbox_blocked_by as
    // it was before migration 13), SQLite reads every unblocked item through it.
    const unhinted = { ...claim, sql: claim.sql.replace('+blocked_by IS NULL', 'blocked_by IS NULL') };
    expect(unhinted.sql).not.toBe(claim.sql);
    db.exec('DROP INDEX outbox_blocked_by; CREATE INDEX outbox_blocked_by ON outbox (blocked_by)');
    expect(plan(unhinted)).toMatch(/USING INDEX outbox_blocked_by/);
    expect(plan(claim)).toMatch(/USING INDEX sqlite_autoindex_outbox_1 \(object=\? AND external_id=\?\)/);
  });

  it('claims in (priority, id) order through outbox_claim, stopping at its limit instead of sorting every due item', () => {
    const claim = S.claimOutbox(SQLITE, { owner: 'w', limit: 10_000, leaseMs: 1, now: 1 });
    const detail = plan(claim);
    expect(detail).toMatch(/USING INDEX outbox_claim/);
    expect(detail).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
    // Control: without migration 10's index, SQLite reads every due item and sorts them.
    db.exec('DROP INDEX outbox_claim');
    expect(plan(claim)).toMatch(/USE TEMP B-TREE FOR ORDER BY/);
  });

  it('releases blocked items through the partial index of blocked items only', () => {
    const release = S.completeWriteStatements(SQLITE, [write], 1)[3]!;
    expect(release.sql).toContain('blocked_by');
    expect(plan(release)).toMatch(/USING COVERING INDEX outbox_blocked_by \(blocked_by=\?\)/);
    expect(plan(S.selectBlockedOutbox(SQLITE, 10))).toMatch(/SEARCH outbox USING INDEX outbox_blocked_by/);
    // Controls: the listing in id order walks every item; without the index, so does a release.
    const inIdOrder = S.selectBlockedOutbox(SQLITE, 10);
    expect(plan({ ...inIdOrder, sql: inIdOrder.sql.replace('+id', 'id') })).toMatch(/^SCAN outbox$/);
    db.exec('DROP INDEX outbox_blocked_by');
    expect(plan(release)).toMatch(/^SCAN outbox/m);
  });

  it('finds held and publishing items by their integer key', () => {
    for (const query of [
      ...S.holdOutboxItems(SQLITE, 'w', ['1', '2'], { until: 5, keepIfPast: 3 }),
      S.markPublishing(SQLITE, ['1'], 1),
    ]) {
      expect(plan(query)).toMatch(/SEARCH outbox USING INTEGER PRIMARY KEY/);
    }
    // Control: the ids compared as text (the earlier spelling) scan the outbox.
    const asText = {
      sql: `UPDATE outbox SET lease_expires_at = $2 WHERE +lease_owner = $1 AND ${SQLITE.inList('CAST(id AS TEXT)', 3)}`,
      params: ['w', 5, SQLITE.listParam(['1', '2'])],
    };
    expect(plan(asText)).toMatch(/SCAN outbox/);
  });

  it("renews a worker's leases through the partial lease-owner index, not by reading every queued item", () => {
    for (const query of [S.renewOutboxLeases('w', 5), S.releaseOutboxOfOwner('w')]) {
      expect(plan(query)).toMatch(/SEARCH outbox USING INDEX outbox_lease_owner \(lease_owner=\?\)/);
    }
    // Control: without migration 11's index, each heartbeat scans the whole outbox.
    db.exec('DROP INDEX outbox_lease_owner');
    expect(plan(S.renewOutboxLeases('w', 5))).toMatch(/^SCAN outbox$/);
  });

  it("completes a collection by key: items, record states and only the written records' dead letters", () => {
    const [remove, release, state, , supersede] = S.completeWriteStatements(SQLITE, [write], 1);
    expect(plan(remove!)).toMatch(/SEARCH outbox USING INTEGER PRIMARY KEY/);
    expect(plan(release!)).toMatch(/SEARCH outbox USING INTEGER PRIMARY KEY/);
    expect(plan(state!)).not.toMatch(/SCAN record_state/);
    expect(plan(supersede!)).toMatch(/USING INDEX dead_letters_one_open \(object=\? AND external_id=\?\)/);
    expect(plan(S.countWrittenElsewhere(SQLITE, [write]))).toMatch(
      /SEARCH r USING INDEX sqlite_autoindex_record_state_1/,
    );
    // Control: as an inner join SQLite reads every open dead letter and looks for it among the writes.
    const inner = { ...supersede!, sql: supersede!.sql.replace('CROSS JOIN', 'JOIN') };
    expect(plan(inner)).toMatch(/USING INDEX dead_letters_open \(replayed_at=\?\)/);
  });
});
