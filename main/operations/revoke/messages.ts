/**
 * What a cashier reads about a revoke, in zh-CN and en: the reason and the
 * next step. Gateway messages are shown verbatim beside these, never instead.
 */
import type { RevokeError } from '../../domain';

type Text = { zh: string; en: string };

export const REVOKE_MESSAGES = {
  NOT_TODAY: {
    zh: '不是今天的订单：撤销只能在支付当天进行，请改用退款。',
    en: "Not today's order: a revoke is same-day only. Use a refund instead.",
  },
  NOT_PAID: {
    zh: '订单不是“已支付”状态，无法撤销。钱款未变动。',
    en: 'The order is not in the PAID state, so it cannot be revoked. No money moved.',
  },
  ALREADY_VOIDED: {
    zh: '订单已经撤销或取消，无需再次操作。',
    en: 'The order is already revoked or cancelled; nothing more to do.',
  },
  VOIDED_ELSEWHERE: {
    zh: '该订单已在其他地方撤销，钱款已退回顾客；本次没有再次撤销。',
    en: 'This order was already voided elsewhere; the money went back to the customer; this till did not void it again.',
  },
  REFUNDED: {
    zh: '订单已有退款，无法撤销：请继续使用退款。',
    en: 'The order has a refund, so it cannot be revoked: continue with a refund.',
  },
  UNRESOLVED: {
    zh: '订单的付款、撤销或退款结果尚未确定，钱款可能已变动：请先查询订单状态；如仍不确定，请联系收钱吧客服。',
    en: "The order's payment, void or refund has no final outcome yet and money may have moved: query the order first; if it stays unclear, contact Upay support.",
  },
  ZERO_AMOUNT: {
    zh: '订单金额为零，无需撤销。',
    en: 'The order amount is zero; there is nothing to revoke.',
  },
  GATEWAY_REFUSED: {
    zh: '收钱吧拒绝了撤销，钱款未变动。请查看下方网关原因；如需退还顾客请改用退款。',
    en: 'Upay refused the revoke; no money moved. See the gateway reason below; to pay the customer back, use a refund.',
  },
  GATEWAY_TERMINAL: {
    zh: '收钱吧不认可此终端，撤销未执行，钱款未变动：请联系门店 IT 检查终端激活与签到。',
    en: 'Upay does not accept this terminal; the revoke was not done and no money moved. Ask store IT to check activation and check-in.',
  },
  GATEWAY_AUTH: {
    zh: '收钱吧拒绝了签名，撤销尚未执行，将自动重试：请联系门店 IT 执行签到。',
    en: 'Upay refused the signature; the revoke has not been done and will be retried automatically. Ask store IT to check in.',
  },
  GATEWAY_INVALID_PARAMS: {
    zh: '收钱吧认为请求参数有误，撤销未执行，钱款未变动。',
    en: 'Upay found the request invalid; the revoke was not done and no money moved.',
  },
  QUEUED: {
    zh: '网络中断：撤销已安全保存，网络恢复后会自动发出，无需再次点击。',
    en: 'The network is down: the revoke is saved and will be sent automatically when it is back. No need to tap again.',
  },
  PENDING: {
    zh: '正在向收钱吧确认撤销结果，请稍候；不要重复撤销或收款。',
    en: 'Confirming the result with Upay; please wait. Do not revoke again or take payment again.',
  },
  NEEDS_ATTENTION: {
    zh: '暂时无法确认撤销结果：请点击“再次查询”；如仍无结果，请联系收钱吧客服并提供订单号。',
    en: 'The result cannot be confirmed yet: tap "Query again"; if it stays unknown, contact Upay support with the order number.',
  },
  OTHER_ORDER: {
    zh: '收钱吧返回的结果属于另一笔订单，不是本单，未采用：正在按本单订单号向收钱吧查询撤销结果，请稍候；不要重复撤销或收款。',
    en: "Upay's answer was about another order, not this one, so it was not applied: asking Upay about this order by its own number; please wait. Do not revoke again or take payment again.",
  },
  OTHER_ORDER_ATTENTION: {
    zh: '收钱吧返回的是另一笔订单的结果，无法确认本单撤销结果，钱款可能已变动：请勿重复撤销；请点击“再次查询”，如仍不符，请联系门店 IT 检查网络或代理，并联系收钱吧客服提供订单号。',
    en: 'Upay answered about another order, so the result of this revoke cannot be confirmed and money may have moved: do not revoke again. Tap "Query again"; if it still does not match, ask store IT to check the network or proxy, and contact Upay support with the order number.',
  },
  EXPIRED: {
    zh: '营业日已结束，撤销未能发出，钱款未变动：请改用退款。',
    en: 'The business day ended before the revoke could be sent; no money moved. Use a refund instead.',
  },
  DEADLINE_NEAR: {
    zh: '撤销仍在等待网络，营业日即将结束：如无法及时发出将需要改用退款。',
    en: 'The revoke is still waiting for the network and the business day is about to end: if it cannot be sent in time, a refund will be needed.',
  },
} satisfies Record<string, Text>;

export type RevokeMessageCode = keyof typeof REVOKE_MESSAGES;

export function revokeError(code: RevokeMessageCode, gateway?: { code: string | null; message: string | null }): RevokeError {
  const m = REVOKE_MESSAGES[code];
  return { code, messageZh: m.zh, messageEn: m.en, gatewayCode: gateway?.code ?? null, gatewayMessage: gateway?.message ?? null };
}
