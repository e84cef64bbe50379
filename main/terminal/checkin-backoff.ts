/**
 * The back-off after a failed or unanswered automatic check-in: 1 min,
 * doubling, at most 15 min, for every process of the data dir (a row in the
 * locks table whose owner counts the failures in a row). Meanwhile calls use
 * the current key, which stays valid; a success or an activation ends it.
 */
import { backoff } from '../common/backoff';
import type { Clock } from '../common/time';
import type { Db } from '../store/db';
import { clearLease, readLease, setLease } from '../store/locks';

/** "No automatic check-in before `until`" after a failed one; its owner ends with the failures in a row. */
const CHECKIN_BACKOFF = 'terminal.checkin.backoff';
export const CHECKIN_BACKOFF_BASE_MS = 60_000;
export const CHECKIN_BACKOFF_CAP_MS = 15 * 60_000;

export class CheckinBackoff {
  private retryAfter = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly log?: (line: string) => void,
  ) {}

  /** True while an automatic check-in must not be tried (a recent one failed, here or in another process). */
  active(): boolean {
    const now = this.clock.now();
    if (now < this.retryAfter) return true;
    const shared = readLease(this.db, CHECKIN_BACKOFF);
    return shared !== undefined && shared.until > now;
  }

  /** A check-in failed or got no answer: the next automatic one waits 1 min, doubling to 15 min. */
  failed(code: string): void {
    const now = this.clock.now();
    const shared = readLease(this.db, CHECKIN_BACKOFF);
    // Failures in a row, for the data dir: the row outlives its back-off and only a success (or activation) clears it.
    const failures = (shared ? Number(shared.owner.split(':')[2]) || 0 : 0) + 1;
    const delay = backoff(failures, CHECKIN_BACKOFF_BASE_MS, CHECKIN_BACKOFF_CAP_MS);
    this.retryAfter = now + delay;
    setLease(this.db, CHECKIN_BACKOFF, `checkin-backoff:${process.pid}:${failures}`, this.retryAfter);
    this.log?.(`check-in failed (${code}); no automatic check-in for ${Math.round(delay / 1000)} s, calls use the current key`);
  }

  clear(): void {
    this.retryAfter = 0;
    clearLease(this.db, CHECKIN_BACKOFF);
  }
}
