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
 * budget. Printed jobs are not touched (use a reprint). Returns whether it changed.
 */
export function retryJob(db: Db, id: number, now: number): boolean {
  const info = prepared(
    db,
    `UPDATE print_jobs SET state = 'pending', attempts = 0, last_error = NULL, next_attempt_at = ?, lease_owner = NULL, lease_until = NULL
     WHERE id = ? AND state IN ('failed', 'pending')`,
  ).run(now, id);
  return info.changes > 0;
}

// ---------------------------------------------------------------- the worker's statements

const DUE = `state = 'pending' AND COALESCE(next_attempt_at, 0) <= @now AND COALESCE(lease_until, 0) <= @now`;

/** When the next pending job is due (its retry time or its lease's end); null when none is pending. */
export function nextDueAt(db: Db): number | null {
  const row = prepared(db, `SELECT MIN(MAX(COALESCE(next_attempt_at, 0), COALESCE(lease_until, 0))) AS due FROM print_jobs WHERE state = 'pending'`).get() as {
    due: number | null;
  };
  return row.due;
}

export function hasDueJob(db: Db, now: number): boolean {
  return prepared(db, `SELECT 1 FROM print_jobs WHERE ${DUE} LIMIT 1`).get({ now }) !== undefined;
}

export interface LeasedJob {
  id: number;
  bytes: Buffer | null;
  attempts: number;
}

/** The first due job (id order), leased to `owner` until `until`. Call inside a transaction. */
export function leaseFirstDue(db: Db, owner: string, now: number, until: number): LeasedJob | null {
  const row = prepared(db, `SELECT id, bytes, attempts FROM print_jobs WHERE ${DUE} ORDER BY id LIMIT 1`).get({ now }) as LeasedJob | undefined;
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

/** Printed: only the lease holder may record it. Returns the rows changed. */
export function markPrinted(db: Db, id: number, owner: string, now: number): number {
  return prepared(
    db,
    `UPDATE print_jobs SET state = 'printed', printed_at = ?, last_error = NULL, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
     WHERE id = ? AND lease_owner = ?`,
  ).run(now, id, owner).changes;
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
