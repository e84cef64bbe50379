/**
 * Reading the order change log (migration 003): which orders changed since a
 * reader last looked. The log is appended by triggers in the writing
 * transaction, so no writer can forget it, and pruned from its old end only.
 */
import { prepared, type Db } from './db';

/** Rows kept when the log is pruned: far more than one busy day writes. */
export const CHANGE_LOG_KEEP = 50_000;

/** The newest entry's seq (0 for an empty log). */
export function lastChangeSeq(db: Db): number {
  return prepared(db, 'SELECT coalesce(max(seq), 0) FROM order_changes').pluck().get() as number;
}

/** Entries of the log after `seq`, oldest first, at most `limit` (a gap means entries were pruned). */
export function orderChangesAfter(db: Db, seq: number, limit: number): Array<[seq: number, sn: string]> {
  return prepared(db, 'SELECT seq, sn FROM order_changes WHERE seq > ? ORDER BY seq LIMIT ?').raw(true).all(seq, limit) as Array<[number, string]>;
}

/**
 * The distinct sns changed after `seq`, and the newest seq read; null when
 * more than `limit` entries are waiting or entries after `seq` were pruned
 * (the reader should read everything again).
 */
export function ordersChangedSince(db: Db, seq: number, limit: number): { sns: string[]; lastSeq: number } | null {
  const rows = orderChangesAfter(db, seq, limit + 1);
  if (rows.length > limit) return null;
  if (rows.length === 0) return { sns: [], lastSeq: seq };
  // seq only grows by one per entry, so a gap right after `seq` means entries were pruned: unknown changes.
  if (rows[0]![0] !== seq + 1) return null;
  return { sns: [...new Set(rows.map((r) => r[1]))], lastSeq: rows[rows.length - 1]![0] };
}

/** Drops all but the newest `keep` entries; returns how many went. Readers behind them read everything again. */
export function pruneChangeLog(db: Db, keep = CHANGE_LOG_KEEP): number {
  return prepared(db, 'DELETE FROM order_changes WHERE seq <= (SELECT max(seq) FROM order_changes) - ?').run(keep).changes;
}
