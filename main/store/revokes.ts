/** The revokes table, and every statement on it: the durable revoke state machine's rows (transitions live in main/operations/revoke/). */
import type { Revoke, RevokeError, RevokeState } from '../domain';
import { allIn, prepared, type Db } from './db';
import { insertRow, LEASE_TAKEABLE, patchRow, type OperationRow } from './rows';

export interface RevokeRow extends OperationRow {
  state: RevokeState;
  operator: string | null;
  resends: number;
  deadline_day: string;
  revoked_at: number | null;
  warned_at: number | null;
}

export function toRevoke(r: RevokeRow): Revoke {
  const error: RevokeError | null =
    r.error_code !== null
      ? { code: r.error_code, messageZh: r.error_zh ?? '', messageEn: r.error_en ?? '', gatewayCode: r.gateway_code, gatewayMessage: r.gateway_message }
      : null;
  return {
    id: r.id,
    orderSn: r.order_sn,
    clientSn: r.client_sn,
    state: r.state,
    operator: r.operator,
    operatorId: r.operator_id ?? null,
    approverId: r.approver_id ?? null,
    approverName: r.approver_name ?? null,
    requestedAt: r.requested_at,
    updatedAt: r.updated_at,
    attempts: r.attempts,
    queries: r.queries,
    nextAttemptAt: r.next_attempt_at,
    deadlineDay: r.deadline_day,
    revokedAt: r.revoked_at,
    error,
    lastResultCode: r.last_result_code,
  };
}

/** Per order: its live revoke (open or revoked), else its latest; rows oldest first. */
export function perOrder(rows: RevokeRow[]): Map<string, Revoke> {
  const live = new Map<string, RevokeRow>();
  const latest = new Map<string, RevokeRow>();
  for (const row of rows) {
    latest.set(row.order_sn, row);
    if (row.state !== 'rejected' && row.state !== 'expired') live.set(row.order_sn, row);
  }
  const out = new Map<string, Revoke>();
  for (const [sn, row] of latest) out.set(sn, toRevoke(live.get(sn) ?? row));
  return out;
}

export type RevokePatch = Partial<Omit<RevokeRow, 'id' | 'order_sn' | 'client_sn' | 'requested_at' | 'deadline_day'>>;

const OPEN = "state NOT IN ('revoked', 'rejected', 'expired')";

export class RevokesRepo {
  constructor(readonly db: Db) {}

  get(id: number): RevokeRow | undefined {
    return prepared(this.db, 'SELECT * FROM revokes WHERE id = ?').get(id) as RevokeRow | undefined;
  }

  /** The order's live revoke: open, or revoked (a successful one is never repeated). */
  live(orderSn: string): RevokeRow | undefined {
    return prepared(this.db, "SELECT * FROM revokes WHERE order_sn = ? AND state NOT IN ('rejected', 'expired')")
      .get(orderSn) as RevokeRow | undefined;
  }

  latest(orderSn: string): RevokeRow | undefined {
    return prepared(this.db, 'SELECT * FROM revokes WHERE order_sn = ? ORDER BY id DESC LIMIT 1').get(orderSn) as RevokeRow | undefined;
  }

  /** All revokes of one business day's orders, oldest first. */
  forDay(day: string): RevokeRow[] {
    return prepared(this.db, 'SELECT r.* FROM orders o JOIN revokes r ON r.order_sn = o.sn WHERE o.business_day = ? ORDER BY r.id').all(day) as RevokeRow[];
  }

  /** All revokes of the given orders, oldest first. */
  forOrders(sns: readonly string[]): RevokeRow[] {
    return allIn<RevokeRow>(this.db, (p) => `SELECT * FROM revokes WHERE order_sn IN (${p})`, sns).sort((a, b) => a.id - b.id);
  }

  /** Inserts a row and returns it as stored. */
  insert(row: Omit<RevokeRow, 'id'>): RevokeRow {
    return insertRow<RevokeRow>(this.db, 'revokes', row);
  }

  update(id: number, patch: RevokePatch): void {
    patchRow(this.db, 'revokes', id, patch);
  }

  /**
   * Applies `patch` only while the row is still open and its lease is `owner`'s, free or lapsed at `now`;
   * returns the row as stored, or undefined when the guard refused (final, or leased by someone else).
   * (A plain UPDATE then a SELECT: `RETURNING *` costs more than both on this wide row.)
   */
  updateOpen(id: number, patch: RevokePatch, owner: string, now: number): RevokeRow | undefined {
    const guard = `AND ${OPEN} AND ${LEASE_TAKEABLE}`;
    return patchRow(this.db, 'revokes', id, patch, guard, { guard_owner: owner, guard_now: now }) === 1 ? this.get(id) : undefined;
  }

  /** Marks the row revoked (unless it already is) and returns it as stored. */
  updateToRevoked(id: number, patch: RevokePatch & { state: 'revoked' }): RevokeRow | undefined {
    return patchRow(this.db, 'revokes', id, patch, "AND state != 'revoked'") === 1 ? this.get(id) : undefined;
  }


  /** Open rows (not final), oldest first. */
  open(limit = 1000): RevokeRow[] {
    return prepared(this.db, `SELECT * FROM revokes WHERE ${OPEN} ORDER BY id LIMIT ?`).all(limit) as RevokeRow[];
  }

  /** Open rows with work due now whose lease is free or lapsed, oldest first. */
  due(now: number, limit: number): RevokeRow[] {
    // In id order from the oldest open row (found by the state index): the rows read are the few in flight
    // and the next due ones, not every open row of a long queue (which the state index and a sort would be).
    return prepared(
      this.db,
      `SELECT * FROM revokes NOT INDEXED
        WHERE id >= (SELECT coalesce(min(id), 0) FROM revokes WHERE state IN ('queued', 'pending', 'sending'))
          AND state IN ('queued', 'pending', 'sending')
          AND coalesce(next_attempt_at, 0) <= @now AND (lease_owner IS NULL OR lease_until <= @now)
        ORDER BY id LIMIT @limit`,
    ).all({ now, limit }) as RevokeRow[];
  }

  /**
   * Earliest moment a row has work for `owner`: rows it holds are in flight
   * (no wake-up); rows another process holds wake up when their lease lapses.
   */
  nextDue(owner: string): number | null {
    const r = prepared(this.db, 
        `SELECT min(CASE WHEN lease_owner IS NULL THEN coalesce(next_attempt_at, 0)
                         WHEN lease_owner = @owner THEN NULL
                         ELSE max(coalesce(next_attempt_at, 0), coalesce(lease_until, 0)) END) AS t
           FROM revokes WHERE state IN ('queued', 'pending', 'sending')`,
      )
      .get({ owner }) as { t: number | null };
    return r.t;
  }

  list(filter: { states?: RevokeState[]; day?: string; limit?: number }): RevokeRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.states?.length) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
      args.push(...filter.states);
    }
    if (filter.day) {
      where.push('deadline_day = ?');
      args.push(filter.day);
    }
    return prepared(this.db, `SELECT * FROM revokes ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`)
      .all(...args, filter.limit ?? 500) as RevokeRow[];
  }

  counts(): { queued: number; pending: number; sending: number; needsAttention: number; oldestOpenAt: number | null } {
    const r = prepared(this.db, 
        `SELECT sum(state = 'queued') AS queued, sum(state = 'pending') AS pending, sum(state = 'sending') AS sending,
                sum(state = 'needs_attention') AS na, min(requested_at) AS oldest
           FROM revokes WHERE state IN ('queued', 'pending', 'sending', 'needs_attention')`,
      )
      .get() as { queued: number | null; pending: number | null; sending: number | null; na: number | null; oldest: number | null };
    return { queued: r.queued ?? 0, pending: r.pending ?? 0, sending: r.sending ?? 0, needsAttention: r.na ?? 0, oldestOpenAt: r.oldest };
  }

  /** The online signal: every queued row is due now. */
  /** Ids of `needs_attention` revokes whose business day is `day` or later (the re-check's rows). */
  needingAttention(day: string): number[] {
    return (prepared(this.db, "SELECT id FROM revokes WHERE state = 'needs_attention' AND deadline_day >= ? ORDER BY id").all(day) as Array<{ id: number }>).map((r) => r.id);
  }

  /** Pending rows nobody holds are due now (connectivity is back). */
  duePendingNow(now: number): void {
    prepared(this.db, "UPDATE revokes SET next_attempt_at = ? WHERE state = 'pending' AND lease_owner IS NULL AND next_attempt_at > ?").run(now, now);
  }

  dueAllQueued(now: number): void {
    prepared(this.db, "UPDATE revokes SET next_attempt_at = ? WHERE state = 'queued'").run(now);
  }

  /** A row claimed and committed as `sending` by `owner` but never sent goes back to the queue as it was. */
  unclaimSend(id: number, owner: string, now: number): void {
    prepared(
      this.db,
      "UPDATE revokes SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, next_attempt_at = ? WHERE id = ? AND state = 'sending' AND lease_owner = ?",
    ).run(now, id, owner);
  }

  /** Frees `owner`'s lease on the row; `nextAttemptAt` (when given) is when it is due again. */
  release(id: number, owner: string, nextAttemptAt: number | null): void {
    prepared(this.db, 'UPDATE revokes SET lease_owner = NULL, lease_until = NULL, next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ? AND lease_owner = ?')
      .run(nextAttemptAt, id, owner);
  }

  // Deadlines: by the open-revoke day index (migration 004); each query repeats its condition `state IN ('queued', 'pending')`.

  /** The earliest business day of a queued or pending row, and whether one of that day is not warned yet. */
  earliestDeadline(): { day: string; unwarned: boolean } | null {
    const day = prepared(this.db, "SELECT min(deadline_day) FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending')").pluck().get() as string | null;
    if (day === null) return null;
    const unwarned = prepared(
      this.db,
      "SELECT 1 FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending') AND deadline_day = ? AND warned_at IS NULL LIMIT 1",
    ).get(day);
    return { day, unwarned: unwarned !== undefined };
  }

  /** Queued rows of a day before `today` that `owner` may take (lease free, lapsed or its own). */
  expiredQueued(today: string, owner: string, now: number): RevokeRow[] {
    return prepared(
      this.db,
      "SELECT * FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending') AND deadline_day < ? AND state = 'queued' AND (lease_owner IS NULL OR lease_until < ? OR lease_owner = ?)",
    ).all(today, now, owner) as RevokeRow[];
  }

  /** Unwarned queued or pending rows whose day is in [fromDay, beforeDay). */
  unwarned(fromDay: string, beforeDay: string): RevokeRow[] {
    return prepared(
      this.db,
      "SELECT * FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending') AND warned_at IS NULL AND deadline_day >= ? AND deadline_day < ?",
    ).all(fromDay, beforeDay) as RevokeRow[];
  }

  /** Marks the row warned; false when it already was. */
  markWarned(id: number, now: number): boolean {
    return prepared(this.db, 'UPDATE revokes SET warned_at = ? WHERE id = ? AND warned_at IS NULL').run(now, id).changes > 0;
  }
}
