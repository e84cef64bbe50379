/**
 * The revoke kind on the skeleton (../engine.ts): its request (POST
 * /upay/v2/revoke by sn), its query (by sn), its interpretation table
 * (interpret.ts, as Steps), its same-day deadline, its messages and its
 * receipt. docs/operations.md says what each piece is.
 */
import { businessDay } from '../../common/time';
import { RevokesRepo, toRevoke, type RevokeRow } from '../../store/revokes';
import type { Order } from '../../domain';
import type { OrderSnapshot } from '../../upay/result';
import { failureStep, type KindDeps, type OperationKind, type Step } from '../kind';
import type { ReceiptPort } from '../../printer/receipt-port';
import { DEFAULT_TIMING, windowPolling } from '../timing';
import { nextDeadline, sweepDeadlines } from './deadlines';
import { interpretQuery, interpretRevoke, noEarlierSendCouldLand, type RevokeVerdict } from './interpret';
import { REVOKE_MESSAGES, revokeError, type RevokeMessageCode } from './messages';

export type RevokedReceipt = ReceiptPort<{ revoke: RevokeRow; order: Order }>;

export interface RevokeKindDeps extends KindDeps {
  warningLeadMs: () => number;
  receipts?: RevokedReceipt;
}

/** The code of a revoke that found the order already voided before any send of its own could land: no money moved here. */
export const VOIDED_ELSEWHERE: RevokeMessageCode = 'VOIDED_ELSEWHERE';

/** The revoke call's answer, sent for `row`, as a Step. */
export function revokeStep(v: RevokeVerdict, row: RevokeRow): Step<RevokeRow> {
  if (v.to === 'revoked') {
    // Already voided before any send of ours could land: not this till's revoke (the order is marked CANCELED in `failed`).
    if (v.alreadyVoided && row.state === 'sending' && noEarlierSendCouldLand(row)) return { to: 'failed', code: VOIDED_ELSEWHERE, gateway: v.alreadyVoided, resultCode: v.resultCode };
    return { to: 'succeeded', order: v.order, resultCode: v.resultCode };
  }
  // A refusal the order status must confirm: a query showing PAID rejects (keeping the gateway's words), CANCELED revokes.
  if (v.to === 'confirm_refusal') return { to: 'pending', code: 'GATEWAY_REFUSED', gateway: v.gateway, resultCode: v.resultCode };
  return failureStep(v);
}

/** Any answer showing the order CANCELED proves the void happened, whichever call brought it. */
const showsCanceled = (snapshot: OrderSnapshot): boolean => snapshot.orderStatus === 'CANCELED';

/**
 * Another answer showed the order CANCELED: our void, unless the row waits in the queue with nothing of it ever
 * possibly landed (then it was voided elsewhere). A row being sent may be voided by that very send: revoked.
 */
function settledBy(snapshot: OrderSnapshot, row: RevokeRow): Step<RevokeRow> | undefined {
  if (!showsCanceled(snapshot)) return undefined;
  // The gateway said nothing to this row: no words of an earlier refusal (a maintenance answer) are left beside ours.
  if (row.state === 'queued' && noEarlierSendCouldLand(row)) return { to: 'failed', code: VOIDED_ELSEWHERE, gateway: { code: null, message: null }, resultCode: null };
  return { to: 'succeeded', order: snapshot, resultCode: null };
}

export function revokeKind(deps: RevokeKindDeps): OperationKind<RevokeRow> & { repo: RevokesRepo } {
  const { orders, receipts } = deps;
  const timing = { ...DEFAULT_TIMING, ...deps.timing };
  const repo = new RevokesRepo(deps.db);
  return {
    name: 'revoke',
    repo,
    queueable: true,
    namedBy: 'sn',
    successState: 'revoked',
    failedState: 'rejected',
    message: (code, gateway) => revokeError((code in REVOKE_MESSAGES ? code : 'NEEDS_ATTENTION') as RevokeMessageCode, gateway),
    send: (client, signer, row) => client.revoke(signer, { sn: row.order_sn }),
    query: (client, signer, row) => client.query(signer, { sn: row.order_sn }),
    interpretSend: (res, row) => revokeStep(interpretRevoke(res), row),
    interpretQuery(res, row, now) {
      const v = interpretQuery(res);
      switch (v.to) {
        case 'revoked':
          return { to: 'succeeded', order: v.order, resultCode: row.last_result_code };
        case 'refunded':
          return { to: 'failed', code: 'REFUNDED', gateway: { code: null, message: null }, resultCode: row.last_result_code, order: v.order };
        case 'still_paid':
          // The revoke did not happen. A refusal waiting for this confirmation ends here; otherwise re-sending is safe now.
          if (row.error_code === 'GATEWAY_REFUSED') return { to: 'failed', code: 'GATEWAY_REFUSED', gateway: { code: row.gateway_code, message: row.gateway_message }, resultCode: row.last_result_code };
          if (businessDay(now) > row.deadline_day) return { to: 'failed', state: 'expired', code: 'EXPIRED' };
          if (row.resends >= timing.maxResends) return { to: 'attention' };
          return { to: 'resend', patch: { resends: row.resends + 1 } };
        case 'unknown':
          return { to: 'unknown', reason: v.reason };
      }
    },
    polling: windowPolling(timing),
    successPatch: (_row, now) => ({ revoked_at: now }),
    succeeded(stored, snapshot, now) {
      // Details the host did not record (trade_no, payway name) come from the gateway's answer.
      const order = orders.markCanceled(stored.order_sn, snapshot, now);
      if (order) receipts?.queue({ revoke: stored, order }, now);
    },
    afterSuccess: () => receipts?.wake(),
    failed(stored, now) {
      // Voided elsewhere: the local order as the gateway has it (CANCELED, nothing left); no receipt, no revoke of ours.
      if (stored.error_code === VOIDED_ELSEWHERE) orders.markCanceled(stored.order_sn, null, now);
    },
    refreshOrder: (snapshot, now) => void orders.refreshFromSnapshot(snapshot, now),
    settles: settledBy,
    mightSettle: showsCanceled,
    publish: (row) => deps.events.emit('revoke.updated', toRevoke(row)),
    sweep(now, owner) {
      const { expired, warned } = sweepDeadlines(this as OperationKind<RevokeRow> & { repo: RevokesRepo }, deps.warningLeadMs(), { owner, now });
      for (const { row, deadlineAt } of warned) {
        deps.events.emit('revoke.warning', { revoke: toRevoke(row), deadlineAt, messageZh: REVOKE_MESSAGES.DEADLINE_NEAR.zh, messageEn: REVOKE_MESSAGES.DEADLINE_NEAR.en });
      }
      return expired;
    },
    nextDeadline: () => nextDeadline(repo, deps.warningLeadMs()),
    beforeSend: (row, now) => (businessDay(now) > row.deadline_day ? { to: 'failed', state: 'expired', code: 'EXPIRED' } : undefined),
  };
}
