/**
 * The print_jobs table, and every statement on it: durable receipts waiting
 * for the printer. A job is worked under a lease (store/locks.ts's rule: the
 * same `lease_owner`/`lease_until` pair as revokes), so two processes sharing
 * the database never send the same job at once. `receipt` is the stored
 * receipt (JSON, see printer/jobs.ts); `bytes` what the printer gets.
 */
import type { PrintJob, PrintJobState } from '../domain';
import { prepared, type Db } from './db';

export type PrintJobKind = 'revoke' | 'test' | 'refund' | 'report' | 'payment';

interface JobRow {
  id: number;
  revoke_id: number | null;
  order_sn: string | null;
  kind: PrintJobKind;
  copy: 0 | 1;
  state: PrintJobState;
  attempts: number;
  last_error: string | null;
  created_at: number;
  printed_at: number | null;
  next_attempt_at: number | null;
}

const JOB_COLUMNS = 'id, revoke_id, order_sn, kind, copy, state, attempts, last_error, created_at, printed_at, next_attempt_at';

export function toPrintJob(row: JobRow): PrintJob {
  return {
    id: row.id,
    revokeId: row.revoke_id,
    orderSn: row.order_sn,
    kind: row.kind,
    copy: row.copy === 1,
    state: row.state,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
    printedAt: row.printed_at,
    nextAttemptAt: row.next_attempt_at,
  };
}

export interface NewPrintJob {
  revokeId: number | null;
  orderSn: string | null;
  kind: PrintJobKind;
  copy: boolean;
  receipt: string;
  bytes: Buffer | null;
  now: number;
  /** A refund receipt's refund (schema version 7). */
  refundId?: number | null;
}

export function insertPrintJob(db: Db, job: NewPrintJob): number {
  const info = prepared(
    db,
    `INSERT INTO print_jobs (revoke_id, refund_id, order_sn, kind, copy, state, receipt, bytes, attempts, created_at, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, 0, ?, ?)`,
  ).run(job.revokeId, job.refundId ?? null, job.orderSn, job.kind, job.copy ? 1 : 0, job.receipt, job.bytes, job.now, job.now);
  return Number(info.lastInsertRowid);
}

/** The id of a revoke's original receipt job (not a copy), or null. */
export function originalJobId(db: Db, revokeId: number): number | null {
  const row = prepared(db, 'SELECT id FROM print_jobs WHERE revoke_id = ? AND copy = 0').get(revokeId) as { id: number } | undefined;
  return row?.id ?? null;
}

export interface JobFilter {
  state?: PrintJobState;
  kind?: PrintJobKind;
  revokeId?: number;
  orderSn?: string;
  /** Default 100. */
  limit?: number;
}

/** Newest first. */
export function listJobs(db: Db, filter: JobFilter = {}): PrintJob[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (sql: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(sql);
    params.push(value);
  };
  add('state = ?', filter.state);
  add('kind = ?', filter.kind);
  add('revoke_id = ?', filter.revokeId);
  add('order_sn = ?', filter.orderSn);
  params.push(Math.max(1, Math.min(filter.limit ?? 100, 10_000)));
  const sql = `SELECT ${JOB_COLUMNS} FROM print_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  return (prepared(db, sql).all(...params) as JobRow[]).map(toPrintJob);
}

export function getJob(db: Db, id: number): PrintJob | null {
  const row = prepared(db, `SELECT ${JOB_COLUMNS} FROM print_jobs WHERE id = ?`).get(id) as JobRow | undefined;
  return row ? toPrintJob(row) : null;
}

/** The job with its stored receipt (JSON). */
export function getJobWithReceipt(db: Db, id: number): { job: PrintJob; receipt: string } | null {
  const row = prepared(db, `SELECT ${JOB_COLUMNS}, receipt FROM print_jobs WHERE id = ?`).get(id) as (JobRow & { receipt: string }) | undefined;
  return row ? { job: toPrintJob(row), receipt: row.receipt } : null;
}

/**
 * Puts a failed (or waiting) job back in line now, with a fresh attempt
 * budget. Printed jobs are not touched (use a reprint), nor is a job leased
 * by a worker (its lease not lapsed: being sent, or its write still waiting
 * for the printer): clearing that lease would let it be sent a second time.
 * Returns whether it changed.
 */
export function retryJob(db: Db, id: number, now: number): boolean {
  const info = prepared(
    db,
    `UPDATE print_jobs SET state = 'pending', attempts = 0, last_error = NULL, next_attempt_at = @now, lease_owner = NULL, lease_until = NULL
     WHERE id = @id AND state IN ('failed', 'pending') AND COALESCE(lease_until, 0) <= @now`,
  ).run({ now, id });
  return info.changes > 0;
}

// ---------------------------------------------------------------- the worker's statements

/** Pending, its retry time come, not leased; never a job held unconfirmed, even lapsed (that one is failed, not sent: failLapsedUnconfirmed). */
const DUE = `state = 'pending' AND COALESCE(next_attempt_at, 0) <= @now AND COALESCE(lease_until, 0) <= @now AND (lease_owner IS NULL OR lease_owner NOT LIKE 'unconfirmed:%')`;

/** When the next pending job is due (its retry time or its lease's end); null when none is pending. */
export function nextDueAt(db: Db): number | null {
  const row = prepared(db, `SELECT MIN(MAX(COALESCE(next_attempt_at, 0), COALESCE(lease_until, 0))) AS due FROM print_jobs WHERE state = 'pending'`).get() as {
    due: number | null;
  };
  return row.due;
}

/** `only`: these jobs alone (a process printing on a printer of its own: its own jobs), else every job. */
export function hasDueJob(db: Db, now: number, only?: ReadonlySet<number>): boolean {
  if (only) return [...only].some((id) => prepared(db, `SELECT 1 FROM print_jobs WHERE id = @id AND ${DUE}`).get({ id, now }) !== undefined);
  return prepared(db, `SELECT 1 FROM print_jobs WHERE ${DUE} LIMIT 1`).get({ now }) !== undefined;
}

export interface LeasedJob {
  id: number;
  bytes: Buffer | null;
  attempts: number;
}

/** The first due job (id order), leased to `owner` until `until`. Call inside a transaction. */
export function leaseFirstDue(db: Db, owner: string, now: number, until: number, only?: ReadonlySet<number>): LeasedJob | null {
  const row = only
    ? [...only]
        .sort((a, b) => a - b)
        .map((id) => prepared(db, `SELECT id, bytes, attempts FROM print_jobs WHERE id = @id AND ${DUE}`).get({ id, now }) as LeasedJob | undefined)
        .find((r) => r !== undefined)
    : (prepared(db, `SELECT id, bytes, attempts FROM print_jobs WHERE ${DUE} ORDER BY id LIMIT 1`).get({ now }) as LeasedJob | undefined);
  if (!row) return null;
  prepared(db, 'UPDATE print_jobs SET lease_owner = ?, lease_until = ? WHERE id = ?').run(owner, until, row.id);
  return row;
}

export function storedReceipt(db: Db, id: number): string {
  return prepared(db, 'SELECT receipt FROM print_jobs WHERE id = ?').pluck().get(id) as string;
}

export function storeBytes(db: Db, id: number, bytes: Buffer): void {
  prepared(db, 'UPDATE print_jobs SET bytes = ? WHERE id = ?').run(bytes, id);
}

/** Notes why due jobs wait (the printer's state) without spending attempts; returns the ids whose note changed. */
export function noteBlocked(db: Db, message: string, now: number): number[] {
  const rows = prepared(db, `UPDATE print_jobs SET last_error = @message WHERE ${DUE} AND last_error IS NOT @message RETURNING id`).all({ message, now }) as {
    id: number;
  }[];
  return rows.map((r) => r.id);
}

/**
 * Printed: the sender's send succeeded, so the job is printed — recorded
 * even when its lease was lost (lapsed, or cleared by an older retry), so
 * the lost lease never leads to a second send. Only a job another worker
 * holds right now (a live lease: it is sending it) is left to that worker.
 * Returns the rows changed.
 */
export function markPrinted(db: Db, id: number, owner: string, now: number): number {
  return prepared(
    db,
    `UPDATE print_jobs SET state = 'printed', printed_at = @now, last_error = NULL, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
     WHERE id = @id AND state <> 'printed' AND (lease_owner IS @owner OR lease_owner IS NULL OR COALESCE(lease_until, 0) <= @now)`,
  ).run({ now, id, owner }).changes;
}

/**
 * A job whose write timed out while the bytes may still reach the printer
 * (a device write that cannot be cancelled) is held under this lease owner
 * until that write ends: its outcome is unknown, so it must never be sent
 * again meanwhile. The marker also survives the lease: a job whose holder
 * stopped renewing it (the process ended) is failed for a person to check,
 * never re-sent blindly (failLapsedUnconfirmed).
 */
export const unconfirmedOwner = (owner: string): string => `unconfirmed:${owner}`;

/** The send timed out with its write still outstanding: hold the job (lease marked unconfirmed) until `until`. Only the lease holder may. */
export function holdUnconfirmed(db: Db, id: number, owner: string, attempts: number, note: string, until: number): number {
  return prepared(
    db,
    `UPDATE print_jobs SET attempts = @attempts, last_error = @note, next_attempt_at = NULL, lease_owner = @held, lease_until = @until
     WHERE id = @id AND lease_owner = @owner AND state = 'pending'`,
  ).run({ id, owner, held: unconfirmedOwner(owner), attempts, note, until }).changes;
}

/** Extends the holds of `owner`'s unconfirmed jobs to `until` (the worker renews them while their writes are outstanding). */
export function renewUnconfirmed(db: Db, owner: string, until: number): number {
  return prepared(db, `UPDATE print_jobs SET lease_until = @until WHERE lease_owner = @held AND state = 'pending'`).run({ held: unconfirmedOwner(owner), until }).changes;
}

/**
 * The held write ended and the device took every byte: printed. Also when
 * the hold had lapsed into `failed`, or a person retried the job and no
 * worker has taken it since: it did print, so it is not sent again.
 */
export function markUnconfirmedPrinted(db: Db, id: number, owner: string, now: number): number {
  return prepared(
    db,
    `UPDATE print_jobs SET state = 'printed', printed_at = @now, last_error = NULL, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
     WHERE id = @id AND state <> 'printed' AND (lease_owner = @held OR lease_owner IS NULL OR COALESCE(lease_until, 0) <= @now)`,
  ).run({ id, held: unconfirmedOwner(owner), now }).changes;
}

/**
 * The held write ended in an error: some of the receipt may have printed,
 * so it is not re-sent automatically; `failed` with `error`, for a person to
 * check the paper and retry.
 */
export function failUnconfirmed(db: Db, id: number, owner: string, error: string): number {
  return prepared(
    db,
    `UPDATE print_jobs SET state = 'failed', last_error = @error, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
     WHERE id = @id AND state = 'pending' AND lease_owner = @held`,
  ).run({ id, held: unconfirmedOwner(owner), error }).changes;
}

/** Whether a job held unconfirmed has lapsed (cheap: read only). */
export function hasLapsedUnconfirmed(db: Db, now: number): boolean {
  return prepared(db, `SELECT 1 FROM print_jobs WHERE state = 'pending' AND lease_owner LIKE 'unconfirmed:%' AND COALESCE(lease_until, 0) <= ? LIMIT 1`).get(now) !== undefined;
}

/**
 * Unconfirmed jobs whose holder stopped renewing them (its process ended
 * with the write still outstanding): whether they printed cannot be known,
 * so they are `failed` with `error` (for a person to check and retry), never
 * sent again blindly. The marker is kept so a write that still ends in this
 * process marks the job printed. Returns their ids.
 */
export function failLapsedUnconfirmed(db: Db, now: number, error: string): number[] {
  const rows = prepared(
    db,
    `UPDATE print_jobs SET state = 'failed', last_error = @error, next_attempt_at = NULL, lease_until = NULL
     WHERE state = 'pending' AND lease_owner LIKE 'unconfirmed:%' AND COALESCE(lease_until, 0) <= @now RETURNING id`,
  ).all({ now, error }) as { id: number }[];
  return rows.map((r) => r.id);
}

/** Gives a leased job back as it was (nothing was sent: the printer was busy). Only the lease holder may. */
export function releaseLease(db: Db, id: number, owner: string): number {
  return prepared(db, 'UPDATE print_jobs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?').run(id, owner).changes;
}

/** A failed send: `failed` for good, or pending again at `retryAt`. Only the lease holder may record it. */
export function markAttemptFailed(db: Db, id: number, owner: string, attempts: number, error: string, retryAt: number | null): number {
  return prepared(
    db,
    `UPDATE print_jobs SET state = ?, attempts = ?, last_error = ?, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL
     WHERE id = ? AND lease_owner = ?`,
  ).run(retryAt === null ? 'failed' : 'pending', attempts, error, retryAt, id, owner).changes;
}

/** A refund's original receipt job (not a copy) with its stored receipt, or null. */
export function originalRefundJob(db: Db, refundId: number): { id: number; receipt: string } | null {
  return (prepared(db, 'SELECT id, receipt FROM print_jobs WHERE refund_id = ? AND copy = 0').get(refundId) as { id: number; receipt: string } | undefined) ?? null;
}

/** Queues a payment's receipt (收款凭证) or slip (撤销/冲正), once per payment (schema version 12). */
export function insertPaymentJob(db: Db, job: { paymentId: number; orderSn: string | null; receipt: string; now: number }): number {
  const info = prepared(
    db,
    `INSERT INTO print_jobs (payment_id, order_sn, kind, copy, state, receipt, bytes, attempts, created_at, next_attempt_at)
     VALUES (?, ?, 'payment', 0, 'pending', ?, NULL, 0, ?, ?) ON CONFLICT DO NOTHING`,
  ).run(job.paymentId, job.orderSn, job.receipt, job.now, job.now);
  return Number(info.lastInsertRowid);
}

/** A payment's receipt job, or null. */
export function paymentJob(db: Db, paymentId: number): { id: number; receipt: string } | null {
  return (prepared(db, 'SELECT id, receipt FROM print_jobs WHERE payment_id = ? AND copy = 0').get(paymentId) as { id: number; receipt: string } | undefined) ?? null;
}
