/**
 * Care patterns: the archetypes patients follow (weekly, fortnightly, maintenance, drop-off, lapsed,
 * no-show, reactivation, ...) and the visit days each implies, as clinic-local slots converted to UTC.
 * These are the patterns the sync and the journey engine must recognise.
 */
import { DAY, MINUTE, zoneOffsetSeconds } from '../time.js';
import type { Generation } from './drafts.js';

export type Archetype =
  | 'weekly'
  | 'fortnightly'
  | 'maintenance'
  | 'drop-off'
  | 'lapsed'
  | 'no-show'
  | 'reactivation'
  | 'one-off'
  | 'new-upcoming'
  | 'enquiry';

export const ARCHETYPES: readonly (readonly [Archetype, number])[] = [
  ['weekly', 14],
  ['fortnightly', 14],
  ['maintenance', 18],
  ['drop-off', 12],
  ['lapsed', 10],
  ['no-show', 6],
  ['reactivation', 8],
  ['one-off', 9],
  ['new-upcoming', 5],
  ['enquiry', 4],
];

/** Visits are booked up to four weeks ahead of "now". */
export function horizonOf(now: number): number {
  return now + 28 * DAY;
}

/** The first visit's day: upcoming for new patients, early in the two-year history for lapsers. */
export function firstVisitDay(g: Generation, archetype: Archetype): number {
  const { rng, now } = g;
  const historyStart = now - 730 * DAY;
  return archetype === 'new-upcoming'
    ? now + rng.int(1, 14) * DAY
    : archetype === 'lapsed' || archetype === 'reactivation'
      ? historyStart + rng.int(0, 300) * DAY
      : historyStart + rng.int(0, 715) * DAY;
}

/** A local clinic slot between 08:00 and 17:45 on a weekday-ish day, converted to UTC. */
function slotUtc(g: Generation, business: number, day: number): number {
  const b = g.setup.businesses[business];
  const zone = b ? b.timeZone : 'Australia/Melbourne';
  const dayStart = Math.floor(day / DAY) * DAY;
  const localMinutes = 8 * 60 + g.rng.int(0, 39) * 15;
  return dayStart + localMinutes * MINUTE - zoneOffsetSeconds(zone, dayStart);
}

/** Start times (UTC seconds) of every visit the archetype books, the first visit first. */
export function visitSchedule(
  g: Generation,
  archetype: Archetype,
  business: number,
  firstVisit: number,
): number[] {
  const { rng } = g;
  const visits: number[] = [slotUtc(g, business, firstVisit)];
  const add = (day: number): void => {
    visits.push(slotUtc(g, business, day));
  };
  let day = firstVisit;
  const horizon = horizonOf(g.now);
  switch (archetype) {
    case 'weekly':
      for (let i = rng.int(8, 26); i > 0 && day < horizon; i--) add((day += 7 * DAY + rng.int(-1, 1) * DAY));
      break;
    case 'fortnightly':
      for (let i = rng.int(6, 16); i > 0 && day < horizon; i--) add((day += 14 * DAY + rng.int(-2, 2) * DAY));
      break;
    case 'maintenance':
      for (let i = 6; i > 0 && day < horizon; i--) add((day += 7 * DAY));
      for (let i = rng.int(6, 24); i > 0 && day < horizon; i--) add((day += rng.int(28, 35) * DAY));
      break;
    case 'drop-off':
      for (let i = rng.int(1, 2); i > 0; i--) add((day += rng.int(5, 9) * DAY));
      break;
    case 'lapsed':
      for (let i = rng.int(6, 12); i > 0; i--) add((day += 7 * DAY));
      break;
    case 'reactivation':
      for (let i = rng.int(4, 8); i > 0; i--) add((day += 7 * DAY));
      day += rng.int(120, 240) * DAY;
      for (let i = rng.int(3, 10); i > 0 && day < horizon; i--) add((day += 7 * DAY));
      break;
    case 'no-show':
    case 'one-off':
    case 'new-upcoming':
    case 'enquiry':
      break;
  }
  return visits;
}
