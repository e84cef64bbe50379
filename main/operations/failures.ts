/**
 * What a call that got no business answer means for any money operation
 * (revoke, refund): not sent → queue it; maybe sent or a server error →
 * pending (the order status decides); a refusal of the request itself →
 * rejected. One table for every kind: the transport and the envelope do not
 * depend on the endpoint.
 */
import type { CallFailure } from '../upay/result';

export type Gateway = { code: string | null; message: string | null };

export type FailureVerdict =
  | { to: 'rejected'; code: 'GATEWAY_INVALID_PARAMS' | 'GATEWAY_TERMINAL' | 'GATEWAY_REFUSED'; gateway: Gateway; resultCode: string | null }
  | { to: 'pending'; reason: string; resultCode: string | null; gateway?: Gateway }
  | { to: 'queued'; reason: string; code?: 'GATEWAY_AUTH'; gateway?: Gateway };

/** Business error codes that refuse the terminal itself, whatever the endpoint. */
export const TERMINAL_ERRORS: ReadonlySet<string> = new Set(['UPAY_TERMINAL_NOT_EXISTS', 'UPAY_TERMINAL_STATUS_ABNORMAL']);

export function interpretFailure(res: CallFailure): FailureVerdict {
  switch (res.kind) {
    case 'not_sent':
      return { to: 'queued', reason: res.reason };
    case 'maybe_sent':
      return { to: 'pending', reason: res.reason, resultCode: null };
    case 'invalid_request':
      return { to: 'rejected', code: 'GATEWAY_INVALID_PARAMS', gateway: { code: null, message: res.message }, resultCode: null };
    case 'envelope': {
      const gateway = { code: res.errorCode, message: res.errorMessage };
      switch (res.errorCode) {
        case 'ILLEGAL_SIGN':
          return { to: 'queued', reason: 'illegal_sign', code: 'GATEWAY_AUTH', gateway };
        case 'MAINTENANCE_INPROGRESS':
          return { to: 'queued', reason: 'maintenance', gateway };
        case 'INVALID_TERMINAL':
        case 'TERMINAL_NOT_EXISTS':
          return { to: 'rejected', code: 'GATEWAY_TERMINAL', gateway, resultCode: res.resultCode };
        case 'INVALID_PARAMS':
        case 'INVALID_PARAMETER':
          return { to: 'rejected', code: 'GATEWAY_INVALID_PARAMS', gateway, resultCode: res.resultCode };
        default:
          // UNKNOWN_SYSTEM_ERROR and anything new from a 500: the gateway may have acted.
          return res.resultCode === '400'
            ? { to: 'rejected', code: 'GATEWAY_REFUSED', gateway, resultCode: res.resultCode }
            : { to: 'pending', reason: `envelope_${res.errorCode}`, resultCode: res.resultCode, gateway };
      }
    }
  }
}
