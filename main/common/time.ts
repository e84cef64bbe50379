/**
 * Time for upay-pos. The business day is the calendar day in China Standard
 * Time (UTC+8, no DST), the gateway's zone; `businessDay` is the one function
 * that decides it, everywhere. All clocks are injected as `Clock`.
 */

export interface Clock {
  /** Unix milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

const CST_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** `YYYY-MM-DD` of the UTC+8 calendar day that contains `ms`. */
export function businessDay(ms: number): string {
  return new Date(ms + CST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Unix ms at which the given business day (`YYYY-MM-DD`) ends (exclusive). */
export function businessDayEnd(day: string): number {
  return businessDayStart(day) + DAY_MS;
}

/** Unix ms at which the given business day starts. */
export function businessDayStart(day: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`not a day: ${day}`);
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(ms) || businessDay(ms - CST_OFFSET_MS) !== day) throw new RangeError(`not a day: ${day}`);
  return ms - CST_OFFSET_MS;
}

/** True when `day` is a real calendar date written `YYYY-MM-DD`. */
export function isDay(day: string): boolean {
  try {
    businessDayStart(day);
    return true;
  } catch {
    return false;
  }
}

/** `YYYY-MM-DD HH:mm:ss` in UTC+8, for receipts and screens. */
export function formatCst(ms: number): string {
  const iso = new Date(ms + CST_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** `HH:mm` in UTC+8. */
export function formatCstTime(ms: number): string {
  return new Date(ms + CST_OFFSET_MS).toISOString().slice(11, 16);
}

/** A clock that tests move by hand. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
