/**
 * Cross-process leases in SQLite: the app and the CLI may share one data dir,
 * and some work (a check-in, a queue drain pass) must run in one place at a time.
 */
import { randomUUID } from 'node:crypto';
import { prepared, tx, type Db } from './db';

/** A unique owner id for this process and purpose. */
export function newOwnerId(purpose: string): string {
  return `${purpose}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * Takes the named lease until now+ttlMs; false while anyone holds it, the
 * same owner included: a lease is not re-entrant, so two calls of one process
 * (one owner id) exclude each other like two processes do.
 */
export function acquireLease(db: Db, name: string, owner: string, ttlMs: number, now: number): boolean {
  return tx(db, () => {
    const row = prepared(db, 'SELECT owner, until FROM locks WHERE name = ?').get(name) as { owner: string; until: number } | undefined;
    if (row && row.until > now) return false;
    prepared(db, 'INSERT INTO locks (name, owner, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until').run(
      name,
      owner,
      now + ttlMs,
    );
    return true;
  });
}

export function releaseLease(db: Db, name: string, owner: string): void {
  prepared(db, 'DELETE FROM locks WHERE name = ? AND owner = ?').run(name, owner);
}
