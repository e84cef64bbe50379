/**
 * The statements every money-operation table (revokes, refunds, …) shares:
 * insert a row, and patch one row when a guard holds. Column names come
 * from the repositories' own row types, never from input.
 */
import { prepared, type Db } from './db';
import { RELEASED } from './locks';

/** A money-operation table's name (a kind's constant, never input): revokes, refunds, payments. */
export type OperationTable = string;

/** The columns every money-operation row has: the order, who asked and approved, progress, the last error, the lease. */
export interface OperationRow {
  id: number;
  order_sn: string;
  client_sn: string;
  /** The kind's state machine; which states are open is the kind's (OperationRepo). */
  state: string;
  operator_id: number | null;
  approver_id: number | null;
  approver_name: string | null;
  requested_at: number;
  updated_at: number;
  attempts: number;
  queries: number;
  next_attempt_at: number | null;
  pending_since: number | null;
  error_code: string | null;
  error_zh: string | null;
  error_en: string | null;
  gateway_code: string | null;
  gateway_message: string | null;
  last_result_code: string | null;
  lease_owner: string | null;
  lease_until: number | null;
}

/** The row's lease is free, `@guard_owner`'s, or lapsed at `@guard_now`. */
export const LEASE_TAKEABLE = '(lease_owner IS NULL OR lease_owner = @guard_owner OR COALESCE(lease_until, 0) <= @guard_now)';

/**
 * The SQL of a statement over a row's columns, built once per table, column
 * list and variant (the same few shapes run thousands of times: building the
 * text again each time was garbage on the hot path).
 */
const texts = new Map<string, string>();
function sqlFor(table: OperationTable, row: object, variant: string, build: (cols: string[]) => string): string {
  const cols = Object.keys(row);
  const key = `${table}\n${variant}\n${cols.join(',')}`;
  let sql = texts.get(key);
  if (sql === undefined) texts.set(key, (sql = build(cols)));
  return sql;
}

/** Inserts a row and returns it as stored. */
export function insertRow<T>(db: Db, table: OperationTable, row: object): T {
  const sql = sqlFor(table, row, 'insert', (cols) => `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')}) RETURNING *`);
  return prepared(db, sql).get(row) as T;
}

/** The UPDATE of one row by id with the columns of `patch` when `guard` (extra WHERE terms) holds; null for an empty patch. */
function patchSql(table: OperationTable, patch: object, guard: string): string | null {
  const sql = sqlFor(table, patch, guard, (cols) => (cols.length ? `UPDATE ${table} SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id ${guard}` : ''));
  return sql === '' ? null : sql;
}

/** UPDATE of row `id` with `patch`, when `guard` (extra WHERE terms) holds; returns the rows changed. */
export function patchRow(db: Db, table: OperationTable, id: number, patch: object, guard = '', params: Record<string, unknown> = {}): number {
  const sql = patchSql(table, patch, guard);
  return sql === null ? 0 : prepared(db, sql).run({ ...patch, ...params, id }).changes;
}

const withReturning = new Map<string, string>();
const returning = (sql: string): string => {
  let r = withReturning.get(sql);
  if (r === undefined) withReturning.set(sql, (r = `${sql} RETURNING *`));
  return r;
};

/** The same UPDATE, returning the row as stored after it (one statement: no read back), or undefined when the guard refused. */
export function patchRowReturning<T>(db: Db, table: OperationTable, id: number, patch: object, guard: string, params: Record<string, unknown>): T | undefined {
  const sql = patchSql(table, patch, guard);
  return sql === null ? undefined : (prepared(db, returning(sql)).get({ ...patch, ...params, id }) as T | undefined);
}

/**
 * The columns a money operation's success sets, whatever its kind: its counts
 * as they stand, nothing more due, no error, the lease given back.
 */
export function succeededPatch(row: { attempts: number; queries: number }, resultCode: string | null, now: number) {
  return {
    attempts: row.attempts,
    queries: row.queries,
    updated_at: now,
    next_attempt_at: null,
    last_result_code: resultCode,
    error_code: null,
    error_zh: null,
    error_en: null,
    ...RELEASED,
  };
}
