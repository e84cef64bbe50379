/**
 * The sandbox's QR payments: `/upay/v2/precreate` (C scans B) creates an
 * order CREATED with a `qr_code`, and the customer "pays" it through the
 * control endpoint (./control.ts) or `customerPays` in tests. A cancel
 * (actions.ts voidOrder) aborts it while CREATED and returns the money once
 * paid. Also the per-order money ledger the tests read: whether money was
 * ever taken from the customer and whether it was returned.
 */
import { bizFail, checkLengths, invalidParams, LIMITS, ok, PAYWAY_NAMES, requireNewOrder, type Fields, type Outcome } from './wire';
import { settle, type OrderBook, type SandboxOrder } from './orders';

/** Codes a customer's wallet would put in the QR, per payway (the sandbox's own, recognisable as such). */
function qrCodeFor(payway: string, sn: string): string {
  if (payway === '1' || payway === '2') return `https://qr.alipay.com/sandbox${sn}`;
  if (payway === '3') return `weixin://wxpay/bizpayurl?pr=sandbox${sn}`;
  return `https://qr.shouqianba.com/sandbox/${sn}`;
}

export function precreate(book: OrderBook, terminalSn: string, f: Fields): Outcome {
  const refused = requireNewOrder(f, ['terminal_sn', 'client_sn', 'total_amount', 'payway', 'subject', 'operator']);
  if (refused) return refused;
  const clientSn = f.client_sn ?? '';
  const total = f.total_amount ?? '';
  const tooLong = checkLengths(f, { subject: LIMITS.subject, operator: LIMITS.payOperator, description: LIMITS.description, reflect: LIMITS.reflect, notify_url: LIMITS.notifyUrl });
  if (tooLong) return tooLong;
  const payway = f.payway ?? '';
  if (!/^\d{1,3}$/.test(payway)) return invalidParams('payway 必须是数字');
  if (!PAYWAY_NAMES[payway]) return { envelope: bizFail(book.shape, 'PRECREATE_FAIL', 'INVALID_PAYWAY', '不支持的支付方式'), effect: false, clientSn };
  if (book.hasClientSn(clientSn)) return { envelope: bizFail(book.shape, 'FAIL', 'CLIENT_SN_CONFLICT', 'client_sn在系统中已存在'), effect: false, clientSn };
  const o = book.open({ clientSn, terminalSn, status: 'CREATED', orderStatus: 'CREATED', payway, subPayway: f.sub_payway ?? '2', totalCents: Number(total), dynamicId: '', lastActionAt: null }, f);
  return { envelope: ok({ result_code: 'PRECREATE_SUCCESS', data: { ...book.snapshot(o), qr_code: qrCodeFor(payway, o.sn) } }), effect: true, sn: o.sn, clientSn };
}

/** The customer scans the code and pays: a CREATED order becomes PAID. Throws when there is nothing to pay. */
export function customerPays(book: OrderBook, ref: string): SandboxOrder {
  const o = book.live(ref);
  if (!o) throw new Error(`sandbox: no order ${ref}`);
  if (o.orderStatus !== 'CREATED') throw new Error(`sandbox: order ${ref} is ${o.orderStatus}, not CREATED`);
  o.tradeNo = book.newTradeNo(o.payway, book.clock.now());
  settle(o, { to: 'PAID' }, book.clock.now());
  return { ...o };
}
