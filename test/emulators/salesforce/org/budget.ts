/**
 * The daily API request budget (`DailyApiRequests`): every /services/data request counts; over the
 * limit the server answers REQUEST_LIMIT_EXCEEDED. The day follows the org's clock.
 */
import type { Clock } from './clock.js';

export interface ApiBudget {
  used: number;
  max: number;
  /** The day (YYYY-MM-DD) `used` counts for. */
  day: string;
}

/** Counts one API request; false when the daily limit is already used up. */
export function countRequest(api: ApiBudget, clock: Clock): boolean {
  const day = clock.now().toISOString().slice(0, 10);
  if (day !== api.day) {
    api.day = day;
    api.used = 0;
  }
  if (api.used >= api.max) return false;
  api.used++;
  return true;
}
