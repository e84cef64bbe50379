/** The CLI's revoke report: the JSON shape of `upay-pos revoke --json`. */
import { revokeOutcome as outcomeOf } from '../common/states';
import type { Order, Revoke, RevokeOutcome } from '../domain';

export interface RevokeReport {
  outcome: RevokeOutcome;
  order: Order | null;
  error: { code: string; message: string; messageZh: string; gatewayCode: string | null; gatewayMessage: string | null } | null;
  receipt: { jobId: number; state: string; copy: boolean; error: string | null; lines: string[] } | null;
  revoke: Revoke;
}

/** `sending` is in flight (maybe in another process): not final, like pending. */
export function revokeOutcome(r: Revoke): RevokeOutcome {
  return outcomeOf(r.state);
}

export function revokeReport(r: Revoke, order: Order | null, receipt: RevokeReport['receipt']): RevokeReport {
  const hasError = r.error && r.state !== 'revoked';
  return {
    outcome: revokeOutcome(r),
    order,
    error: hasError
      ? { code: r.error!.code, message: r.error!.messageEn, messageZh: r.error!.messageZh, gatewayCode: r.error!.gatewayCode, gatewayMessage: r.error!.gatewayMessage }
      : null,
    receipt,
    revoke: r,
  };
}
