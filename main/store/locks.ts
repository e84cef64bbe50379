/**
 * Cross-process leases in SQLite: the app and the CLI may share one data dir,
 * and some work (a check-in, a revoke, a print job) must run in one place at a
 * time. One owner id format and one rule for when a lease binds: named leases
 * live in the `locks` table; rows (revokes, print jobs) carry the same
 * `lease_owner`/`lease_until` pair and ask `heldByOther`.
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

/**
 * A named row read as is (expired or not): `until` is when it stops binding.
 * For marks that outlive their holder, e.g. "do not try again before": no
 * lease is taken.
 */
export function readLease(db: Db, name: string): { owner: string; until: number } | undefined {
  return prepared(db, 'SELECT owner, until FROM locks WHERE name = ?').get(name) as { owner: string; until: number } | undefined;
}

/** Sets a named row whoever holds it (a mark such as a back-off, not a lease to share work). */
export function setLease(db: Db, name: string, owner: string, until: number): void {
  prepared(db, 'INSERT INTO locks (name, owner, until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until').run(
    name,
    owner,
    until,
  );
}

/** Removes a named row whoever set it. */
export function clearLease(db: Db, name: string): void {
  prepared(db, 'DELETE FROM locks WHERE name = ?').run(name);
}

/** A row's lease: who holds it and until when (both null when free). */
export interface RowLease {
  lease_owner: string | null;
  lease_until: number | null;
}

/** A row's lease given back: anyone may take it. */
export const RELEASED = { lease_owner: null, lease_until: null } as const;

/** True when another process that is still alive holds the lease at `now`. */
export function heldByOther(lease: RowLease, me: string, now: number): boolean {
  return lease.lease_owner !== null && lease.lease_owner !== me && (lease.lease_until ?? 0) > now && !ownerDead(lease.lease_owner);
}

/** True when an owner id names a process on this machine that no longer runs. */
export function ownerDead(owner: string): boolean {
  const pid = Number(owner.split(':')[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
