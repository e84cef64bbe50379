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
    case 'MAINTENANCE_INPROGRESS':
      return new PosError('GATEWAY_MAINTENANCE', '收钱吧网关正在维护，请稍后再试。', 'The Upay gateway is under maintenance; try again later.', details);
    default:
      return new PosError('GATEWAY_ERROR', `收钱吧网关返回错误 ${code}：请稍后重试，如仍失败请联系门店 IT。`, `The Upay gateway answered error ${code}: try again shortly; if it persists, ask store IT.`, details);
  }
}
