/**
 * The statements every money-operation table shares (revokes, refunds, and
 * any later kind): one repository shape over the columns of `OperationRow`,
 * parameterized by the table's name and its open states. A kind's own
 * repository extends it with the queries only that kind has.
 */
import { prepared, type Db } from './db';
import { insertRow, LEASE_TAKEABLE, patchRow, patchRowReturning, type OperationRow, type OperationTable } from './rows';

/** The states the outbox works (the rest of the open states wait for a person or the re-check). */
export const WORKED_STATES = ['queued', 'pending', 'sending'] as const;

export interface OperationTableSpec {
  table: OperationTable;
  /** States the row can still leave (the lock on its order holds while it is in one). */
  open: readonly string[];
  /** States the outbox claims and works (besides the default `queued`, `pending`, `sending`: e.g. `canceling`). */
  worked?: readonly string[];
}

const list = (states: readonly string[]) => `(${states.map((s) => `'${s}'`).join(', ')})`;

export class OperationRepo<Row extends OperationRow> {
  protected readonly t: OperationTable;
  /** `(…)` SQL lists of the open and the worked states. */
  protected readonly openSql: string;
  protected readonly workedSql: string;
  readonly workedStates: readonly string[];

  constructor(
    readonly db: Db,
    readonly spec: OperationTableSpec,
  ) {
    this.t = spec.table;
    this.openSql = list(spec.open);
    this.workedStates = spec.worked ?? WORKED_STATES;
    this.workedSql = list(this.workedStates);
  }

  isOpen(state: string): boolean {
    return this.spec.open.includes(state);
  }

  get(id: number): Row | undefined {
    return prepared(this.db, `SELECT * FROM ${this.t} WHERE id = ?`).get(id) as Row | undefined;
  }

  /** Inserts a row and returns it as stored. */
  insert(row: Omit<Row, 'id'>): Row {
    return insertRow<Row>(this.db, this.t, row);
  }

  update(id: number, patch: Partial<Row>): void {
    patchRow(this.db, this.t, id, patch);
  }

  /**
   * Applies `patch` only while the row is open and its lease is `owner`'s, free or lapsed at `now`;
   * the row as stored, or undefined when the guard refused (final, or leased by someone else).
   */
  updateOpen(id: number, patch: Partial<Row>, owner: string, now: number): Row | undefined {
    const guard = `AND state IN ${this.openSql} AND ${LEASE_TAKEABLE}`;
    return patchRowReturning<Row>(this.db, this.t, id, patch, guard, { guard_owner: owner, guard_now: now });
  }

  /**
   * Marks the row with its kind's success (whatever it was, unless it already is, or is one of `never`, the final
   * states the kind's success may not overwrite): the gateway's truth wins, but not a stale answer.
   */
  updateToSucceeded(id: number, patch: Partial<Row> & { state: string }, never: readonly string[] = []): Row | undefined {
    const guard = `AND state != @success${never.length ? ` AND state NOT IN ${list(never)}` : ''}`;
    return patchRowReturning<Row>(this.db, this.t, id, patch, guard, { success: patch.state });
  }

  /**
   * Every open row (not final), oldest first: none is left out (the open lists, crash resume, the cashier's
   * 待处理). A payment's are few (the cap on open payments); a revoke or refund queue is as long as it is.
   */
  open(): Row[] {
    return prepared(this.db, `SELECT * FROM ${this.t} WHERE state IN ${this.openSql} ORDER BY id`).all() as Row[];
  }

  /** The order's open row, if any (at most one: the order's lock). */
  openForOrder(orderSn: string): Row | undefined {
    return prepared(this.db, `SELECT * FROM ${this.t} WHERE order_sn = ? AND state IN ${this.openSql} ORDER BY id DESC LIMIT 1`).get(orderSn) as Row | undefined;
  }

  /**
   * Open rows with work due now whose lease is free or lapsed, the longest due first (by `next_attempt_at`), oldest
   * first among rows due at the same moment (a queue drain, where every queued row is due now, goes in id order).
   * Not in id order alone: a new payment's first query, due now, would wait behind every older row still being
   * polled (a QR flood on a slow gateway kept a real payment 正在确认 for 40 s); here it waits only for rows that
   * were due before it.
   */
  due(now: number, limit: number): Row[] {
    // The worked rows only (the state index), sorted on their due time: nextDue reads the same rows.
    return prepared(
      this.db,
      `SELECT * FROM ${this.t}
        WHERE state IN ${this.workedSql}
          AND coalesce(next_attempt_at, 0) <= @now AND (lease_owner IS NULL OR lease_until <= @now)
        ORDER BY coalesce(next_attempt_at, 0), id LIMIT @limit`,
    ).all({ now, limit }) as Row[];
  }

  /** Earliest moment a row has work for `owner`: rows it holds are in flight; rows another holds wake when their lease lapses. */
  nextDue(owner: string): number | null {
    const r = prepared(
      this.db,
      `SELECT min(CASE WHEN lease_owner IS NULL THEN coalesce(next_attempt_at, 0)
                       WHEN lease_owner = @owner THEN NULL
                       ELSE max(coalesce(next_attempt_at, 0), coalesce(lease_until, 0)) END) AS t
         FROM ${this.t} WHERE state IN ${this.workedSql}`,
    ).get({ owner }) as { t: number | null };
    return r.t;
  }

  counts(): { queued: number; pending: number; sending: number; needsAttention: number; oldestOpenAt: number | null } {
    const r = prepared(
      this.db,
      `SELECT sum(state = 'queued') AS queued, sum(state NOT IN ('queued', 'sending', 'needs_attention')) AS pending,
              sum(state = 'sending') AS sending, sum(state = 'needs_attention') AS na, min(requested_at) AS oldest
         FROM ${this.t} WHERE state IN ${this.openSql}`,
    ).get() as { queued: number | null; pending: number | null; sending: number | null; na: number | null; oldest: number | null };
    return { queued: r.queued ?? 0, pending: r.pending ?? 0, sending: r.sending ?? 0, needsAttention: r.na ?? 0, oldestOpenAt: r.oldest };
  }

  /** Ids of `needs_attention` rows (the re-check's rows), oldest first. */
  needingAttention(): number[] {
    return (prepared(this.db, `SELECT id FROM ${this.t} WHERE state = 'needs_attention' ORDER BY id`).all() as Array<{ id: number }>).map((r) => r.id);
  }

  /** The online signal: every queued row is due now. */
  dueAllQueued(now: number): void {
    prepared(this.db, `UPDATE ${this.t} SET next_attempt_at = ? WHERE state = 'queued'`).run(now);
  }

  /** Polled rows nobody holds are due now (connectivity is back). */
  duePendingNow(now: number): void {
    prepared(this.db, `UPDATE ${this.t} SET next_attempt_at = ? WHERE state IN ${this.workedSql} AND state NOT IN ('queued', 'sending') AND lease_owner IS NULL AND next_attempt_at > ?`).run(
      now,
      now,
    );
  }

  /** A row claimed and committed as `sending` by `owner` but never sent goes back to the queue as it was. */
  unclaimSend(id: number, owner: string, now: number): void {
    prepared(
      this.db,
      `UPDATE ${this.t} SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, next_attempt_at = ? WHERE id = ? AND state = 'sending' AND lease_owner = ?`,
    ).run(now, id, owner);
  }

  /** Frees `owner`'s lease on the row; `nextAttemptAt` (when given) is when it is due again. */
  release(id: number, owner: string, nextAttemptAt: number | null): void {
    prepared(this.db, `UPDATE ${this.t} SET lease_owner = NULL, lease_until = NULL, next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ? AND lease_owner = ?`).run(
      nextAttemptAt,
      id,
      owner,
    );
  }
}
