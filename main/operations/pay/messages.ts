/**
 * What the cashier reads about a payment (zh-CN and en): three states that
 * never leave doubt (收款成功 / 未收款（钱款未扣） / 正在确认（请勿重复收款）),
 * the QR waiting for the customer, and needs_attention with a next step.
 */
import { formatCny } from '../../common/money';
import { PosError } from '../../errors';
import { REVERSED_UNCONFIRMED, type Payment, type PaymentRow } from '../../store/payments';
import type { Gateway, KindMessage } from '../kind';
import type { FailCode } from './interpret';

export interface Words {
  zh: string;
  en: string;
}

export const PAY_MESSAGES = {
  PAID: { zh: '收款成功', en: 'Payment received' },
  NOT_PAID: { zh: '未收款（钱款未扣）', en: 'Not paid (no money taken)' },
  CONFIRMING: { zh: '正在确认（请勿重复收款）', en: 'Confirming (do not charge again)' },
  AWAITING: { zh: '请顾客扫码付款（请勿重复收款）', en: 'Waiting for the customer to scan (do not charge again)' },
  REVERSED: { zh: '未收款：已冲正，已扣的钱款已全额退回顾客', en: 'Not paid: reversed, the money taken was returned to the customer in full' },
  /** The gateway shows the order voided (CANCELED) but our cancel's answer was lost: whether money had been taken is not known. */
  REVERSED_UNCONFIRMED: {
    zh: '未收款：已冲正（收钱吧显示本单已撤单）；如顾客已被扣款，钱款已全额退回顾客',
    en: 'Not paid: reversed (Upay shows the order canceled); any money taken from the customer was returned in full',
  },
  NEEDS_ATTENTION: {
    zh: '需要人工处理：收款结果仍未确定，系统仍在自动冲正。请勿重复收款；请联系门店 IT 或收钱吧客服，提供商户订单号',
    en: 'Needs attention: the outcome is still unknown and the reversal is still running. Do not charge again; call store IT or Upay support with the client order number',
  },
  /** An answer about another order (client_sn or terminal_sn not ours): not applied, asked again by this payment's client_sn. */
  OTHER_ORDER: {
    zh: '正在确认（请勿重复收款）：收钱吧返回的结果属于另一笔订单，未采用，正在按本单商户订单号查询',
    en: "Confirming (do not charge again): Upay's answer was about another order and was not applied; asking again by this payment's client order number",
  },
  OTHER_ORDER_ATTENTION: {
    zh: '需要人工处理：收钱吧返回的是另一笔订单的结果，本单收款结果仍未确定，系统仍在自动冲正。请勿重复收款；请联系门店 IT 检查网络或代理，或联系收钱吧客服，提供商户订单号',
    en: 'Needs attention: Upay answered about another order, so the outcome of this payment is still unknown and the reversal is still running. Do not charge again; ask store IT to check the network or proxy, or call Upay support with the client order number',
  },
} satisfies Record<string, Words>;

export const FAIL_MESSAGES: Record<FailCode, Words> = {
  NOT_SENT: { zh: '无法连接收钱吧网关，收款请求未发出，钱款未扣', en: 'The Upay gateway could not be reached; nothing was sent and no money was taken' },
  NOT_REACHED: { zh: '收款请求未到达收钱吧，钱款未扣', en: 'The payment never reached Upay; no money was taken' },
  PAY_FAILED: { zh: '支付失败，钱款未扣', en: 'The payment failed; no money was taken' },
  GATEWAY_REFUSED: { zh: '收钱吧拒绝了收款请求，钱款未扣', en: 'Upay refused the payment; no money was taken' },
  INVALID_REQUEST: { zh: '收款请求无效，未发出，钱款未扣', en: 'The payment request was invalid; nothing was sent and no money was taken' },
};

/** The one line a cashier sees for a payment's state. */
export function paymentHeadline(p: Pick<Payment, 'state' | 'method' | 'qrCode' | 'moneyReturned'> & { error?: Pick<NonNullable<Payment['error']>, 'code'> | null }): Words {
  switch (p.state) {
    case 'paid':
      return PAY_MESSAGES.PAID;
    case 'failed':
      return PAY_MESSAGES.NOT_PAID;
    case 'canceled':
      if (!p.moneyReturned) return PAY_MESSAGES.NOT_PAID;
      return p.error?.code === REVERSED_UNCONFIRMED ? PAY_MESSAGES.REVERSED_UNCONFIRMED : PAY_MESSAGES.REVERSED;
    case 'needs_attention':
      return PAY_MESSAGES.NEEDS_ATTENTION;
    default:
      return p.method === 'qr' && p.state === 'pending' && p.qrCode ? PAY_MESSAGES.AWAITING : PAY_MESSAGES.CONFIRMING;
  }
}

/** The skeleton's message for a code (PENDING, NEEDS_ATTENTION, OTHER_ORDER, OTHER_ORDER_ATTENTION, NOT_SENT, the failures, CANCELED, REVERSED, REVERSED_UNCONFIRMED), with the gateway's words. */
export function paymentMessage(code: string, gateway?: Gateway): KindMessage {
  const said = gateway?.code || gateway?.message ? `（${[gateway.code, gateway.message].filter(Boolean).join(' ')}）` : '';
  const saidEn = gateway?.code ? ` (${gateway.code})` : '';
  const fail = FAIL_MESSAGES[code as FailCode];
  if (fail) return { code, messageZh: `${PAY_MESSAGES.NOT_PAID.zh}：${fail.zh}${said}`, messageEn: `${PAY_MESSAGES.NOT_PAID.en}: ${fail.en}${saidEn}` };
  switch (code) {
    case 'CANCELED':
      return { code, messageZh: `${PAY_MESSAGES.NOT_PAID.zh}：已撤单（冲正）`, messageEn: `${PAY_MESSAGES.NOT_PAID.en}: canceled (reversed)` };
    case 'REVERSED':
    case 'REVERSED_UNCONFIRMED':
      return { code, messageZh: PAY_MESSAGES[code].zh, messageEn: PAY_MESSAGES[code].en };
    case 'NEEDS_ATTENTION':
    case 'OTHER_ORDER':
    case 'OTHER_ORDER_ATTENTION':
      return { code, messageZh: PAY_MESSAGES[code].zh, messageEn: PAY_MESSAGES[code].en };
    default:
      return { code, messageZh: PAY_MESSAGES.CONFIRMING.zh, messageEn: PAY_MESSAGES.CONFIRMING.en };
  }
}

export type PayOutcome = 'paid' | 'failed' | 'canceled' | 'pending' | 'needs_attention' | 'awaiting_customer';

/** The outcome a caller reports (the CLI's `outcome`, the counter's): a QR shown and not paid yet is awaiting_customer. */
export function paymentOutcome(p: Pick<Payment, 'state' | 'method' | 'qrCode'>): PayOutcome {
  switch (p.state) {
    case 'paid':
    case 'failed':
    case 'canceled':
    case 'needs_attention':
      return p.state;
    default:
      return p.method === 'qr' && p.state === 'pending' && p.qrCode !== null ? 'awaiting_customer' : 'pending';
  }
}

/** The same amount is already being charged: the cashier must confirm before a second charge (names the open payment). */
export function duplicateAmount(open: Pick<PaymentRow, 'id' | 'client_sn' | 'amount_cents'>): PosError {
  return new PosError(
    'PAYMENT_SAME_AMOUNT_OPEN',
    `已有一笔 ${formatCny(open.amount_cents)} 的收款正在确认（请勿重复收款，收款编号 ${open.id}）。确认顾客要再付一次后才能继续。`,
    `A payment of ${formatCny(open.amount_cents)} is still being confirmed (do not charge again; payment #${open.id}). Continue only after confirming the customer pays again.`,
    { paymentId: open.id, clientSn: open.client_sn, amountCents: open.amount_cents },
  );
}

/**
 * The counter already has `cap` payments open (every window and process): a new one is refused before its row is
 * written or anything is sent (no money taken). What to do: let one end (a payment being confirmed ends by itself,
 * a QR the customer did not scan is canceled when it expires), then charge again.
 */
export function tooManyOpen(open: number, cap: number): PosError {
  return new PosError(
    'PAYMENT_TOO_MANY_OPEN',
    `本机已有 ${open} 笔收款尚未结束（最多 ${cap} 笔），不能再发起新的收款，这笔没有收款。请先完成或取消其中一笔（正在确认的收款会自动出结果，顾客未扫的收款码到期后自动撤单），再收款。`,
    `${open} payments are still open on this counter (at most ${cap}), so no new one can start; this one was not charged. Finish or cancel one first (a payment being confirmed ends by itself; a QR the customer did not scan is canceled when it expires), then charge again.`,
    { open, cap },
  );
}
