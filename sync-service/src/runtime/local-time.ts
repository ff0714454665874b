import { addDays, localDate, startOfLocalDay } from '../journey/time.js';

/** Wall-clock times in the clinic's zone, for the scheduler's daily jobs. */

/** Parses `HH:MM` (24 h). */
export function parseLocalTime(value: string): { hour: number; minute: number } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!match) throw new Error(`local time must be HH:MM (24 h), got "${value}"`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/**
 * The next instant strictly after `now` at which the clinic's wall clock shows `at`. Measured as an
 * offset from local midnight, so on a daylight-saving change day the job runs an hour early or late
 * rather than twice or never.
 */
export function nextLocalTime(now: number, at: string, zone: string): number {
  const { hour, minute } = parseLocalTime(at);
  const offset = (hour * 60 + minute) * 60_000;
  const today = localDate(now, zone);
  for (const date of [today, addDays(today, 1), addDays(today, 2)]) {
    const candidate = startOfLocalDay(date, zone) + offset;
    if (candidate > now) return candidate;
  }
  /* c8 ignore next */
  throw new Error('no next local time within two days');
}
