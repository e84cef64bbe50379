/**
 * The same-day deadline: a queued revoke (certainly not applied) expires once
 * its business day is over; the cashier is warned once, a configurable lead
 * before the end. A pending revoke is never expired here: only a query ends it.
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

/** Expires queued revokes whose day is over and warns the ones whose day ends within `leadMs`. The caller emits. */
export function sweepDeadlines(kind: OperationKind<RevokeRow> & { repo: RevokesRepo }, leadMs: number, stamp: Stamp): SweepResult {
  const { now } = stamp;
  const repo = kind.repo;
  const today = businessDay(now);
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

/** When the earliest open day needs the sweep: its warning if a row of it is not warned yet, else its end. */
export function nextDeadline(repo: RevokesRepo, leadMs: number): number | null {
  // Only the earliest day can matter (the warning lead is under a day).
  const earliest = repo.earliestDeadline();
  if (!earliest) return null;
  return businessDayEnd(earliest.day) - (earliest.unwarned ? leadMs : 0);
}
