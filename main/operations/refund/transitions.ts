/**
 * The refund state machine's arrows that write: the repository and the row
 * in, the row as stored out (undefined when the guard refused: the row is
 * final, or someone else holds it). Each is one SQLite transaction with its
 * audit entry; the engine emits events and does the I/O.
 */
import { businessDay } from '../../common/time';
import type { Order } from '../../domain';
import { audit } from '../../store/audit';
import { tx } from '../../store/db';
import { RELEASED } from '../../store/locks';
import type { RefundPatch, RefundRow, RefundsRepo } from '../../store/refunds';
import { succeededPatch } from '../../store/rows';
import type { OrderSnapshot } from '../../upay/result';
import type { Gateway } from '../failures';
import type { Stamp } from '../revoke/transitions';
import { refundError, type RefundMessageCode } from './messages';

/** What recording `refunded` touches besides the row: the order, and the receipt job queued in the same transaction. */
export interface RefundedHandOff {
  markRefunded(orderSn: string, snapshot: OrderSnapshot | null, cents: number, now: number): Order | undefined;
  queueReceipt?(stored: { refund: RefundRow; order: Order }, now: number): void;
}

/** The patch to `state` with our message for `code`, the gateway's words when it said any, and the lease given back. */
export function errorPatch(state: RefundRow['state'], code: RefundMessageCode, gateway: Gateway | undefined, extra: RefundPatch): RefundPatch {
  const err = refundError(code, gateway);
  return {
    state,
    error_code: err.code,
    error_zh: err.messageZh,
    error_en: err.messageEn,
    ...(gateway ? { gateway_code: gateway.code, gateway_message: gateway.message } : {}),
    ...RELEASED,
    ...extra,
  };
}

/** --> needs_attention, keeping what the gateway last said. */
export function attentionPatch(row: RefundRow, now: number): RefundPatch {
  const gateway = row.gateway_code || row.gateway_message ? { code: row.gateway_code, message: row.gateway_message } : undefined;
  return errorPatch('needs_attention', 'NEEDS_ATTENTION', gateway, { queries: row.queries, next_attempt_at: null, pending_since: row.pending_since ?? now });
}

/** One arrow: the patch in one transaction, only while the row is open and nobody else holds it. */
export function move(repo: RefundsRepo, row: RefundRow, patch: RefundPatch, stamp: Stamp, action: 'refund.resolved' | 'refund.sent' | null): RefundRow | undefined {
  const { now } = stamp;
  return tx(repo.db, () => {
    const updated = repo.updateOpen(row.id, { updated_at: now, ...patch }, stamp.owner, now);
    if (updated && action) {
      audit(repo.db, now, 'system', action, row.order_sn, { refundId: row.id, state: updated.state, ...(patch.error_code ? { code: patch.error_code } : {}) });
    }
    return updated;
  });
}

/** --> refunded, with the order's net amount and status and the receipt job in the same transaction. */
export function toRefunded(repo: RefundsRepo, row: RefundRow, snapshot: OrderSnapshot | null, resultCode: string | null, stamp: Stamp, handOff: RefundedHandOff): RefundRow | undefined {
  const { now } = stamp;
  return tx(repo.db, () => {
    const updated = repo.updateOpen(row.id, { state: 'refunded', refunded_at: now, refunded_day: businessDay(now), ...succeededPatch(row, resultCode, now) }, stamp.owner, now);
    if (!updated) return undefined;
    const order = handOff.markRefunded(row.order_sn, snapshot, row.amount_cents, now);
    audit(repo.db, now, 'system', 'refund.resolved', row.order_sn, { refundId: row.id, state: 'refunded', resultCode, amountCents: row.amount_cents });
    if (order) handOff.queueReceipt?.({ refund: updated, order }, now);
    return updated;
  });
}
