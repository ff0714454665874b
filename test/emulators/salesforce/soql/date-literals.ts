/**
 * SOQL date literals (TODAY, LAST_N_DAYS:n, THIS_QUARTER, ...) as half-open UTC ranges
 * [start, end) in epoch milliseconds, computed against the context's clock.
 *
 * Assumptions an org would configure (stated so the reader knows what is emulated): the running user's
 * time zone is UTC, weeks start on Sunday (en_US locale), and the fiscal year is the calendar year
 * (Salesforce's default), so FISCAL_* literals equal their calendar counterparts.
 */
import { malformed } from './errors.js';

export interface DateRange {
  start: number;
  end: number;
}

type Unit = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

const DAY_MS = 86_400_000;

function startOf(unit: Unit, now: Date): Date {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (unit) {
    case 'DAY':
      return new Date(Date.UTC(y, m, d));
    case 'WEEK':
      return new Date(Date.UTC(y, m, d - now.getUTCDay()));
    case 'MONTH':
      return new Date(Date.UTC(y, m, 1));
    case 'QUARTER':
      return new Date(Date.UTC(y, m - (m % 3), 1));
    case 'YEAR':
      return new Date(Date.UTC(y, 0, 1));
  }
}

function add(unit: Unit, from: Date, count: number): number {
  switch (unit) {
    case 'DAY':
      return from.getTime() + count * DAY_MS;
    case 'WEEK':
      return from.getTime() + count * 7 * DAY_MS;
    case 'MONTH':
      return Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + count, 1);
    case 'QUARTER':
      return Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 3 * count, 1);
    case 'YEAR':
      return Date.UTC(from.getUTCFullYear() + count, 0, 1);
  }
}

/** `this`, `last` and `next` relative to the unit containing now. */
function relative(unit: Unit, now: Date, offset: number): DateRange {
  const s = startOf(unit, now);
  return { start: add(unit, s, offset), end: add(unit, s, offset + 1) };
}

const UNIT_WORDS: Record<string, Unit> = {
  DAY: 'DAY',
  DAYS: 'DAY',
  WEEK: 'WEEK',
  WEEKS: 'WEEK',
  MONTH: 'MONTH',
  MONTHS: 'MONTH',
  QUARTER: 'QUARTER',
  QUARTERS: 'QUARTER',
  FISCAL_QUARTER: 'QUARTER',
  FISCAL_QUARTERS: 'QUARTER',
  YEAR: 'YEAR',
  YEARS: 'YEAR',
  FISCAL_YEAR: 'YEAR',
  FISCAL_YEARS: 'YEAR',
};

/**
 * Resolves one literal such as `TODAY`, `LAST_WEEK` or `LAST_N_DAYS:30` (case-insensitive).
 * Throws MALFORMED_QUERY for anything that is not a SOQL date literal.
 */
export function dateLiteralRange(literal: string, now: Date): DateRange {
  const text = literal.trim().toUpperCase();
  const today = startOf('DAY', now);
  if (text === 'TODAY') return relative('DAY', now, 0);
  if (text === 'YESTERDAY') return relative('DAY', now, -1);
  if (text === 'TOMORROW') return relative('DAY', now, 1);
  if (text === 'LAST_90_DAYS') return { start: add('DAY', today, -90), end: add('DAY', today, 1) };
  if (text === 'NEXT_90_DAYS') return { start: add('DAY', today, 1), end: add('DAY', today, 91) };

  const fixed = /^(THIS|LAST|NEXT)_(\w+)$/.exec(text);
  if (fixed && !text.includes(':')) {
    const unit = UNIT_WORDS[fixed[2] ?? ''];
    if (unit && unit !== 'DAY') {
      const offset = fixed[1] === 'THIS' ? 0 : fixed[1] === 'LAST' ? -1 : 1;
      return relative(unit, now, offset);
    }
  }

  const withN = /^(LAST_N|NEXT_N|N)_(\w+?)(?:_AGO)?:(\d+)$/.exec(text);
  if (withN) {
    const unit = UNIT_WORDS[withN[2] ?? ''];
    const n = Number(withN[3]);
    const isAgo = text.includes('_AGO:');
    if (unit && (withN[1] === 'N') === isAgo) {
      const s = startOf(unit, now);
      if (isAgo) return { start: add(unit, s, -n), end: add(unit, s, -n + 1) };
      if (withN[1] === 'NEXT_N') return { start: add(unit, s, 1), end: add(unit, s, 1 + n) };
      // LAST_N_DAYS:n includes today; LAST_N_WEEKS/MONTHS/... stop before the current unit.
      if (unit === 'DAY') return { start: add(unit, s, -n), end: add(unit, s, 1) };
      return { start: add(unit, s, -n), end: s.getTime() };
    }
  }
  throw malformed(`unexpected token: '${literal}'`);
}

/** SOQL's date functions, evaluated in UTC like the literals above. */
export const DATE_FUNCTIONS: ReadonlySet<string> = new Set([
  'CALENDAR_MONTH',
  'CALENDAR_QUARTER',
  'CALENDAR_YEAR',
  'DAY_IN_MONTH',
  'DAY_IN_WEEK',
  'DAY_IN_YEAR',
  'DAY_ONLY',
  'FISCAL_MONTH',
  'FISCAL_QUARTER',
  'FISCAL_YEAR',
  'HOUR_IN_DAY',
  'WEEK_IN_MONTH',
  'WEEK_IN_YEAR',
]);

/** Applies a date function to epoch ms; DAY_ONLY returns the UTC midnight ms, the rest integers. */
export function applyDateFunction(name: string, value: string | number | boolean | null): number | null {
  if (typeof value !== 'number') return null;
  const d = new Date(value);
  const month = d.getUTCMonth();
  const dayInYear = Math.floor((value - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
  switch (name) {
    case 'CALENDAR_MONTH':
    case 'FISCAL_MONTH':
      return month + 1;
    case 'CALENDAR_QUARTER':
    case 'FISCAL_QUARTER':
      return Math.floor(month / 3) + 1;
    case 'CALENDAR_YEAR':
    case 'FISCAL_YEAR':
      return d.getUTCFullYear();
    case 'DAY_IN_MONTH':
      return d.getUTCDate();
    case 'DAY_IN_WEEK':
      return d.getUTCDay() + 1; // 1 = Sunday
    case 'DAY_IN_YEAR':
      return dayInYear;
    case 'DAY_ONLY':
      return Math.floor(value / DAY_MS) * DAY_MS;
    case 'HOUR_IN_DAY':
      return d.getUTCHours();
    case 'WEEK_IN_MONTH':
      return Math.floor((d.getUTCDate() - 1) / 7) + 1;
    case 'WEEK_IN_YEAR':
      return Math.floor((dayInYear - 1) / 7) + 1;
    default:
      throw malformed(`unexpected token: '${name}'`);
  }
}
