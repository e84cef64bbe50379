/**
 * The skeleton's arrows, the same for every kind: the kind and the row in,
 * the row as stored out (undefined when the guard refused: the row is final,
 * or someone else holds it). Each is one SQLite transaction with its audit
 * entry; the engine emits events and does the I/O. A kind's own arrows (its
 * write-ahead insert, a revoke's deadline) live in its own transitions.ts.
 */
import { audit } from '../store/audit';
import { tx } from '../store/db';
import { heldByOther, RELEASED } from '../store/locks';
import type { OperationRow } from '../store/rows';
import { succeededPatch } from '../store/rows';
import type { OrderSnapshot } from '../upay/result';
import type { Gateway, OperationKind } from './kind';

/** Who moves the row, and when. */
export interface Stamp {
  owner: string;
  now: number;
}

export type LeaseStamp = Stamp & { leaseMs: number };

type Patch<Row> = Partial<Row>;

/** The patch to `state` with the kind's message for `code`, the gateway's words when it said any, and the lease given back. */
export function errorPatch<Row extends OperationRow>(kind: OperationKind<Row>, state: string, code: string, gateway: Gateway | undefined, extra: Patch<Row> = {}): Patch<Row> {
  const err = kind.message(code, gateway);
  return {
    state,
    error_code: err.code,
    error_zh: err.messageZh,
    error_en: err.messageEn,
    ...(gateway ? { gateway_code: gateway.code, gateway_message: gateway.message } : {}),
    ...RELEASED,
    ...extra,
  } as Patch<Row>;
}

/** One arrow: the patch in one transaction, only while the row is open and nobody else holds it; `inside` runs in it with the row as stored. */
export function move<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, patch: Patch<Row>, stamp: Stamp, resolved: boolean, inside?: (stored: Row) => void): Row | undefined {
  const { now } = stamp;
  return tx(kind.repo.db, () => {
    const updated = kind.repo.updateOpen(row.id, { updated_at: now, ...patch }, stamp.owner, now);
    if (updated && resolved) {
      audit(kind.repo.db, now, 'system', `${kind.name}.resolved`, row.order_sn, {
        [`${kind.name}Id`]: row.id,
        state: updated.state,
        ...(patch.error_code ? { code: patch.error_code } : {}),
        ...(patch.gateway_code ? { gatewayCode: patch.gateway_code } : {}),
      });
    }
    if (updated) inside?.(updated);
    return updated;
  });
}

/**
 * --> the kind's success, with the order and the receipt job in the same transaction. The gateway's truth wins over
 * any state, except the final states the kind says a success may not overwrite (a payment's `canceled`: the answer
 * is stale); such an answer is audited (`<kind>.stale_success`) and changes nothing.
 */
export function toSucceeded<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, snapshot: OrderSnapshot | null, resultCode: string | null, stamp: Stamp): Row | undefined {
  const { now } = stamp;
  return tx(kind.repo.db, () => {
    const patch = { ...kind.successPatch(row, now), ...succeededPatch(row, resultCode, now), state: kind.successState } as Patch<Row> & { state: string };
    const never = kind.successNeverOverwrites ?? [];
    const updated = kind.repo.updateToSucceeded(row.id, patch, never);
    if (!updated) {
      const stored = never.length ? kind.repo.get(row.id) : undefined;
      if (stored && never.includes(stored.state)) {
        const said = { resultCode, orderStatus: snapshot?.orderStatus ?? null, code: stored.error_code };
        // Its own action (not `.resolved`: nothing moved), so a person can find every ignored answer.
        audit(kind.repo.db, now, 'system', `${kind.name}.stale_success`, stored.order_sn, { [`${kind.name}Id`]: row.id, state: stored.state, ...said });
      }
      return undefined;
    }
    audit(kind.repo.db, now, 'system', `${kind.name}.resolved`, row.order_sn, { [`${kind.name}Id`]: row.id, state: updated.state, resultCode });
    kind.succeeded(updated, snapshot, now);
    return updated;
  });
}

/** --> a final state that is not a success, with our code and the gateway's verbatim, and the kind's `failed` (a receipt job) in the same transaction. */
export function toFailed<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, state: string, code: string, gateway: Gateway | undefined, resultCode: string | null, stamp: Stamp): Row | undefined {
  const extra = { attempts: row.attempts, queries: row.queries, next_attempt_at: null, last_result_code: resultCode ?? row.last_result_code } as Patch<Row>;
  return move(kind, row, errorPatch(kind, state, code, gateway, extra), stamp, true, (stored) => kind.failed?.(stored, stamp.now));
}

/**
 * The words of a code the row shows that the kind says stands through unclear answers (kind.standingCodes: a
 * refund's TOO_OLD), to keep over whatever an arrow to needs_attention or pending would say; else nothing.
 */
function standing<Row extends OperationRow>(kind: OperationKind<Row>, row: Row): Patch<Row> {
  if (row.error_code === null || !kind.standingCodes?.includes(row.error_code)) return {};
  const m = kind.message(row.error_code);
  return { error_code: m.code, error_zh: m.messageZh, error_en: m.messageEn } as Patch<Row>;
}

/** --> pending (polled by query from `queryAt`); `code` is the message shown meanwhile (unless a standing code stays). */
export function toPending<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, code: string, gateway: Gateway | undefined, resultCode: string | null, queryAt: number, stamp: Stamp): Row | undefined {
  const extra = { queries: row.queries, pending_since: row.pending_since ?? stamp.now, next_attempt_at: queryAt, last_result_code: resultCode ?? row.last_result_code, ...standing(kind, row) } as Patch<Row>;
  return move(kind, row, errorPatch(kind, 'pending', code, gateway, extra), stamp, false);
}

/**
 * A call that may have left, whose answer was never recorded (something failed here): asked about now, as a
 * restart would (resumeAfterCrash): `sending` --> pending; a reversal in flight stays in its state. Released.
 */
export function toAskNow<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, stamp: Stamp): Row | undefined {
  const words = row.state === 'sending' ? errorPatch(kind, 'pending', 'PENDING', undefined, standing(kind, row)) : RELEASED;
  return move(kind, row, { ...words, queries: row.queries, pending_since: row.pending_since ?? stamp.now, next_attempt_at: stamp.now } as Patch<Row>, stamp, false);
}

/** pending --(query: still unknown)--> the same state, asked again at `queryAt`. */
export function stillPending<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, since: number, queryAt: number, stamp: Stamp): Row | undefined {
  return move(kind, row, { queries: row.queries, pending_since: since, next_attempt_at: queryAt, ...RELEASED } as Patch<Row>, stamp, false);
}

/** sending --(certainly not sent)--> queued, due again at `retryAt`. */
export function toQueued<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, code: string, gateway: Gateway | undefined, retryAt: number, stamp: Stamp): Row | undefined {
  const extra = { next_attempt_at: retryAt, gateway_code: gateway?.code ?? null, gateway_message: gateway?.message ?? null } as Patch<Row>;
  return move(kind, row, errorPatch(kind, 'queued', code, gateway, extra), stamp, false);
}

/** --> needs_attention, keeping what the gateway last said (and a standing code over `patch`'s words); the re-check keeps asking. */
export function toNeedsAttention<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, stamp: Stamp, patch: Patch<Row> = {}): Row | undefined {
  const gateway = row.gateway_code || row.gateway_message ? { code: row.gateway_code, message: row.gateway_message } : undefined;
  const extra = { queries: row.queries, next_attempt_at: null, pending_since: row.pending_since ?? stamp.now, ...patch, ...standing(kind, row) } as Patch<Row>;
  return move(kind, row, errorPatch(kind, 'needs_attention', 'NEEDS_ATTENTION', gateway, extra), stamp, true);
}

/** --> `state` (sending, or the kind's reversal), another call on the wire under our lease until `leaseUntil`. */
export function toCalling<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, state: string, patch: Patch<Row>, leaseUntil: number, stamp: Stamp): Row | undefined {
  const stored = move(kind, row, { queries: row.queries, state, attempts: row.attempts + 1, next_attempt_at: null, lease_owner: stamp.owner, lease_until: leaseUntil, ...patch } as Patch<Row>, stamp, false);
  if (stored) audit(kind.repo.db, stamp.now, 'system', `${kind.name}.sent`, row.order_sn, { [`${kind.name}Id`]: row.id, state });
  return stored;
}

/**
 * Startup: rows left by a crashed process. `sending` (and a reversal in
 * flight) is resolved by query first: we cannot know whether the request
 * left. Other worked rows are due now. Rows a live process holds are left alone.
 */
export function resumeAfterCrash<Row extends OperationRow>(kind: OperationKind<Row>, stamp: Stamp): void {
  const { now } = stamp;
  const repo = kind.repo;
  tx(repo.db, () => {
    for (const row of repo.open()) {
      if (heldByOther(row, stamp.owner, now)) continue;
      if (row.state === 'sending') repo.update(row.id, { state: 'pending', pending_since: now, next_attempt_at: now, ...RELEASED, updated_at: now } as Patch<Row>);
      else if (repo.workedStates.includes(row.state)) repo.update(row.id, { next_attempt_at: now, ...RELEASED } as Patch<Row>);
    }
  });
}

/**
 * Takes the leases of up to `max` due rows in ONE transaction and moves the
 * queued ones to `sending` in it (write-ahead for the whole batch): a queue
 * drain costs one commit per batch, not two per row. `sendable` says which
 * queued rows may still go (a revoke's day may be over). Returns the rows as
 * stored and which of them are committed to be sent.
 */
export function claimBatch<Row extends OperationRow>(
  kind: OperationKind<Row>,
  candidates: Row[],
  max: number,
  sendable: (row: Row) => boolean,
  stamp: LeaseStamp,
): { rows: Row[]; toSend: Row[] } {
  const { now } = stamp;
  const repo = kind.repo;
  const toSend: Row[] = [];
  const rows = tx(repo.db, () => {
    const out: Row[] = [];
    for (const c of candidates) {
      if (out.length >= max) break;
      const row = repo.get(c.id);
      if (!row || !repo.workedStates.includes(row.state) || heldByOther(row, stamp.owner, now)) continue;
      const lease = { lease_owner: stamp.owner, lease_until: now + stamp.leaseMs };
      const send = row.state === 'queued' && sendable(row);
      if (send) {
        repo.update(row.id, { ...lease, state: 'sending', attempts: row.attempts + 1, next_attempt_at: null, updated_at: now } as Patch<Row>);
        audit(repo.db, now, 'system', `${kind.name}.sent`, row.order_sn, { [`${kind.name}Id`]: row.id, state: 'sending' });
      } else {
        repo.update(row.id, lease as Patch<Row>);
      }
      const stored = repo.get(row.id)!;
      out.push(stored);
      if (send) toSend.push(stored);
    }
    return out;
  });
  return { rows, toSend };
}

/** Takes one row's lease if it is open (not queued) and nobody live holds it; returns the fresh row. */
export function claimOne<Row extends OperationRow>(kind: OperationKind<Row>, id: number, actor: string, stamp: LeaseStamp): Row | undefined {
  const { now } = stamp;
  const repo = kind.repo;
  return tx(repo.db, () => {
    const row = repo.get(id);
    if (!row || !repo.isOpen(row.state) || row.state === 'queued' || heldByOther(row, stamp.owner, now)) return undefined;
    repo.update(id, { lease_owner: stamp.owner, lease_until: now + stamp.leaseMs } as Patch<Row>);
    audit(repo.db, now, actor, `${kind.name}.query`, row.order_sn, { [`${kind.name}Id`]: id });
    return repo.get(id);
  });
}

/** sending (claimed ahead in a batch, never sent) --> queued again, as it was before the claim. */
export function unclaim<Row extends OperationRow>(kind: OperationKind<Row>, rows: readonly Row[], sent: (row: Row) => boolean, stamp: Stamp): void {
  tx(kind.repo.db, () => {
    for (const row of rows) {
      if (sent(row)) kind.repo.unclaimSend(row.id, stamp.owner, stamp.now);
      else kind.repo.release(row.id, stamp.owner, null);
    }
  });
}
