/**
 * The refund kind on the skeleton (../engine.ts): its request (POST
 * /upay/v2/refund with the row's `refund_request_no`, the same on every
 * re-send), its query (by sn AND that refund_request_no), its interpretation
 * table (interpret.ts, as Steps), the age limit of a queued refund, its
 * messages and its receipt.
 */
import { businessDay as businessDayOf } from '../../common/time';
import type { Order } from '../../domain';
import type { OrderSnapshot } from '../../upay/result';
import { LIMITS, utf8Prefix } from '../../upay/schemas';
import { RefundsRepo, toRefund, type RefundRow } from '../../store/refunds';
import { failureStep, type KindDeps, type OperationKind, type Step } from '../kind';
import type { ReceiptPort } from '../../printer/receipt-port';
import { DEFAULT_TIMING, windowPolling } from '../timing';
import { errorPatch, move } from '../transitions';
import { interpretRefund, interpretRefundQuery } from './interpret';
import { REFUND_MESSAGES, refundError, type RefundMessageCode } from './messages';

export type RefundedReceipt = ReceiptPort<{ refund: RefundRow; order: Order }>;

export interface RefundKindDeps extends KindDeps {
  /** Longest a queued refund waits for the network before a person is asked. */
  maxAgeMs: () => number;
  receipts?: RefundedReceipt;
}

/** The refund's body: the same `refund_request_no` on every send; `operator` at most 32 bytes (the English page's String(32)). */
export function refundBody(row: RefundRow) {
  return { sn: row.order_sn, refund_request_no: row.request_no, refund_amount: String(row.amount_cents), operator: utf8Prefix(row.operator, LIMITS.refundOperatorSentBytes) || 'pos' };
}

/** A successful refund named by its client_tsn (`<client_sn>-<refund_request_no>`): the only answer that can settle a refund. */
const showsAppliedRefund = (snapshot: OrderSnapshot): boolean => snapshot.status === 'SUCCESS' && !!snapshot.clientTsn?.includes('-');

export function refundKind(deps: RefundKindDeps): OperationKind<RefundRow> & { repo: RefundsRepo } {
  const { orders, receipts } = deps;
  const timing = { ...DEFAULT_TIMING, ...deps.timing };
  const repo = new RefundsRepo(deps.db);
  const kind: OperationKind<RefundRow> & { repo: RefundsRepo } = {
    name: 'refund',
    repo,
    queueable: true,
    namedBy: 'sn',
    successState: 'refunded',
    failedState: 'rejected',
    // TOO_OLD: handed to a person, never sent again without a person's tap. An unclear answer to the re-check or a
    // person's "query again" keeps it, so "not applied" then ends the refund void (interpretQuery), never re-sent.
    standingCodes: ['TOO_OLD'],
    message: (code, gateway) => refundError((code in REFUND_MESSAGES ? code : 'NEEDS_ATTENTION') as RefundMessageCode, gateway),
    send: (client, signer, row) => client.refund(signer, refundBody(row)),
    query: (client, signer, row) => client.query(signer, { sn: row.order_sn, refund_request_no: row.request_no }),
    interpretSend(res): Step<RefundRow> {
      const v = interpretRefund(res);
      return v.to === 'refunded' ? { to: 'succeeded', order: v.order, resultCode: v.resultCode } : failureStep(v);
    },
    interpretQuery(res, row): Step<RefundRow> {
      const v = interpretRefundQuery(res, row);
      switch (v.to) {
        case 'applied':
          return { to: 'succeeded', order: v.order, resultCode: row.last_result_code };
        case 'not_applied':
          // A refund that waited too long was handed to a person as "not sent, no money moved": it is never
          // sent after that (the cashier may have settled with the customer meanwhile); confirmed not applied, it
          // ends void, and a refund still needed is asked for again.
          if (row.error_code === 'TOO_OLD') return { to: 'failed', code: 'TOO_OLD_NOT_SENT', resultCode: row.last_result_code };
          // Safe to send again: the same refund_request_no can never apply twice. Bounded, then a person.
          return row.attempts > timing.maxResends + 1 ? { to: 'attention' } : { to: 'resend' };
        case 'failed':
          // The gateway shows this refund failed: nothing moved; its reason is what the refund's answer said.
          return { to: 'failed', code: 'GATEWAY_REFUSED', gateway: { code: row.gateway_code, message: row.gateway_message }, resultCode: row.last_result_code, order: v.order };
        case 'unknown':
          return { to: 'unknown', reason: v.reason };
      }
    },
    polling: windowPolling(timing),
    successPatch: (_row, now) => ({ refunded_at: now, refunded_day: businessDayOf(now) }),
    succeeded(stored, snapshot, now) {
      const order = orders.markRefunded(stored.order_sn, snapshot, stored.amount_cents, now);
      if (order) receipts?.queue({ refund: stored, order }, now);
    },
    afterSuccess: () => receipts?.wake(),
    refreshOrder: (snapshot, now) => void orders.refreshFromSnapshot(snapshot, now),
    // An answer naming this refund (client_tsn) with a SUCCESS status proves it applied, whichever call brought it.
    settles: (snapshot, row) =>
      showsAppliedRefund(snapshot) && snapshot.clientTsn!.endsWith(`-${row.request_no}`) ? { to: 'succeeded', order: snapshot, resultCode: null } : undefined,
    mightSettle: showsAppliedRefund,
    publish: (row) => deps.events.emit('refund.updated', toRefund(row)),
    /** Queued refunds older than the maximum age go to a person: still certainly not applied, but nobody should wonder. */
    sweep(now, owner) {
      const moved: RefundRow[] = [];
      for (const row of repo.tooOld(now - deps.maxAgeMs(), owner, now)) {
        const stored = move(kind, row, errorPatch(kind, 'needs_attention', 'TOO_OLD', undefined, { next_attempt_at: null }), { owner, now }, true);
        if (stored) moved.push(stored);
      }
      return moved;
    },
    nextDeadline() {
      const oldest = repo.oldestQueuedAt();
      return oldest === null ? null : oldest + deps.maxAgeMs();
    },
  };
  return kind;
}
