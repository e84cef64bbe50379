/**
 * When an order was paid, from what the gateway reports. The documents give
 * `finish_time` as the time of the order's LAST action (the payment, or a
 * later refund or void) and `operator` as the last action's operator; the
 * order's creation time is `ctime`. So: while the order is PAID the last
 * action is the payment and `finish_time` is its time; after a refund or void
 * only `ctime` still dates the payment (a barcode payment finishes within its
 * timeout of about 40 s after the order is created).
 */
import type { OrderSnapshot } from './result';

const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

/** A gateway time: Unix ms as a string, or `YYYY-MM-DD HH:mm:ss` in China time (seen in `ctime`). */
export function parseGatewayTime(s: string | null | undefined): number | undefined {
  if (!s) return undefined;
  if (/^\d{10,13}$/.test(s)) {
    const n = Number(s);
    return s.length === 10 ? n * 1000 : n;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se) - CST_OFFSET_MS;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The payment's time, or undefined when the snapshot cannot tell. */
export function paymentTime(s: OrderSnapshot): number | undefined {
  if (s.orderStatus === 'PAID') return parseGatewayTime(s.finishTime) ?? parseGatewayTime(s.channelFinishTime) ?? parseGatewayTime(s.ctime);
  return parseGatewayTime(s.ctime);
}

/** The cashier who took the payment, when the snapshot names them (only while the payment is the last action). */
export function paymentOperator(s: OrderSnapshot): string | null {
  return s.orderStatus === 'PAID' ? s.operator : null;
}
