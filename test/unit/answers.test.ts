/**
 * The hand-written answer reader (main/upay/answers.ts) against the zod
 * schemas it stands in for (main/upay/schemas.ts): on documented answers,
 * on generated ones (every field absent, null, empty, at its limit, one past
 * it, of the wrong type) and on hostile shapes, both accept the same
 * answers, refuse the same, and give the same values.
 */
import { describe, expect, it } from 'vitest';
import { readEnvelope, readOrderAnswer } from '../../main/upay/answers';
import type { OrderResult, OrderSnapshot } from '../../main/upay/result';
import { mulberry32 } from '../../main/util/prng';
import { envelopeSchema, orderBizSchema, type OrderSnapshotWire } from '../../main/upay/schemas';

/** The reference: the schema's parse, mapped as the client mapped it before the reader. */
function reference(biz: unknown): OrderResult | undefined {
  const r = orderBizSchema.safeParse(biz);
  if (!r.success) return undefined;
  const d = r.data;
  const nested = d.data && typeof d.data === 'object' && (d.data.sn || d.data.client_sn || d.data.order_status) ? d.data : undefined;
  const w: OrderSnapshotWire = nested ?? d;
  const order: OrderSnapshot = {
    terminalSn: w.terminal_sn ?? null,
    sn: w.sn ?? null,
    clientSn: w.client_sn ?? null,
    tradeNo: w.trade_no ?? null,
    status: w.status ?? null,
    orderStatus: w.order_status ?? null,
    payway: w.payway ?? null,
    paywayName: w.payway_name ?? null,
    totalAmount: w.total_amount ?? null,
    netAmount: w.net_amount ?? null,
    subject: w.subject ?? null,
    finishTime: w.finish_time ?? null,
    channelFinishTime: w.channel_finish_time ?? null,
    operator: w.operator ?? null,
    ctime: w.ctime ?? null,
    subPayway: w.sub_payway ?? null,
    clientTsn: w.client_tsn ?? null,
    payerUid: w.payer_uid ?? null,
    payerLogin: w.payer_login ?? null,
    storeId: w.store_id ?? null,
    reflect: w.reflect ?? null,
    ...(w.qr_code ? { qrCode: w.qr_code } : {}),
    paymentList: w.payment_list?.map((p) => ({ type: p.type, amountTotal: p.amount_total })) ?? null,
  };
  return { resultCode: d.result_code, errorCode: d.error_code ?? null, errorMessage: d.error_message ?? null, order: order.sn || order.clientSn || order.orderStatus ? order : null };
}

/** Every field of an order answer with its limit (UTF-16 units). */
const FIELDS: Record<string, number> = {
  terminal_sn: 64, sn: 64, client_sn: 64, trade_no: 64, status: 64, order_status: 64, payway: 16, payway_name: 128, sub_payway: 16,
  total_amount: 20, net_amount: 20, subject: 128, finish_time: 20, channel_finish_time: 20, operator: 128, refund_request_no: 64,
  qr_code: 512, ctime: 20, client_tsn: 64, payer_uid: 128, payer_login: 128, store_id: 64, description: 512,
  result_code: 64, error_code: 64, error_message: 512,
};

function generator(seed: number) {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const text = (n: number) => '收'.repeat(Math.max(0, n));
  const value = (max: number): unknown =>
    pick([undefined, null, '', 'PAID', '7895000123', text(max), text(max + 1), 12, 0, true, false, {}, [], ['a'], { a: 1 }, '0', 'CANCELED', 'SUCCESS']);
  const paymentList = (): unknown =>
    pick([
      undefined, null, '', 'x', 3, [], {},
      [{ type: 'BANKCARD', amount_total: '100' }],
      [{ type: 'BANKCARD', amount_total: 100, extra: 1 }],
      [{ type: 'X'.repeat(65), amount_total: '1' }],
      [{ type: 'A', amount_total: '1'.repeat(21) }],
      [{ type: 'A' }],
      [null],
      Array.from({ length: 17 }, () => ({ type: 'A', amount_total: '1' })),
      Array.from({ length: 16 }, () => ({ type: 'A', amount_total: 1.5 })),
    ]);
  const snapshot = (withResult: boolean): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (const [k, max] of Object.entries(FIELDS)) {
      if (!withResult && (k === 'result_code' || k === 'error_code' || k === 'error_message')) continue;
      const r = rnd();
      if (r < 0.45) continue;
      o[k] = r < 0.9 ? pick(['7895000123', 'PAID', 'CANCELED', 'CANCEL_SUCCESS', '30', '100', '']) : value(max);
    }
    if (withResult && rnd() < 0.9) o.result_code = pick(['CANCEL_SUCCESS', 'FAIL', 'SUCCESS', 'PAY_SUCCESS', '', 'X'.repeat(65), 7]);
    if (rnd() < 0.2) o.reflect = pick([undefined, null, '', 'r', { k: 'v' }, [1, 2], 0, false, 'x'.repeat(513), { big: 'y'.repeat(600) }]);
    if (rnd() < 0.2) o.payment_list = paymentList();
    if (rnd() < 0.1) o.unknown_field = pick(['x', { deep: [1] }, null]);
    return o;
  };
  return (): unknown => {
    const r = rnd();
    if (r < 0.03) return pick([null, 'text', 12, [], true]);
    const biz = snapshot(true);
    if (rnd() < 0.4) biz.data = rnd() < 0.8 ? snapshot(false) : pick([null, '', 'x', 0, [], [{}], false]);
    return biz;
  };
}

describe('the answer reader holds to the schemas', () => {
  it('documented answers: a flat revoke answer, a cancel answer nested under data, a precreate with its qr_code', () => {
    const answers = [
      { result_code: 'CANCEL_SUCCESS', sn: '7895000123', client_sn: 'A1', order_status: 'CANCELED', total_amount: '100', net_amount: '0', payway: '3', payway_name: '微信' },
      { result_code: 'CANCEL_SUCCESS', data: { sn: '7895000123', client_sn: 'A1', order_status: 'CANCELED', status: 'SUCCESS', payment_list: [{ type: 'WALLET_WEIXIN', amount_total: '100' }] } },
      { result_code: 'PRECREATE_SUCCESS', data: { sn: '7895000124', client_sn: 'P1', order_status: 'CREATED', qr_code: 'weixin://wxpay/bizpayurl?pr=abc' } },
      { result_code: 'FAIL', error_code: 'UPAY_ORDER_NOT_EXISTS', error_message: '订单不存在' },
    ];
    for (const a of answers) {
      expect(readOrderAnswer(a)).toEqual(reference(a));
      expect(readOrderAnswer(a)).toBeDefined();
    }
  });

  it('20,000 generated answers: the same accepted, the same refused, the same values', () => {
    const next = generator(20261206);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const biz = next();
      const want = reference(biz);
      const got = readOrderAnswer(biz);
      if (want) accepted++;
      expect(got, JSON.stringify(biz)).toEqual(want);
    }
    // Both kinds are well represented (a generator that only made broken answers would prove little).
    expect(accepted).toBeGreaterThan(2_000);
    expect(accepted).toBeLessThan(18_000);
  });

  it('envelopes: the same accepted and refused as envelopeSchema, the same fields', () => {
    const rnd = mulberry32(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    for (let i = 0; i < 5_000; i++) {
      const env: Record<string, unknown> = {};
      if (rnd() < 0.9) env.result_code = pick(['200', '400', '', 'x'.repeat(64), 'x'.repeat(65), 200, null]);
      if (rnd() < 0.5) env.error_code = pick([undefined, null, '', 'ILLEGAL_SIGN', 'x'.repeat(65), 1]);
      if (rnd() < 0.5) env.error_message = pick([undefined, null, '', '签名错误', 'x'.repeat(512), 'x'.repeat(513), {}]);
      if (rnd() < 0.7) env.biz_response = pick([undefined, null, {}, { result_code: 'FAIL' }, 'text']);
      const json = rnd() < 0.05 ? pick([null, [], 'x', 1]) : env;
      const want = envelopeSchema.safeParse(json);
      const got = readEnvelope(json);
      if (!want.success) {
        expect(got, JSON.stringify(json)).toBeUndefined();
        continue;
      }
      expect(got).toEqual({ resultCode: want.data.result_code, errorCode: want.data.error_code ?? null, errorMessage: want.data.error_message ?? null, biz: want.data.biz_response });
    }
  });
});
