/**
 * An order's payment time and business day come from the payment, not from
 * `finish_time`, which the documents define as the time of the order's last
 * action (a refund or void moves it). Real runtime, real SQLite, real HTTP to
 * the sandbox in strict mode (keys expire each natural day); only the clock is
 * faked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UpayClient, type Signer } from '../../main/upay/client';
import { parseGatewayTime } from '../../main/upay/payment-time';
import { businessDayStart, ManualClock } from '../../main/common/time';
import { createHarness, type Harness } from '../support/harness';

const HOUR = 3_600_000;
const YESTERDAY = '2026-05-21';
const TODAY = '2026-05-22';
const PAID_AT = businessDayStart(YESTERDAY) + 22 * HOUR; // 22:00 China time
const REFUND_AT = businessDayStart(TODAY) + 10 * HOUR;

let h: Harness | undefined;
let upay: UpayClient | undefined;
afterEach(async () => {
  await upay?.close();
  await h?.close();
  h = undefined;
  upay = undefined;
});

async function setup(): Promise<{ h: Harness; clock: ManualClock; refundToday: (sn: string) => Promise<void> }> {
  const clock = new ManualClock(PAID_AT);
  h = await createHarness({ clock, sandbox: { gateway: { strict: true } } });
  const gw = h.sandbox.gateway;
  const client = new UpayClient({ apiDomain: gw.url });
  upay = client;
  const harness = h;
  return {
    h,
    clock,
    // Another counter (or the back office) refunds the order today, signed with today's key.
    async refundToday(sn: string) {
      clock.set(REFUND_AT);
      const t = gw.terminal(harness.terminalSn)!;
      const checkedIn = await client.checkin({ sn: t.terminalSn, key: t.terminalKey }, { device_id: 'back-office' });
      if (!checkedIn.ok) throw new Error(JSON.stringify(checkedIn));
      const me: Signer = { sn: t.terminalSn, key: checkedIn.value.terminalKey };
      const r = await client.refund(me, { sn, refund_request_no: 'RF-1', refund_amount: '300', operator: '退款员李四' });
      expect(r).toMatchObject({ ok: true, value: { resultCode: 'REFUND_SUCCESS', order: { finishTime: String(REFUND_AT), operator: '退款员李四' } } });
    },
  };
}

describe('payment time and business day of an imported order', () => {
  it('an order paid yesterday and refunded today is listed under yesterday with its payment time', async () => {
    const { h, refundToday } = await setup();
    const o = h.sandbox.gateway.seedOrder({ terminalSn: h.terminalSn, clientSn: 'YDAY-1', totalCents: 2580, operator: '收银员张三' });
    expect(o.finishTime).toBe(PAID_AT);
    await refundToday(o.sn);

    const imported = await h.rt.orders.import({ clientSn: 'YDAY-1' }, 'test');
    expect(imported).toMatchObject({ sn: o.sn, status: 'PARTIAL_REFUNDED', netCents: 2280, finishedAt: PAID_AT, businessDay: YESTERDAY });
    // The answer's operator is the refund's: not taken as the cashier who took the payment.
    expect(imported.operator).toBeNull();
    expect(h.rt.orders.listDay(YESTERDAY).map((x) => x.sn)).toEqual([o.sn]);
    expect(h.rt.orders.listDay().map((x) => x.sn)).toEqual([]); // today
  });

  it('an order recorded at payment keeps its payment time and cashier when a later refund is imported', async () => {
    const { h, refundToday } = await setup();
    const o = h.paidOrder({ clientSn: 'YDAY-2', operator: '收银员张三' });
    await refundToday(o.sn);
    const imported = await h.rt.orders.import({ sn: o.sn }, 'test');
    expect(imported).toMatchObject({ status: 'PARTIAL_REFUNDED', finishedAt: PAID_AT, businessDay: YESTERDAY, operator: '收银员张三' });
  });

  it('a PAID order: finish_time is the payment (the last action), with its cashier', async () => {
    const { h, clock } = await setup();
    const o = h.sandbox.gateway.seedOrder({ terminalSn: h.terminalSn, clientSn: 'PAID-1', totalCents: 990, operator: '收银员王五' });
    clock.set(REFUND_AT);
    const imported = await h.rt.orders.import({ clientSn: 'PAID-1' }, 'test');
    expect(imported).toMatchObject({ sn: o.sn, status: 'PAID', finishedAt: PAID_AT, businessDay: YESTERDAY, operator: '收银员王五' });
  });
});

describe('parseGatewayTime', () => {
  it.each([
    ['1449646835244', 1449646835244],
    ['1449646835', 1449646835000],
    // The documents' in-progress example carries ctime as a China-time date.
    ['2015-11-01 18:01:00', Date.UTC(2015, 10, 1, 10, 1, 0)],
    ['', undefined],
    ['yesterday', undefined],
  ])('%s → %s', (text, ms) => {
    expect(parseGatewayTime(text)).toBe(ms);
  });
});
