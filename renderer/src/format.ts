/**
 * Formatting at the edge: cents to ￥, Unix ms to China Standard Time (the
 * gateway's zone, whatever the machine's zone is), and reading what a
 * cashier types into the search box. Money stays integer cents until here.
 */
import { parseTypedAmount } from '../../main/common/money';
import { isClientSnLike, isFullOrderSn } from '../../main/common/order-sn';
import { knownPayway } from '../../main/common/payways';
import { businessDay, formatCstTime } from '../../main/common/time';
import type { Lang } from './i18n';

export { formatCny } from '../../main/common/money';
export { businessDay as businessDayOf, formatCst, formatCstTime } from '../../main/common/time';

/** `amountCents` on a text query: plain digits may be a whole amount too ("88" finds ￥88.00 and …88 in an order number). */
export type SearchQuery = { kind: 'all' } | { kind: 'amount'; amountCents: number } | { kind: 'text'; text: string; amountCents: number | null };

/** Up to ￥9,999,999 as a whole amount typed without a decimal point. */
const WHOLE_AMOUNT = /^\d{1,7}$/;

/**
 * What the search box means: an amount when it has a decimal point or a yen
 * sign ("12.50", "￥12"); otherwise a piece of an order number or merchant
 * order number anywhere in it (the list shows an order number's last digits),
 * and, for plain digits, also a whole amount.
 */
export function readSearch(raw: string): SearchQuery {
  const text = raw.trim();
  if (!text) return { kind: 'all' };
  const amountCents = parseTypedAmount(text);
  if (amountCents !== undefined) return { kind: 'amount', amountCents };
  const whole = WHOLE_AMOUNT.test(text) && Number(text) > 0 ? Number(text) * 100 : null;
  return { kind: 'text', text: text.slice(0, 32), amountCents: whole };
}

/** Whether an order matches a search (the day's list answers every keystroke with this). */
export function matchesSearch(order: { sn: string; clientSn: string; totalCents: number }, query: SearchQuery): boolean {
  if (query.kind === 'all') return true;
  if (query.kind === 'amount') return order.totalCents === query.amountCents;
  const needle = query.text.toLowerCase();
  return order.sn.includes(needle) || order.clientSn.toLowerCase().includes(needle) || order.totalCents === query.amountCents;
}

/** What the "look up on Upay" button may ask for: a full sn (digits) or a client_sn. */
export function lookupRef(query: SearchQuery): { sn: string } | { clientSn: string } | null {
  if (query.kind !== 'text') return null;
  if (isFullOrderSn(query.text)) return { sn: query.text };
  if (isClientSnLike(query.text)) return { clientSn: query.text };
  return null;
}

/**
 * The payway's name for the screen: in Chinese the gateway's own name when
 * it sent one; in English a known translation, else the gateway's name.
 */
export function paywayLabel(payway: string | null, paywayName: string | null, lang: Lang): string {
  if (lang === 'zh-CN') return paywayName ?? knownPayway(payway, 'zh') ?? payway ?? '-';
  return knownPayway(payway, 'en') ?? paywayName ?? payway ?? '-';
}

/**
 * When a deadline falls, as a cashier reads it: the last minute before it
 * ("today 23:59") and whether that is today, tomorrow or a given date.
 * `deadlineAt` is exclusive (the business day's end, 00:00 of the next day).
 */
export function deadlineParts(deadlineAt: number, now: number): { day: 'today' | 'tomorrow' | 'date'; date: string; time: string } {
  const last = deadlineAt - 60_000;
  const day = businessDay(last);
  const today = businessDay(now);
  const tomorrow = businessDay(now + 86_400_000);
  return { day: day === today ? 'today' : day === tomorrow ? 'tomorrow' : 'date', date: day.slice(5), time: formatCstTime(last) };
}

/**
 * A printer's or a print job's error (the transport's own words, in English)
 * as a message a person reads: what it means, never the raw text.
 */
export function printErrorKey(raw: string | null): 'printer.paper_out' | 'printer.cover_open' | 'printer.offline' | 'printer.error.timeout' | 'printer.error.other' {
  const text = raw ?? '';
  if (/paper/i.test(text)) return 'printer.paper_out';
  if (/cover/i.test(text)) return 'printer.cover_open';
  if (/timed? ?out|ETIMEDOUT/i.test(text)) return 'printer.error.timeout';
  if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|ENOENT|EACCES|EPIPE|offline|closed/i.test(text)) return 'printer.offline';
  return 'printer.error.other';
}
