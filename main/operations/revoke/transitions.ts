/**
 * The revoke's own arrow: its request (eligibility decided, the intent
 * written ahead or the refusal recorded). Every other arrow is the
 * skeleton's (../transitions.ts), one SQLite transaction each.
 */
import type { Accountable } from '../../common/accountable';
import type { Order } from '../../domain';
import { audit } from '../../store/audit';
import { tx } from '../../store/db';
import { RELEASED } from '../../store/locks';
import type { RevokeRow, RevokesRepo } from '../../store/revokes';
import type { LeaseStamp } from '../transitions';
import { revokeError, type RevokeMessageCode } from './messages';



/** The audit entry's who-did-it: the voider's name and id, and the approver when there is one. */
const accountableDetails = (who: Accountable | null) => ({
  operator: who?.operatorName ?? null,
  operatorId: who?.operatorId ?? null,
  ...(who?.approverName ? { approverId: who.approverId, approver: who.approverName } : {}),
});

/**
 * request --> sending (the intent, under our lease) or rejected (not eligible, no gateway call).
 * A request refused again for a reason the order was already refused for here returns that
 * refusal (not fresh): no new row, no money event, no audit entry, so repeated taps (or a
 * hostile window) cannot grow the table or push real events out of the capped fleet outbox.
 */
export function recordRequest(
  repo: RevokesRepo,
  order: Pick<Order, 'sn' | 'clientSn' | 'businessDay'>,
  who: Accountable | null,
  actor: string,
  reason: RevokeMessageCode | undefined,
  stamp: LeaseStamp,
): { row: RevokeRow; fresh: boolean } {
  const { now } = stamp;
  return tx(repo.db, () => {
    const live = repo.live(order.sn);
    if (live) return { row: live, fresh: false };
    const refused = reason && repo.refusedLocally(order.sn, reason);
    if (refused) return { row: refused, fresh: false };
    const base = {
      order_sn: order.sn,
      client_sn: order.clientSn,
      operator: who?.operatorName ?? null,
      operator_id: who?.operatorId ?? null,
      approver_id: who?.approverId ?? null,
      approver_name: who?.approverName ?? null,
      requested_at: now,
      updated_at: now,
      queries: 0,
      resends: 0,
      pending_since: null,
      deadline_day: order.businessDay,
      revoked_at: null,
      gateway_code: null,
      gateway_message: null,
      last_result_code: null,
      warned_at: null,
      next_attempt_at: null,
    };
    if (reason) {
      const err = revokeError(reason);
      const inserted = repo.insert({ ...base, state: 'rejected', attempts: 0, error_code: err.code, error_zh: err.messageZh, error_en: err.messageEn, ...RELEASED });
      audit(repo.db, now, actor, 'revoke.requested', order.sn, { revokeId: inserted.id, ...accountableDetails(who) });
      audit(repo.db, now, actor, 'revoke.resolved', order.sn, { revokeId: inserted.id, state: 'rejected', code: reason });
      return { row: inserted, fresh: true };
    }
    // Write-ahead: the intent (already marked as being sent, under our lease) commits before the request leaves.
    const inserted = repo.insert({
      ...base,
      state: 'sending',
      attempts: 1,
      error_code: null,
      error_zh: null,
      error_en: null,
      lease_owner: stamp.owner,
      lease_until: now + stamp.leaseMs,
    });
    audit(repo.db, now, actor, 'revoke.requested', order.sn, { revokeId: inserted.id, ...accountableDetails(who) });
    return { row: inserted, fresh: true };
  });
}

