/**
 * The day report's pure parts: CSV cells a spreadsheet cannot turn into a
 * formula or a broken row; what counts as taken and returned elsewhere; a
 * report whose net does not match its orders never reconciles; the day a
 * counter payment counts on.
 */
import { describe, expect, it } from 'vitest';
import { businessDayStart } from '../../main/common/time';
import type { Order } from '../../main/domain';
import { computeDayReport, csvCell, dayReportCsv, reconciles } from '../../main/report/day';
import { paymentDay } from '../../main/report/payments';
import type { Payment } from '../../main/store/payments';
import type { RevokeRow } from '../../main/store/revokes';

const DAY = '2026-05-22';
const NEXT = '2026-05-23';
const T = businessDayStart(DAY) + 10 * 3_600_000;

function order(sn: string, totalCents: number, status: string, extra: Partial<Order> = {}): Order {
  return { sn, clientSn: `C${sn}`, tradeNo: `T${sn}`, totalCents, netCents: totalCents, payway: '3', paywayName: null, subject: null, operator: 'op', finishedAt: T, status, businessDay: DAY, updatedAt: T, ...extra };
}

/** A minimal RFC 4180 reader: the records and their fields, quotes honoured (CR and LF inside quotes stay in the field). */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      field = '';
      row = [];
    } else field += c;
  }
  return rows;
}

describe('CSV cells', () => {
  it.each<[string | number | null, string]>([
    ['\t=1+1', `"'\t=1+1"`],
    ['\r=HYPERLINK("http://x","y")', `"'\r=HYPERLINK(""http://x"",""y"")"`],
    [' =1+1', `"' =1+1"`],
    ['\n=cmd', `"'\n=cmd"`],
    ['=1+1', `"'=1+1"`],
    ['+1', `"'+1"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['-1+2', `"'-1+2"`],
    ['a\rb', '"a\rb"'],
    ['a\nb', '"a\nb"'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    [null, '-'],
    ['-', '-'],
    [-1916, '-1916'],
    ['-19.16', '-19.16'],
    ['张三', '张三'],
  ])('%j → %s', (v, out) => {
    expect(csvCell(v)).toBe(out);
  });

  it('no operator or payway name splits a row or starts a formula; an order without an operator shows as -', () => {
    const evil = ['\t=1+1', 'a\rb', '\r=HYPERLINK("http://x","y")', 'x\r\ny', '@x'];
    const orders = [...evil.map((op, i) => order(String(i), 100, 'PAID', { operator: op })), order('N', 100, 'PAID', { operator: null, paywayName: '\n=cmd' })];
    const csv = dayReportCsv(computeDayReport(DAY, { orders, revokes: [], refunds: [], refundOrders: [] }, T));
    const rows = readCsv(csv);
    // One record per figure: header, 5 totals, 5 for the payway, 4 for each of the 6 operators, 4 checks.
    expect(rows.length).toBe(1 + 5 + 5 + 4 * 6 + 4);
    for (const r of rows) expect(r.length).toBe(6);
    for (const r of rows.slice(1)) expect(r[0]).toMatch(/^[a-z_.]+$/);
    for (const r of rows) for (const cell of r) expect(cell).not.toMatch(/^\s*[=+@\t\r]/);
    expect(rows.filter((r) => r[0] === 'operator.payments').map((r) => r[1])).toContain('-');
    expect(csv).not.toContain(`"'-"`);
  });
});

describe('taken, returned elsewhere, reconciled', () => {
  const revoked = (id: number, sn: string, at: number): RevokeRow =>
    ({ id, order_sn: sn, client_sn: `C${sn}`, state: 'revoked', operator: 'op', revoked_at: at }) as unknown as RevokeRow;

  it('a voided order with a channel transaction is taken and returned elsewhere; without one (never paid) it is not counted; with a revoke here it is a revoke', () => {
    const r = computeDayReport(
      DAY,
      {
        orders: [
          order('A', 5000, 'CANCELED', { netCents: 0 }),
          order('Q', 900, 'CANCELED', { netCents: 0, tradeNo: null }),
          order('P', 700, 'PAY_CANCELED', { netCents: 0, tradeNo: null }),
          order('R', 1000, 'CANCELED', { netCents: 0, tradeNo: null }),
          order('S', 3000, 'PARTIAL_REFUNDED', { netCents: 2000 }),
        ],
        revokes: [revoked(1, 'R', T + 1000)],
        refunds: [],
        refundOrders: [],
      },
      T,
    );
    expect(r.payments).toEqual({ count: 3, cents: 9000 });
    expect(r.revokes).toEqual({ count: 1, cents: 1000 });
    expect(r.returnedElsewhere.orders.map((o) => [o.orderSn, o.cents])).toEqual([
      ['A', 5000],
      ['S', 1000],
    ]);
    expect(r.netCents).toBe(2000);
    expect(r.reconciled).toBe(true);
  });

  it('a report whose net or returned-elsewhere lines are off never reconciles', () => {
    const r = computeDayReport(DAY, { orders: [order('A', 5000, 'CANCELED', { netCents: 0 }), order('B', 100, 'PAID')], revokes: [], refunds: [], refundOrders: [] }, T);
    expect(r.reconciled).toBe(true);
    // The old report: the voided payment kept as money taken.
    expect(reconciles({ ...r, netCents: 5100, returnedElsewhere: { ...r.returnedElsewhere, count: 0, cents: 0, byPayway: [], byOperator: [], orders: [] }, byPayway: r.byPayway.map((l) => ({ ...l, netCents: 5100 })) })).toBe(false);
    expect(reconciles({ ...r, check: { ...r.check, ordersNetCents: 5100 } })).toBe(false);
    expect(reconciles({ ...r, returnedElsewhere: { ...r.returnedElsewhere, byOperator: [] } })).toBe(false);
    expect(reconciles({ ...r, check: { ...r.check, mismatches: [{ orderSn: 'B', cents: -1 }] } })).toBe(false);
  });

  it('an order showing more kept than total (net > total) is a mismatch', () => {
    const r = computeDayReport(DAY, { orders: [order('B', 100, 'PAID', { netCents: 150 })], revokes: [], refunds: [], refundOrders: [] }, T);
    expect(r.check.mismatches).toEqual([{ orderSn: 'B', cents: -50 }]);
    expect(r.reconciled).toBe(false);
  });
});

describe('the day a counter payment counts on', () => {
  const p = (state: Payment['state'], extra: Partial<Payment> = {}) => ({ state, businessDay: DAY, paidAt: null, moneyReturned: false, ...extra }) as Payment;
  it.each<[string, Payment, string | null, string]>([
    ['paid, order stored: the order’s day', p('paid', { paidAt: T }), NEXT, NEXT],
    ['paid, no order stored: the day it was recorded paid', p('paid', { paidAt: businessDayStart(NEXT) + 30_000 }), null, NEXT],
    ['canceled after money was taken, order stored: the order’s day', p('canceled', { moneyReturned: true }), NEXT, NEXT],
    ['canceled after money was taken, no order: the day requested', p('canceled', { moneyReturned: true }), null, DAY],
    ['canceled, nothing taken: the day requested', p('canceled'), NEXT, DAY],
    ['failed: the day requested', p('failed'), null, DAY],
  ])('%s', (_name, payment, orderDay, day) => {
    expect(paymentDay(payment, orderDay)).toBe(day);
  });
});
