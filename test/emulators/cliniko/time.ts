/** Timestamps are kept as UNIX seconds; Cliniko sends UTC with `Z` at second precision. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isoOrNull(epochSeconds: number | null): string | null {
  return epochSeconds === null ? null : isoSeconds(epochSeconds);
}

/** YYYY-MM-DD for a UNIX-seconds instant as seen in an IANA zone. */
export function localDate(epochSeconds: number, timeZone: string): string {
  return dateFormatter(timeZone).format(new Date(epochSeconds * 1000));
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function dateFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats dates as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

const offsetCache = new Map<string, number>();
/**
 * UTC offset in seconds of an IANA zone on a UTC calendar day (cached per zone and day). Clinic hours are
 * local, so a 9:00 appointment in Melbourne is 23:00Z or 22:00Z the day before depending on DST.
 */
export function zoneOffsetSeconds(timeZone: string, dayStartEpochSeconds: number): number {
  const key = `${timeZone}|${dayStartEpochSeconds}`;
  const hit = offsetCache.get(key);
  if (hit !== undefined) return hit;
  const probe = new Date((dayStartEpochSeconds + 12 * 3600) * 1000);
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(probe);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  const offset = Math.round((asUtc - probe.getTime()) / 1000);
  offsetCache.set(key, offset);
  return offset;
}

export const DAY = 86_400;
export const HOUR = 3_600;
export const MINUTE = 60;
