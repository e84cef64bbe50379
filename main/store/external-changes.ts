/**
 * What another connection (the CLI, a second app) committed, read cheaply on
 * this one: `PRAGMA data_version` changes only when another connection
 * committed since this one last asked, so an unchanged number is the whole
 * cost of a look; the rest reads rows by their primary key or state index
 * and the order change log (order-changes.ts) by its seq.
 */
import { allIn, prepared, type Db } from './db';
import type { OperationRow, OperationTable } from './rows';

/** This connection's view of the file's version: it differs from the last answer only after another connection's commit. */
export function dataVersion(db: Db): number {
  return prepared(db, 'PRAGMA data_version').pluck().get() as number;
}

/** The newest row's id of a money-operation table (0 when empty). */
export function newestId(db: Db, table: OperationTable): number {
  return prepared(db, `SELECT coalesce(max(id), 0) FROM ${table}`).pluck().get() as number;
}

/** Rows of `table` made after row `id`, oldest first, at most `limit`. */
export function rowsAfter<T extends OperationRow>(db: Db, table: OperationTable, id: number, limit: number): T[] {
  return prepared(db, `SELECT * FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`).all(id, limit) as T[];
}

/** Rows of `table` by id (those that still exist). */
export function rowsByIds<T extends OperationRow>(db: Db, table: OperationTable, ids: readonly number[]): T[] {
  return allIn<T>(db, (p) => `SELECT * FROM ${table} WHERE id IN (${p})`, ids);
}
