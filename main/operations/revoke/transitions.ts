/**
 * The revoke state machine's arrows, one function each: the repository and
 * the row in, the row as stored out (undefined when the guard refused: the
 * row is final, or someone else holds it). Each is one SQLite transaction
 * with its audit entry. The caller emits events; nothing here does I/O
 * beyond SQLite.
 */
import type { Accountable } from '../../common/accountable';
import type { Order } from '../../domain';
import { audit, type AuditAction } from '../../store/audit';
import { tx } from '../../store/db';
import { heldByOther, RELEASED } from '../../store/locks';
import type { RevokePatch, RevokeRow, RevokesRepo } from '../../store/revokes';
import { succeededPatch } from '../../store/rows';
import type { OrderSnapshot } from '../../upay/result';
import type { Gateway } from './interpret';
import { revokeError, type RevokeMessageCode } from './messages';

/** Who moves the row, and when. */
export interface Stamp {
  owner: string;
  now: number;
}

/** What recording `revoked` touches besides the row: the order, and the receipt job queued in the same transaction. */
export interface RevokedHandOff {
  markCanceled(orderSn: string, snapshot: OrderSnapshot | null, now: number): Order | undefined;
  queueReceipt?(stored: { revoke: RevokeRow; order: Order }, now: number): void;
}

/** The audit entry's who-did-it: the voider's name and id, and the approver when there is one. */
const accountableDetails = (who: Accountable | null) => ({
  operator: who?.operatorName ?? null,
  operatorId: who?.operatorId ?? null,
  ...(who?.approverName ? { approverId: who.approverId, approver: who.approverName } : {}),
});

/** request --> sending (the intent, under our lease) or rejected (not eligible, no gateway call). */
export function recordRequest(
  repo: RevokesRepo,
  order: Pick<Order, 'sn' | 'clientSn' | 'businessDay'>,
  who: Accountable | null,
  actor: string,
  reason: RevokeMessageCode | undefined,
  stamp: Stamp & { leaseMs: number },
): { row: RevokeRow; fresh: boolean } {
  const { now } = stamp;
  return tx(repo.db, () => {
    const live = repo.live(order.sn);
    if (live) return { row: live, fresh: false };
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

/** Applies a patch in one transaction, only if the row is still open and nobody else took it meanwhile. */
export function move(repo: RevokesRepo, row: RevokeRow, patch: RevokePatch, stamp: Stamp, action: AuditAction | null): RevokeRow | undefined {
  const { now } = stamp;
  return tx(repo.db, () => {
    const updated = repo.updateOpen(row.id, { updated_at: now, ...patch }, stamp.owner, now);
    if (updated && action) {
      audit(repo.db, now, 'system', action, row.order_sn, {
        revokeId: row.id,
        state: updated.state,
        ...(patch.error_code ? { code: patch.error_code } : {}),
        ...(patch.gateway_code ? { gatewayCode: patch.gateway_code } : {}),
      });
    }
    return updated;
  });
}

/** --> revoked, with the order marked canceled and its receipt job queued in the same transaction. */
export function toRevoked(repo: RevokesRepo, row: RevokeRow, snapshot: OrderSnapshot | null, resultCode: string | null, stamp: Stamp, handOff: RevokedHandOff): RevokeRow | undefined {
  const { now } = stamp;
  return tx(repo.db, () => {
    const updated = repo.updateToRevoked(row.id, { state: 'revoked', revoked_at: now, ...succeededPatch(row, resultCode, now) });
    if (!updated) return undefined;
    // Details the host did not record (trade_no, payway name) come from the gateway's answer.
    const order = handOff.markCanceled(row.order_sn, snapshot, now);
    audit(repo.db, now, 'system', 'revoke.resolved', row.order_sn, { revokeId: row.id, state: 'revoked', resultCode });
    if (order) handOff.queueReceipt?.({ revoke: updated, order }, now);
    return updated;
  });
}

/** --> rejected, with our code and the gateway's verbatim. */
export function toRejected(repo: RevokesRepo, row: RevokeRow, code: RevokeMessageCode, gateway: Gateway, resultCode: string | null, stamp: Stamp): RevokeRow | undefined {
  const err = revokeError(code, gateway);
  return move(
    repo,
    row,
    {
      state: 'rejected',
      attempts: row.attempts,
      queries: row.queries,
      next_attempt_at: null,
      error_code: err.code,
      error_zh: err.messageZh,
      error_en: err.messageEn,
      gateway_code: gateway.code,
      gateway_message: gateway.message,
      last_result_code: resultCode ?? row.last_result_code,
      ...RELEASED,
    },
    stamp,
    'revoke.resolved',
  );
}

/**
 * sending --> pending: the first query is due at `queryAt`. With `refusal`, the gateway refused but the order
 * status must confirm it (a query showing PAID then rejects, CANCELED revokes).
 */
export function toPending(
  repo: RevokesRepo,
  row: RevokeRow,
  resultCode: string | null,
  gateway: Gateway | undefined,
  refusal: boolean,
  queryAt: number,
  stamp: Stamp,
): RevokeRow | undefined {
  const err = revokeError(refusal ? 'GATEWAY_REFUSED' : 'PENDING', gateway);
  const said: RevokePatch = gateway ? { gateway_code: gateway.code, gateway_message: gateway.message } : {};
  return move(
    repo,
    row,
    {
      state: 'pending',
      pending_since: row.pending_since ?? stamp.now,
      next_attempt_at: queryAt,
      last_result_code: resultCode ?? row.last_result_code,
      error_code: err.code,
      error_zh: err.messageZh,
      error_en: err.messageEn,
      ...said,
      ...RELEASED,
    },
    stamp,
    null,
  );
}

/** pending --(query: still unknown)--> pending, queried again at `queryAt`. */
export function stillPending(repo: RevokesRepo, row: RevokeRow, since: number, queryAt: number, stamp: Stamp): RevokeRow | undefined {
  return move(repo, row, { state: 'pending', queries: row.queries, pending_since: since, next_attempt_at: queryAt, ...RELEASED }, stamp, null);
}

/** sending --(certainly not sent)--> queued, due again at `retryAt`. */
export function toQueued(repo: RevokesRepo, row: RevokeRow, code: RevokeMessageCode, gateway: Gateway | undefined, retryAt: number, stamp: Stamp): RevokeRow | undefined {
  const err = revokeError(code, gateway);
  return move(
    repo,
    row,
    {
      state: 'queued',
      next_attempt_at: retryAt,
      error_code: err.code,
      error_zh: err.messageZh,
      error_en: err.messageEn,
      gateway_code: gateway?.code ?? null,
      gateway_message: gateway?.message ?? null,
      ...RELEASED,
    },
    stamp,
    null,
  );
}

/** pending --(unresolved after the polling window, or a person asked)--> needs_attention. */
export function toNeedsAttention(repo: RevokesRepo, row: RevokeRow, stamp: Stamp): RevokeRow | undefined {
  const err = revokeError('NEEDS_ATTENTION', row.gateway_code || row.gateway_message ? { code: row.gateway_code, message: row.gateway_message } : undefined);
  return move(
    repo,
    row,
    {
      state: 'needs_attention',
      queries: row.queries,
      next_attempt_at: null,
      pending_since: row.pending_since ?? stamp.now,
      error_code: err.code,
      error_zh: err.messageZh,
      error_en: err.messageEn,
      ...RELEASED,
    },
    stamp,
    'revoke.resolved',
  );
}

/** queued --(business day over, never sent)--> expired. */
export function toExpired(repo: RevokesRepo, row: RevokeRow, stamp: Stamp): RevokeRow | undefined {
  const err = revokeError('EXPIRED');
  return move(
    repo,
    row,
    {
      state: 'expired',
      queries: row.queries,
      next_attempt_at: null,
      error_code: err.code,
      error_zh: err.messageZh,
      error_en: err.messageEn,
      ...RELEASED,
      updated_at: stamp.now,
    },
    stamp,
    'revoke.resolved',
  );
}

/** pending --(query: PAID, re-send allowed)--> counts the re-send; the caller then sends (`toSending`). Returns the row as counted. */
export function countResend(repo: RevokesRepo, row: RevokeRow, stamp: Stamp): RevokeRow {
  const counted = { ...row, resends: row.resends + 1 };
  move(repo, counted, { queries: counted.queries, resends: counted.resends }, stamp, null);
  return counted;
}

/** --> sending (another attempt on the wire), under our lease until `leaseUntil`. */
export function toSending(repo: RevokesRepo, row: RevokeRow, leaseUntil: number, stamp: Stamp): RevokeRow | undefined {
  return move(repo, row, { state: 'sending', attempts: row.attempts + 1, next_attempt_at: null, lease_until: leaseUntil }, stamp, 'revoke.sent');
}

/**
 * Startup: rows left by a crashed process. `sending` is resolved by query
 * first (we cannot know whether the request left); `pending` and `queued`
 * are due now. Rows a live process holds are left alone.
 */
export function resumeAfterCrash(repo: RevokesRepo, stamp: Stamp): void {
  const { now } = stamp;
  tx(repo.db, () => {
    for (const row of repo.open()) {
      if (heldByOther(row, stamp.owner, now)) continue;
      if (row.state === 'sending') {
        repo.update(row.id, { state: 'pending', pending_since: now, next_attempt_at: now, ...RELEASED, updated_at: now });
      } else if (row.state === 'pending' || row.state === 'queued') {
        repo.update(row.id, { next_attempt_at: now, ...RELEASED });
      }
    }
  });
}

/** sending (claimed ahead in a batch, never sent) --> queued again, as it was before the claim. */
export function unclaim(repo: RevokesRepo, rows: readonly RevokeRow[], stamp: Stamp): void {
  tx(repo.db, () => {
    for (const row of rows) repo.unclaimSend(row.id, stamp.owner, stamp.now);
  });
}

const WORKABLE: readonly string[] = ['queued', 'pending', 'sending'];

/**
 * Takes the leases of up to `max` due rows in ONE transaction and moves the
 * queued ones still in their day to `sending` in it (write-ahead for the
 * whole batch): a queue drain costs one commit per batch, not two per revoke.
 * Returns the rows as stored and which of them are committed to be sent.
 */
export function claimBatch(repo: RevokesRepo, candidates: RevokeRow[], max: number, today: string, stamp: Stamp & { leaseMs: number }): { rows: RevokeRow[]; toSend: RevokeRow[] } {
  const { now } = stamp;
  const toSend: RevokeRow[] = [];
  const rows = tx(repo.db, () => {
    const out: RevokeRow[] = [];
    for (const c of candidates) {
      if (out.length >= max) break;
      const row = repo.get(c.id);
      if (!row || !WORKABLE.includes(row.state)) continue;
      if (heldByOther(row, stamp.owner, now)) continue;
      const lease = { lease_owner: stamp.owner, lease_until: now + stamp.leaseMs };
      const send = row.state === 'queued' && row.deadline_day >= today;
      if (send) {
        // Queued rows are sent; the others (pending, or `sending` left by a crash) are resolved by query.
        repo.update(row.id, { ...lease, state: 'sending', attempts: row.attempts + 1, next_attempt_at: null, updated_at: now });
        audit(repo.db, now, 'system', 'revoke.sent', row.order_sn, { revokeId: row.id, state: 'sending' });
      } else {
        repo.update(row.id, lease);
      }
      const stored = repo.get(row.id)!;
      out.push(stored);
      if (send) toSend.push(stored);
    }
    return out;
  });
  return { rows, toSend };
}

/** Takes one row's lease if it is in one of `states` and nobody live holds it; returns the fresh row. */
export function claimOne(repo: RevokesRepo, id: number, states: readonly string[], stamp: Stamp & { leaseMs: number }): RevokeRow | undefined {
  const { now } = stamp;
  return tx(repo.db, () => {
    const row = repo.get(id);
    if (!row || !states.includes(row.state)) return undefined;
    if (heldByOther(row, stamp.owner, now)) return undefined;
    repo.update(id, { lease_owner: stamp.owner, lease_until: now + stamp.leaseMs });
    return repo.get(id);
  });
}
