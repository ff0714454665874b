/**
 * Calendar arithmetic in a clinic's IANA time zone, using only Intl (no time-zone database of our
 * own). Day counts are counts of calendar dates, never of 24-hour periods, so a daylight-saving
 * change (a 23- or 25-hour day) never moves a threshold by a day.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    // en-CA with hourCycle h23 gives numeric parts that are easy to read back.
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when `zone` is an IANA zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function formattedParts(epochMs: number, zone: string): LocalParts {
  const parts = formatterFor(zone).formatToParts(new Date(epochMs));
  const get = (type: Intl.DateTimeFormatPartTypes): number => {
    const part = parts.find((p) => p.type === type);
    return part ? Number(part.value) : 0;
  };
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour') % 24,
    minute: get('minute'),
    second: get('second'),
  };
}

/** The zone's UTC offset (ms) at an instant, from the formatted wall clock (whole seconds). */
function offsetAt(epochMs: number, zone: string): number {
  const p = formattedParts(epochMs, zone);
  const second = Math.floor(epochMs / 1000) * 1000;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - second;
}

/**
 * Offsets by zone and UTC day, and by quarter hour on the days a zone changes its offset (issue #16:
 * formatting every instant through Intl was a visible share of a backfill's CPU, and a cache by quarter
 * hour alone formatted two instants for nearly every appointment: a practice's appointments fall in
 * different quarter hours, tens of thousands a year). A day whose first and last seconds share an
 * offset is taken to keep it throughout; a zone that changed twice within one UTC day, and back, would
 * be misread: of the 418 zones Node 24 knows, none does from 1900 to 2100 (each such day checked every
 * three hours). Zones change offset on quarter-hour UTC boundaries; a quarter whose two ends disagree (a
 * transition inside it, as in some historical zones) is not cached and every instant in it is
 * formatted. A memo of a pure function, cleared wholesale when large.
 */
const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;
/** Per zone: offsets by UTC day number and by quarter-hour number (no key string built per instant). */
const offsetCache = new Map<string, { days: Map<number, number>; quarters: Map<number, number> }>();
let cachedOffsets = 0;

/** The offset over the span `n` (of `spanMs`) if its first and last seconds agree, else NaN; memoised. */
function steadyOffset(memo: Map<number, number>, n: number, spanMs: number, zone: string): number {
  const cached = memo.get(n);
  if (cached !== undefined) return cached;
  const start = offsetAt(n * spanMs, zone);
  const end = offsetAt((n + 1) * spanMs - 1000, zone);
  const offset = start === end ? start : NaN;
  if (++cachedOffsets > 100_000) {
    for (const zoneMemo of offsetCache.values()) {
      zoneMemo.days.clear();
      zoneMemo.quarters.clear();
    }
    cachedOffsets = 1;
  }
  memo.set(n, offset);
  return offset;
}

function cachedOffset(epochMs: number, zone: string): number | undefined {
  let memo = offsetCache.get(zone);
  if (memo === undefined) {
    memo = { days: new Map(), quarters: new Map() };
    offsetCache.set(zone, memo);
  }
  const daily = steadyOffset(memo.days, Math.floor(epochMs / DAY_MS), DAY_MS, zone);
  if (!Number.isNaN(daily)) return daily;
  const offset = steadyOffset(memo.quarters, Math.floor(epochMs / QUARTER_MS), QUARTER_MS, zone);
  return Number.isNaN(offset) ? undefined : offset;
}

function localParts(epochMs: number, zone: string): LocalParts {
  const offset = cachedOffset(epochMs, zone);
  if (offset === undefined) return formattedParts(epochMs, zone);
  const wall = new Date(Math.floor(epochMs / 1000) * 1000 + offset);
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
  };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** The calendar date (YYYY-MM-DD) of an instant as a clock on the clinic wall shows it. */
export function localDate(epochMs: number, zone: string): string {
  const p = localParts(epochMs, zone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** Days since 1970-01-01 of a calendar date; differences of these are calendar-day counts. */
export function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Math.round(Date.UTC(y, m - 1, d) / 86_400_000);
}

export function dateFromDayNumber(day: number): string {
  const dt = new Date(day * 86_400_000);
  return `${pad(dt.getUTCFullYear(), 4)}-${pad(dt.getUTCMonth() + 1)}-${pad(dt.getUTCDate())}`;
}

export function addDays(date: string, days: number): string {
  return dateFromDayNumber(dayNumber(date) + days);
}

/** Calendar days from the local date of `fromMs` to the local date of `toMs`. */
export function calendarDaysBetween(fromMs: number, toMs: number, zone: string): number {
  return dayNumber(localDate(toMs, zone)) - dayNumber(localDate(fromMs, zone));
}

const dayStartCache = new Map<string, number>();

/**
 * The first instant of a local calendar date (local midnight, or the first minute that exists when a
 * zone skips midnight). Binary search over the window in which that instant can lie: zone offsets
 * range from -12 h to +14 h, and local dates only move forward within it. Resolution: one second.
 */
export function startOfLocalDay(date: string, zone: string): number {
  const cacheKey = `${zone}|${date}`;
  const cached = dayStartCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const utcMidnight = dayNumber(date) * 86_400_000;
  let lo = utcMidnight - 15 * 3_600_000; // local date is certainly before `date` here
  let hi = utcMidnight + 13 * 3_600_000; // and certainly on or after it here
  // Invariant: localDate(lo) < date <= localDate(hi). Dates compare correctly as strings.
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localDate(mid, zone) >= date) hi = mid;
    else lo = mid;
  }
  // A memo of a pure function; cleared wholesale so a long daily pass cannot grow it without bound.
  if (dayStartCache.size >= 50_000) dayStartCache.clear();
  dayStartCache.set(cacheKey, hi);
  return hi;
}
