/** Cashier-facing explanations (zh-CN, en) of gateway call failures; raw gateway codes stay verbatim in details. */
import { PosError } from '../errors';
import type { CallFailure } from './result';

export function failureToError(f: CallFailure): PosError {
  switch (f.kind) {
    case 'invalid_request':
      return new PosError('INVALID_INPUT', `输入无效（${f.field}）：${f.message}`, `Invalid input (${f.field}): ${f.message}`, { field: f.field });
    case 'not_sent':
      return new PosError('GATEWAY_UNREACHABLE', '无法连接收钱吧网关，请求未发出：请检查网络后重试。', 'The Upay gateway cannot be reached; nothing was sent. Check the network and try again.', {
        reason: f.reason,
      });
    case 'maybe_sent':
      return new PosError(
        'GATEWAY_UNCERTAIN',
        '收钱吧网关没有给出明确答复，请求可能已被处理：请稍后查询结果，不要重复操作。',
        'The Upay gateway gave no clear answer; the request may have been processed. Check the result shortly; do not repeat the operation.',
        { reason: f.reason, ...(f.httpStatus ? { httpStatus: f.httpStatus } : {}) },
      );
    case 'envelope':
      return envelopeError(f.resultCode, f.errorCode, f.errorMessage);
  }
}

function envelopeError(resultCode: string, code: string, message: string | null): PosError {
  const details = { gatewayCode: code, gatewayMessage: message, resultCode };
  switch (code) {
    case 'ILLEGAL_SIGN':
      return new PosError('GATEWAY_AUTH', '网关拒绝了签名（终端密钥可能已过期）：请门店 IT 执行签到。', 'The gateway refused the signature (the terminal key may be stale): ask store IT to check in.', details);
    case 'INVALID_TERMINAL':
    case 'TERMINAL_NOT_EXISTS':
      return new PosError('GATEWAY_TERMINAL', '网关不认识此终端：请门店 IT 重新激活。', 'The gateway does not know this terminal: ask store IT to re-activate it.', details);
    case 'INVALID_PARAMS':
    case 'INVALID_PARAMETER':
      return new PosError('GATEWAY_INVALID_PARAMS', '网关认为请求参数有误：请联系门店 IT。', 'The gateway found the request parameters invalid: ask store IT.', details);
    case 'UNKNOWN_SYSTEM_ERROR':
      return new PosError('GATEWAY_ERROR', '收钱吧服务端异常：请稍后查询结果，如仍失败请联系收钱吧客服。', 'The Upay server had an error: check the result shortly; if it persists, contact Upay support.', details);
    case 'MAINTENANCE_INPROGRESS':
      return new PosError('GATEWAY_MAINTENANCE', '收钱吧网关正在维护，请稍后再试。', 'The Upay gateway is under maintenance; try again later.', details);
    default:
      return new PosError('GATEWAY_ERROR', `收钱吧网关返回错误 ${code}：请稍后重试，如仍失败请联系门店 IT。`, `The Upay gateway answered error ${code}: try again shortly; if it persists, ask store IT.`, details);
  }
}

type Text = { zh: string; en: string };

/**
 * Every business result code of the documents (业务结果码) with what it means
 * for the cashier. Codes not listed are shown verbatim.
 */
export const RESULT_CODE_TEXT: Readonly<Record<string, Text>> = {
  PAY_SUCCESS: { zh: '支付成功。', en: 'Paid.' },
  PAY_FAIL: { zh: '支付失败，已冲正，钱款未变动：请重新收款（使用新的商户订单号）。', en: 'The payment failed and was reversed; no money moved. Take the payment again with a new order number.' },
  PAY_IN_PROGRESS: { zh: '支付进行中：请查询订单状态，不要重复收款。', en: 'The payment is in progress: query the order; do not take payment again.' },
  PAY_FAIL_ERROR: { zh: '支付失败，且不确定支付通道的状态：请联系收钱吧客服确认。', en: "The payment failed and the payment channel's state is unknown: contact Upay support." },
  PAY_FAIL_IN_PROGRESS: { zh: '支付失败，冲正结果尚不清楚：请联系收钱吧客服确认。', en: 'The payment failed and its reversal has no outcome yet: contact Upay support.' },
  CANCEL_SUCCESS: { zh: '撤单成功，已全额退还。', en: 'Voided; the full amount is returned.' },
  CANCEL_ABORT_SUCCESS: { zh: '撤单成功：进行中的支付已被终止。', en: 'Voided: the payment in progress was stopped.' },
  CANCEL_IN_PROGRESS: { zh: '撤单进行中：正在查询结果。', en: 'The void is in progress: checking the result.' },
  CANCEL_ABORT_IN_PROGRESS: { zh: '正在终止进行中的支付，结果未定：正在查询结果。', en: 'Stopping the payment in progress; no outcome yet: checking the result.' },
  CANCEL_ERROR: { zh: '撤单失败，支付通道状态不确定：以订单状态为准，必要时联系收钱吧客服。', en: "The void failed and the channel's state is unknown: the order status decides; contact Upay support if needed." },
  CANCEL_ABORT_ERROR: { zh: '终止进行中的支付失败，支付通道状态不确定：请联系收钱吧客服。', en: "Stopping the payment in progress failed; the channel's state is unknown: contact Upay support." },
  REFUND_SUCCESS: { zh: '退款成功。', en: 'Refunded.' },
  REFUND_FAIL: { zh: '退款失败，钱款未变动。', en: 'The refund failed; no money moved.' },
  REFUND_IN_PROGRESS: { zh: '退款进行中：请查询订单状态，不要换一个退款序列号重试。', en: 'The refund is in progress: query the order; do not retry with another refund number.' },
  REFUND_ERROR: { zh: '退款失败，且不确定支付通道的退款状态：请联系收钱吧客服确认。', en: "The refund failed and the channel's refund state is unknown: contact Upay support." },
  SUCCESS: { zh: '操作成功：以订单状态为准。', en: 'Done: the order status tells the outcome.' },
  FAIL: { zh: '操作失败，订单未变动。', en: 'The request failed; the order is unchanged.' },
};

/** Every business error code of the documents (业务执行错误码). Codes not listed are shown verbatim. */
export const ERROR_CODE_TEXT: Readonly<Record<string, Text>> = {
  INVALID_BARCODE: { zh: '付款码错误：请顾客刷新付款码后重扫。', en: 'Invalid payment code: ask the customer to refresh it and scan again.' },
  INSUFFICIENT_FUND: { zh: '顾客账户余额不足。', en: "The customer's balance is not enough." },
  EXPIRED_BARCODE: { zh: '付款码已过期：请顾客刷新付款码。', en: 'The payment code expired: ask the customer to refresh it.' },
  BUYER_OVER_DAILY_LIMIT: { zh: '顾客当日付款金额超过上限。', en: "The customer's daily payment limit is reached." },
  BUYER_OVER_TRANSACTION_LIMIT: { zh: '顾客单笔付款金额超过上限。', en: "The amount is over the customer's per-payment limit." },
  SELLER_OVER_DAILY_LIMIT: { zh: '收款账户当日收款金额超过上限。', en: "The receiving account's daily limit is reached." },
  TRADE_NOT_EXIST: { zh: '交易不存在。', en: 'The transaction does not exist.' },
  TRADE_HAS_SUCCESS: { zh: '交易已被支付。', en: 'The transaction is already paid.' },
  SELLER_BALANCE_NOT_ENOUGH: { zh: '商户余额不足。', en: "The merchant's balance is not enough." },
  REFUND_AMT_NOT_EQUAL_TOTAL: { zh: '退款金额无效。', en: 'The refund amount is not valid.' },
  TRADE_FAILED: { zh: '交易失败。', en: 'The transaction failed.' },
  UNEXPECTED_PROVIDER_ERROR: { zh: '不认识的支付通道。', en: 'Unknown payment channel.' },
  TRADE_TIMEOUT: { zh: '交易超时，已自动撤单。', en: 'The transaction timed out and was voided automatically.' },
  ACCOUNT_BALANCE_NOT_ENOUGH: { zh: '商户余额不足，无法退款。', en: "The merchant's balance is not enough for the refund." },
  CLIENT_SN_CONFLICT: { zh: '商户订单号已存在：请使用新的订单号。', en: 'The order number is already used: use a new one.' },
  UPAY_ORDER_NOT_EXISTS: { zh: '订单不存在。', en: 'The order does not exist.' },
  UPAY_ORDER_NOT_EXIST: { zh: '订单不存在。', en: 'The order does not exist.' },
  REFUNDABLE_AMOUNT_NOT_ENOUGH: { zh: '订单可退金额不足。', en: 'Not enough left to refund on this order.' },
  UPAY_TERMINAL_NOT_EXISTS: { zh: '终端号在交易系统中不存在：请门店 IT 检查激活。', en: 'The terminal is not known to the trading system: ask store IT to check the activation.' },
  UPAY_TERMINAL_STATUS_ABNORMAL: { zh: '终端未激活或状态异常：请门店 IT 处理。', en: 'The terminal is not active: ask store IT.' },
  UPAY_CANCEL_ORDER_NOOP: { zh: '订单已经撤销，无需重复操作。', en: 'The order is already voided; nothing to do.' },
  UPAY_CANCEL_INVALID_ORDER_STATE: { zh: '当前订单状态不可撤销。', en: 'The order cannot be voided in its current state.' },
  UPAY_REFUND_ORDER_NOOP: { zh: '本次退款已经完成，无需重复操作。', en: 'This refund is already done; nothing to do.' },
  UPAY_REFUND_INVALID_ORDER_STATE: { zh: '当前订单状态不可退款。', en: 'The order cannot be refunded in its current state.' },
  UPAY_STORE_OVER_DAILY_LIMIT: { zh: '商户日收款额超过上限。', en: "The store's daily limit is reached." },
  UPAY_TCP_ORDER_NOT_REFUNDABLE: { zh: '订单参与了活动，无法撤销：请改用退款。', en: 'The order took part in a promotion and cannot be voided: use a refund.' },
};

/** Our explanation of a business answer, or null for a code we do not know (show it verbatim). */
export function explainBusiness(resultCode: string, errorCode: string | null): Text | null {
  return (errorCode !== null ? ERROR_CODE_TEXT[errorCode] : undefined) ?? RESULT_CODE_TEXT[resultCode] ?? null;
}
