/**
 * The same-day deadline: a queued revoke (certainly not applied) expires once
 * its business day is over; the cashier is warned once, a configurable lead
 * before the end. A pending revoke is never expired here: only a query ends it,
 * so a pending revoke is no deadline once its day is over.
 */
import { businessDay, businessDayEnd } from '../../common/time';
import { audit } from '../../store/audit';
import { tx } from '../../store/db';
import type { RevokeRow, RevokesRepo } from '../../store/revokes';
import type { OperationKind } from '../kind';
import { toFailed, type Stamp } from '../transitions';

export interface SweepResult {
  /** Rows moved to `expired`, as stored. */
  expired: RevokeRow[];
  /** Rows warned now, as stored, with the end of their day. */
  warned: Array<{ row: RevokeRow; deadlineAt: number }>;
}

/**
 * The business day of each repository's last sweep (per process, as its worker). Deadlines of earlier days
 * are dealt with: their queued rows were expired (one leased elsewhere is woken by its lease's end, the
 * due time), their warning time is gone, and a pending row of theirs waits only for its query.
 */
const sweptDay = new WeakMap<RevokesRepo, string>();

/** Expires queued revokes whose day is over and warns the ones whose day ends within `leadMs`. The caller emits. */
export function sweepDeadlines(kind: OperationKind<RevokeRow> & { repo: RevokesRepo }, leadMs: number, stamp: Stamp): SweepResult {
  const { now } = stamp;
  const repo = kind.repo;
  const today = businessDay(now);
  sweptDay.set(repo, today);
  const result: SweepResult = { expired: [], warned: [] };
  for (const row of repo.expiredQueued(today, stamp.owner, now)) {
    const stored = toFailed(kind, row, 'expired', 'EXPIRED', undefined, null, stamp);
    if (stored) result.expired.push(stored);
  }
  // Only rows whose day ends within the lead time (their day is before the day of now + lead):
  // the sweep runs on every pass of the worker and must not read the whole queue.
  for (const row of repo.unwarned(today, businessDay(now + leadMs))) {
    const end = businessDayEnd(row.deadline_day);
    if (end - now > leadMs) continue;
    const warned = tx(repo.db, () => {
      const changed = repo.markWarned(row.id, now);
      if (changed) audit(repo.db, now, 'system', 'revoke.warning', row.order_sn, { revokeId: row.id, deadlineAt: end });
      return changed;
    });
    if (warned) result.warned.push({ row: repo.get(row.id)!, deadlineAt: end });
  }
  return result;
}

/**
 * When the sweep must run next: the warning time of the earliest day with a row not warned yet, or the end
 * of the earliest day with a queued row, whichever comes first; null: no deadline. Never a day the sweep has
 * passed (a pending revoke of yesterday is no deadline: a wake-up time in the past would be a busy loop).
 */
export function nextDeadline(repo: RevokesRepo, leadMs: number): number | null {
  const { expireDay, warnDay } = repo.deadlineDays(sweptDay.get(repo) ?? '');
  const expireAt = expireDay === null ? null : businessDayEnd(expireDay);
  const warnAt = warnDay === null ? null : businessDayEnd(warnDay) - leadMs;
  if (expireAt === null) return warnAt;
  return warnAt === null ? expireAt : Math.min(expireAt, warnAt);
}
