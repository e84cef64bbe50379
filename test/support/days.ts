/**
 * Business days relative to the real current date. Head office (schema v4)
 * lets a counter make a day's partition (`fleet.ensure_day`) only from 366
 * days back to 7 days ahead of PostgreSQL's UTC date, so a test that ships
 * as a counter with a fixed business day would start failing a year on.
 */
import { businessDay, businessDayStart, systemClock } from '../../main/common/time';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The business day (`YYYY-MM-DD`, UTC+8) `n` days before today's by the real clock (`n` < 0: after). */
export function daysAgo(n: number, now: number = systemClock.now()): string {
  if (!Number.isInteger(n)) throw new RangeError(`not a whole number of days: ${n}`);
  // UTC+8 has no DST: every business day is exactly DAY_MS long.
  return businessDay(businessDayStart(businessDay(now)) - n * DAY_MS);
}

/** `hh:mm` of business day `day` (UTC+8), in ms. */
export const atHour = (day: string, hh: number, mm = 0): number => businessDayStart(day) + (hh * 60 + mm) * 60_000;
