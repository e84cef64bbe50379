/**
 * What a cashier reads about a refund, in zh-CN and en: the reason and the
 * next step. Gateway messages are shown verbatim beside these, never instead.
 */
import type { RefundError } from '../../store/refunds';

export const REFUND_MESSAGES = {
  NOT_REFUNDABLE_STATE: {
    zh: '订单不是“已支付”或“部分退款”状态，无法退款。钱款未变动。',
    en: 'The order is neither PAID nor PARTIAL_REFUNDED, so it cannot be refunded. No money moved.',
  },
  UNRESOLVED: {
    zh: '订单的付款、撤销或退款结果尚未确定：请先查询订单状态，再决定是否退款。钱款未变动。',
    en: "The order's payment, void or refund has no final outcome yet: query the order before refunding. No money moved.",
  },
  AMOUNT_INVALID: {
    zh: '退款金额必须是大于零的整数分。钱款未变动。',
    en: 'The refund amount must be a whole number of cents above zero. No money moved.',
  },
  AMOUNT_TOO_HIGH: {
    zh: '退款金额超过订单可退金额（已扣除已退和处理中的退款），未发出退款。钱款未变动。',
    en: "The amount is more than the order's refundable amount (less refunds done or in progress); nothing was sent. No money moved.",
  },
  REFUND_OPEN: {
    zh: '此订单已有一笔退款正在处理，请等它结束后再退。',
    en: 'This order already has a refund in progress; wait for it to finish before another one.',
  },
  GATEWAY_REFUSED: {
    zh: '收钱吧拒绝了退款，钱款未变动。请查看下方网关原因。',
    en: 'Upay refused the refund; no money moved. See the gateway reason below.',
  },
  GATEWAY_TERMINAL: {
    zh: '收钱吧不认可此终端，退款未执行，钱款未变动：请联系门店 IT 检查终端激活与签到。',
    en: 'Upay does not accept this terminal; the refund was not done and no money moved. Ask store IT to check activation and check-in.',
  },
  GATEWAY_AUTH: {
    zh: '收钱吧拒绝了签名，退款尚未执行，将自动重试：请联系门店 IT 执行签到。',
    en: 'Upay refused the signature; the refund has not been done and will be retried automatically. Ask store IT to check in.',
  },
  GATEWAY_INVALID_PARAMS: {
    zh: '收钱吧认为退款请求参数有误，退款未执行，钱款未变动。',
    en: 'Upay found the refund request invalid; the refund was not done and no money moved.',
  },
  QUEUED: {
    zh: '网络中断：退款已安全保存，网络恢复后会自动发出，无需再次点击。',
    en: 'The network is down: the refund is saved and will be sent automatically when it is back. No need to tap again.',
  },
  PENDING: {
    zh: '正在向收钱吧确认退款结果，请稍候；不要重复退款。',
    en: 'Confirming the refund with Upay; please wait. Do not refund again.',
  },
  NEEDS_ATTENTION: {
    zh: '暂时无法确认退款结果：请点击“再次查询”；如仍无结果，请联系收钱吧客服并提供订单号和退款序列号。',
    en: 'The refund result cannot be confirmed yet: tap "Query again"; if it stays unknown, contact Upay support with the order number and refund request number.',
  },
  OTHER_ORDER: {
    zh: '收钱吧返回的结果属于另一笔订单，不是本单，未采用：正在按本单订单号和退款序列号向收钱吧查询退款结果，请稍候；不要重复退款。',
    en: "Upay's answer was about another order, not this one, so it was not applied: asking Upay about this refund by the order number and refund request number; please wait. Do not refund again.",
  },
  OTHER_ORDER_ATTENTION: {
    zh: '收钱吧返回的是另一笔订单的结果，无法确认本次退款结果，钱款可能已变动：请勿重复退款；请点击“再次查询”，如仍不符，请联系门店 IT 检查网络或代理，并联系收钱吧客服提供订单号和退款序列号。',
    en: 'Upay answered about another order, so the result of this refund cannot be confirmed and money may have moved: do not refund again. Tap "Query again"; if it still does not match, ask store IT to check the network or proxy, and contact Upay support with the order number and refund request number.',
  },
  TOO_OLD: {
    zh: '退款排队时间过长仍未发出（钱款未变动），不会再自动发出：请检查网络后点击“再次查询”确认；如仍需退款，请确认后重新发起。',
    en: 'The refund waited too long without being sent (no money moved) and will not be sent by itself: check the network, then tap "Query again" to confirm; if a refund is still needed, ask for it again.',
  },
  TOO_OLD_NOT_SENT: {
    zh: '退款排队时间过长，已向收钱吧确认未发出，钱款未变动，此退款已作废。如仍需退款，请重新发起。',
    en: 'The refund waited too long; Upay confirmed it was never sent and no money moved, so it is void. If a refund is still needed, ask for it again.',
  },
} satisfies Record<string, { zh: string; en: string }>;

export type RefundMessageCode = keyof typeof REFUND_MESSAGES;

export function refundError(code: RefundMessageCode, gateway?: { code: string | null; message: string | null }): RefundError {
  const m = REFUND_MESSAGES[code];
  return { code, messageZh: m.zh, messageEn: m.en, gatewayCode: gateway?.code ?? null, gatewayMessage: gateway?.message ?? null };
}
