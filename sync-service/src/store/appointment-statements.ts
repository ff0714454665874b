import type { SqlDialect } from './dialect.js';
import { insertReminders } from './set-statements.js';
import type { Query } from './statements.js';
import type { BatchCommit } from './types.js';

/**
 * The appointment events' SQL (issue #19), split from statements.ts (which re-exports it, so the
 * adapters still see every statement through one module): the announced event keys, the set-once
 * signposts and the reminder index. Placeholders are `$n`, as there.
 */

const q = (sql: string, params: readonly unknown[] = []): Query => ({ sql, params });

// ---- announced events and signposts (issue #19); the batch's keys: set-statements.ts

export const selectAnnouncedEvents = (d: SqlDialect, keys: readonly string[]): Query =>
  q(`SELECT event_key FROM announced_events WHERE ${d.inList('event_key', 1)}`, [d.listParam(keys)]);
/** A signpost is set once: a later value never moves it. */
export const insertSignpost = (name: string, at: number): Query =>
  q('INSERT INTO signposts (name, at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, at]);
export const selectSignpost = (name: string): Query => q('SELECT at FROM signposts WHERE name = $1', [name]);

// ---- the reminder index (issue #19)

/** Forgets the indexed moments of these appointments (before their current moments are inserted). */
export const deleteReminders = (d: SqlDialect, appointmentIds: readonly string[]): Query =>
  q(`DELETE FROM reminders_due WHERE ${d.inList('appointment_id', 1)}`, [d.listParam(appointmentIds)]);
/** A rebuild begins: the whole index and its fingerprint go, in the transaction that writes its first page. */
export const clearReminders = (): Query[] => [
  q('DELETE FROM reminders_due'),
  q('DELETE FROM reminders_index'),
];
export const insertRemindersIndex = (fingerprint: string, now: number): Query =>
  q('INSERT INTO reminders_index (fingerprint, built_at) VALUES ($1, $2)', [fingerprint, now]);
export const selectRemindersIndex = (): Query => q('SELECT fingerprint FROM reminders_index');
/** The appointments with a moment due by `now`, earliest first: an index range scan (`reminders_due_at`). */
export const selectDueReminders = (now: number, limit: number): Query =>
  q(
    `SELECT appointment_id FROM reminders_due WHERE due_at <= $1
     GROUP BY appointment_id ORDER BY MIN(due_at), appointment_id LIMIT $2`,
    [now, limit],
  );

/**
 * The reminder index's part of a batch: a rebuild's first page clears it; each listed appointment's
 * moments are replaced; a rebuild's last page records the fingerprint.
 */
export function reminderStatements(d: SqlDialect, batch: BatchCommit): Query[] {
  const list = batch.reminders ?? [];
  const out: Query[] = batch.remindersCleared === true ? clearReminders() : [];
  if (list.length > 0)
    out.push(
      deleteReminders(
        d,
        list.map((r) => r.appointmentId),
      ),
    );
  out.push(...insertReminders(d, batch));
  if (batch.remindersRebuilt !== undefined)
    out.push(q('DELETE FROM reminders_index'), insertRemindersIndex(batch.remindersRebuilt, batch.now));
  return out;
}
