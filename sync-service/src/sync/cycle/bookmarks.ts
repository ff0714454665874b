import { toClinikoTime } from '../../cliniko/index.js';
import type { Watermark } from '../../store/index.js';

/**
 * A stream's two bookmarks (issue #16, item 5; the argument is in cliniko/README.md, "Watermarks").
 * Cliniko may make a record visible some time after the `updated_at` it carries (a late commit: its
 * created_at/updated_at are not set atomically, and clocks drift). The overlap δ bounds that delay: a
 * record stamped at t is visible by t + δ.
 *
 * - `cursor`: everything visible when the stream was read up to it has been read. An ordinary
 *   incremental read starts here, without any overlap: an idle stream costs one request.
 * - `settled` (never after the cursor): everything stamped at or before it has been read, late
 *   commits included. A read that starts at Cliniko time S (its signpost) and covers [from, S] sees
 *   every record stamped in [from, S - δ]: those were visible when it started.
 *
 * The window (settled, cursor] is re-read once it has settled: a cycle whose clock is at least 2δ past
 * the settled point reads from `settled` instead of `cursor` (a recheck), covering both windows in one
 * walk, and moves `settled` up to S - δ, at least δ further. So each record is re-read by at most two
 * rechecks (about one every δ) instead of by every cycle for δ, and a record committed late is read by
 * the first recheck after it became visible: within δ plus one poll interval of its visibility.
 *
 * Times are Cliniko's own ISO strings at second precision; a `>=` filter re-reads the boundary second.
 */
export interface Bookmarks {
  readonly cursor: string;
  readonly settled: string;
}

/** The stored watermark's bookmarks. A row from before migration 8 (no settled point) settled what the
 * old every-cycle overlap did: the cursor minus the overlap. */
export function bookmarksOf(watermark: Watermark, overlapMs: number): Bookmarks {
  const cursorMs = Date.parse(watermark.cursor);
  const settled = watermark.settled ?? toClinikoTime(cursorMs - overlapMs);
  return { cursor: watermark.cursor, settled: earlier(settled, watermark.cursor) };
}

/**
 * A recheck is due once, by Cliniko's clock, the window after `settled` has settled and a recheck
 * would move it by δ or more. `clinikoNowMs` only decides when: what a recheck settles is measured on
 * the signpost of the read itself.
 */
export function recheckDue(b: Bookmarks, clinikoNowMs: number, overlapMs: number): boolean {
  return clinikoNowMs >= Date.parse(b.settled) + 2 * overlapMs;
}

/**
 * Cliniko's clock now, estimated without asking it: the stored cursor was at or before Cliniko's clock
 * when it was committed at `updatedAt` (this process's clock), so the cursor plus the time elapsed
 * since errs early, never late, whatever the offset between the two clocks (a clinic whose clock is
 * not ours would otherwise be rechecked at every cycle, or never).
 */
export function clinikoNow(watermark: Watermark, nowMs: number): number {
  return Date.parse(watermark.cursor) + Math.max(0, nowMs - watermark.updatedAt);
}

/** Where a read starts: the settled point for a recheck, the cursor otherwise. */
export function readFrom(b: Bookmarks, recheck: boolean): string {
  return recheck ? b.settled : b.cursor;
}

/**
 * After a durable page of an incremental read ordered by updated_at, whose rows go up to `maxUpdatedAt`
 * and which began at `signpostMs` (Cliniko's clock): the cursor follows the rows (never past the
 * signpost); a recheck also settles what it has passed that was visible when it began.
 */
export function afterPage(
  b: Bookmarks,
  recheck: boolean,
  maxUpdatedAt: string | undefined,
  signpostMs: number,
  overlapMs: number,
): Bookmarks {
  const ms = maxUpdatedAt === undefined ? NaN : Date.parse(maxUpdatedAt);
  if (!Number.isFinite(ms)) return b;
  const reached = Math.min(ms, signpostMs);
  return {
    cursor: later(b.cursor, toClinikoTime(reached)),
    settled: recheck ? later(b.settled, toClinikoTime(Math.min(reached, signpostMs - overlapMs))) : b.settled,
  };
}

/**
 * After a complete incremental read: the cursor goes to the signpost (an idle stream's lag stays
 * honest); a recheck settles everything stamped up to the signpost minus δ.
 */
export function afterRead(b: Bookmarks, recheck: boolean, signpostMs: number, overlapMs: number): Bookmarks {
  return {
    cursor: later(b.cursor, toClinikoTime(signpostMs)),
    settled: recheck ? later(b.settled, toClinikoTime(signpostMs - overlapMs)) : b.settled,
  };
}

/**
 * After a complete backfill (pages by id, begun at `signpostMs`): everything visible then has been read,
 * so everything stamped up to δ before it is settled; the δ before it is rechecked once it has settled.
 */
export function afterBackfill(signpostMs: number, overlapMs: number): Bookmarks {
  return { cursor: toClinikoTime(signpostMs), settled: toClinikoTime(signpostMs - overlapMs) };
}

/** True when `next` moves either bookmark past `current`. */
export function advances(next: Bookmarks, current: Bookmarks | undefined): boolean {
  if (current === undefined) return true;
  return (
    Date.parse(next.cursor) > Date.parse(current.cursor) ||
    Date.parse(next.settled) > Date.parse(current.settled)
  );
}

function later(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function earlier(a: string, b: string): string {
  return Date.parse(b) < Date.parse(a) ? b : a;
}
