/** The revokes table, and every statement on it: the durable revoke state machine's rows (transitions live in main/operations/revoke/). */
import { businessDayEnd, businessDayStart } from '../common/time';
import type { Revoke, RevokeError, RevokeState } from '../domain';
import { allIn, prepared, type Db } from './db';
import { OperationRepo } from './operation-repo';
import type { OperationRow } from './rows';

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

export const REVOKE_OPEN_STATES = ['sending', 'queued', 'pending', 'needs_attention'] as const;
const OPEN_SQL = `(${REVOKE_OPEN_STATES.map((s) => `'${s}'`).join(', ')})`;

export class RevokesRepo extends OperationRepo<RevokeRow> {
  constructor(db: Db) {
    super(db, { table: 'revokes', open: REVOKE_OPEN_STATES });
  }

  /** The order's live revoke: open, or revoked (a successful one is never repeated). */
  live(orderSn: string): RevokeRow | undefined {
    return prepared(this.db, "SELECT * FROM revokes WHERE order_sn = ? AND state NOT IN ('rejected', 'expired')")
      .get(orderSn) as RevokeRow | undefined;
  }

  /**
   * The order's refusal for `code` made here with no gateway call (rejected
   * at request, attempts = 0), if any: a repeated request refused for the
   * same reason returns it instead of writing another row and its events.
   */
  refusedLocally(orderSn: string, code: string): RevokeRow | undefined {
    return prepared(this.db, "SELECT * FROM revokes WHERE order_sn = ? AND state = 'rejected' AND attempts = 0 AND error_code = ? ORDER BY id DESC LIMIT 1")
      .get(orderSn, code) as RevokeRow | undefined;
  }

  latest(orderSn: string): RevokeRow | undefined {
    return prepared(this.db, 'SELECT * FROM revokes WHERE order_sn = ? ORDER BY id DESC LIMIT 1').get(orderSn) as RevokeRow | undefined;
  }

  /** All revokes of one business day's orders, oldest first. */
  forDay(day: string): RevokeRow[] {
    return prepared(this.db, 'SELECT r.* FROM orders o JOIN revokes r ON r.order_sn = o.sn WHERE o.business_day = ? ORDER BY r.id').all(day) as RevokeRow[];
  }

  /**
   * The day report's revokes, counted as refunds are (by the day they were recorded, `refunded_day`):
   * every revoke recorded as revoked during the business day (`revoked_at` in the day, UTC+8), whatever
   * day its order was paid, and every open one; oldest first. A revoke answered after midnight counts on
   * the day it was recorded, never on no day.
   */
  forReport(day: string): RevokeRow[] {
    return prepared(
      this.db,
      `SELECT * FROM revokes WHERE state = 'revoked' AND revoked_at >= ? AND revoked_at < ?
       UNION ALL
       SELECT * FROM revokes WHERE state IN ${OPEN_SQL}
       ORDER BY id`,
    ).all(businessDayStart(day), businessDayEnd(day)) as RevokeRow[];
  }

  /** All revokes of the given orders, oldest first. */
  forOrders(sns: readonly string[]): RevokeRow[] {
    return allIn<RevokeRow>(this.db, (p) => `SELECT * FROM revokes WHERE order_sn IN (${p})`, sns).sort((a, b) => a.id - b.id);
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

  // Deadlines: by the open-revoke day index (migration 004); each query repeats its condition `state IN ('queued', 'pending')`.

  /**
   * The deadlines the sweep still has to meet, from business day `fromDay` on (the day it last swept: what
   * lies before it is dealt with). `expireDay`: the earliest day of a queued row (it expires when that day
   * ends). `warnDay`: the earliest day of a queued or pending row not warned yet. A pending row has no
   * end-of-day deadline (only a query ends it), and a day before `fromDay` is never a deadline again:
   * returning one would be a wake-up time already past, a worker pass on every turn.
   */
  deadlineDays(fromDay: string): { expireDay: string | null; warnDay: string | null } {
    const expireDay = prepared(
      this.db,
      "SELECT deadline_day FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending') AND deadline_day >= ? AND state = 'queued' ORDER BY deadline_day LIMIT 1",
    )
      .pluck()
      .get(fromDay) as string | undefined;
    const warnDay = prepared(
      this.db,
      "SELECT deadline_day FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending') AND deadline_day >= ? AND warned_at IS NULL ORDER BY deadline_day LIMIT 1",
    )
      .pluck()
      .get(fromDay) as string | undefined;
    return { expireDay: expireDay ?? null, warnDay: warnDay ?? null };
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
