/** The operators table and every statement on it (PIN hashing and the lockout rule live in main/operators/). */
import { prepared, type Db } from './db';

export const ROLES = ['cashier', 'supervisor', 'store_it'] as const;
export type Role = (typeof ROLES)[number];

export interface OperatorRow {
  id: number;
  name: string;
  role: Role;
  pin_hash: string;
  active: 0 | 1;
  language: 'zh-CN' | 'en' | null;
  failed_attempts: number;
  locked_until: number | null;
  /** PIN checks counted in failed_attempts and not yet settled (migration 010). */
  pin_checks_open: number;
  last_attempt_at: number | null;
  /** Bumped when the operator is disabled or the PIN reset: older sessions end. */
  session_epoch: number;
  /** Lockouts in a row, each within `decayMs` of the last (migration 017): the next lasts twice as long. */
  lockouts: number;
  last_locked_at: number | null;
  created_at: number;
  updated_at: number;
}

/** How long a lockout lasts: `baseMs` doubled per lockout in a row (each within `decayMs` of the last), at most `capMs`. */
export interface LockoutPolicy {
  baseMs: number;
  capMs: number;
  decayMs: number;
}

export class OperatorsRepo {
  constructor(readonly db: Db) {}

  get(id: number): OperatorRow | undefined {
    return prepared(this.db, 'SELECT * FROM operators WHERE id = ?').get(id) as OperatorRow | undefined;
  }

  activeByName(name: string): OperatorRow | undefined {
    return prepared(this.db, 'SELECT * FROM operators WHERE name = ? AND active = 1').get(name) as OperatorRow | undefined;
  }

  /** Every operator, active ones first, then by name. */
  list(): OperatorRow[] {
    return prepared(this.db, 'SELECT * FROM operators ORDER BY active DESC, name, id').all() as OperatorRow[];
  }

  count(): number {
    return prepared(this.db, 'SELECT count(*) FROM operators').pluck().get() as number;
  }

  insert(row: { name: string; role: Role; pin_hash: string; now: number }): OperatorRow {
    return prepared(
      this.db,
      'INSERT INTO operators (name, role, pin_hash, active, created_at, updated_at) VALUES (@name, @role, @pin_hash, 1, @now, @now) RETURNING *',
    ).get(row) as OperatorRow;
  }

  setActive(id: number, active: boolean, now: number): void {
    prepared(this.db, 'UPDATE operators SET active = ?, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?').run(active ? 1 : 0, now, id);
  }

  /** A new PIN also lifts a lockout (store IT has just spoken to the person) and ends the operator's sessions. */
  setPinHash(id: number, pinHash: string, now: number): void {
    prepared(
      this.db,
      'UPDATE operators SET pin_hash = ?, failed_attempts = 0, pin_checks_open = 0, last_attempt_at = NULL, locked_until = NULL, lockouts = 0, last_locked_at = NULL, session_epoch = session_epoch + 1, updated_at = ? WHERE id = ?',
    ).run(pinHash, now, id);
  }

  /** Lifts a lockout and forgets every counted attempt (store IT, trusted CLI). */
  unlock(id: number, now: number): void {
    prepared(
      this.db,
      'UPDATE operators SET failed_attempts = 0, pin_checks_open = 0, last_attempt_at = NULL, locked_until = NULL, lockouts = 0, last_locked_at = NULL, updated_at = ? WHERE id = ?',
    ).run(now, id);
  }

  /**
   * Counts a PIN check before it runs, in one statement: refused (undefined)
   * when the operator is disabled, locked, or has `limit` checks counted
   * already (failures and checks still running, in any process). Counts
   * older than `staleBefore` lapse: a check takes well under a second, so an
   * open one that old belongs to a process that died.
   */
  reservePinCheck(id: number, limit: number, staleBefore: number, now: number): OperatorRow | undefined {
    return prepared(
      this.db,
      `UPDATE operators SET
         failed_attempts = (CASE WHEN coalesce(last_attempt_at, 0) <= @staleBefore THEN 0 ELSE failed_attempts END) + 1,
         pin_checks_open = (CASE WHEN coalesce(last_attempt_at, 0) <= @staleBefore THEN 0 ELSE pin_checks_open END) + 1,
         last_attempt_at = @now
       WHERE id = @id AND active = 1 AND (locked_until IS NULL OR locked_until <= @now)
         AND (CASE WHEN coalesce(last_attempt_at, 0) <= @staleBefore THEN 0 ELSE failed_attempts END) < @limit
       RETURNING *`,
    ).get({ id, limit, staleBefore, now }) as OperatorRow | undefined;
  }

  /**
   * Settles a counted check that stays counted (a wrong PIN, an approval): at `limit` counted the operator
   * locks. The lockout lasts `baseMs` doubled for each lockout in a row before it (each within `decayMs` of
   * the last), at most `capMs`.
   */
  settleSpent(id: number, limit: number, lockout: LockoutPolicy, now: number): OperatorRow {
    const locks = 'failed_attempts >= @limit AND (locked_until IS NULL OR locked_until <= @now)';
    const before = 'CASE WHEN coalesce(last_locked_at, 0) > @now - @decayMs THEN lockouts ELSE 0 END';
    return prepared(
      this.db,
      `UPDATE operators SET
         pin_checks_open = max(pin_checks_open - 1, 0),
         locked_until = CASE WHEN ${locks} THEN @now + min(@baseMs << min(${before}, 20), @capMs) ELSE locked_until END,
         lockouts = CASE WHEN ${locks} THEN ${before} + 1 ELSE lockouts END,
         last_locked_at = CASE WHEN ${locks} THEN @now ELSE last_locked_at END,
         failed_attempts = CASE WHEN ${locks} THEN 0 ELSE failed_attempts END,
         updated_at = @now
       WHERE id = @id RETURNING *`,
    ).get({ id, limit, now, ...lockout }) as OperatorRow;
  }

  /** Settles a right PIN at sign-in: the count starts again, unless other checks are still running (they stay counted). */
  settleSignedIn(id: number, now: number): void {
    prepared(
      this.db,
      `UPDATE operators SET
         failed_attempts = CASE WHEN pin_checks_open <= 1 THEN 0 ELSE failed_attempts END,
         pin_checks_open = max(pin_checks_open - 1, 0),
         updated_at = @now
       WHERE id = @id`,
    ).run({ id, now });
  }

  /** The operator's session epoch, when active (a session of another epoch has ended). */
  sessionEpoch(id: number): number | undefined {
    return prepared(this.db, 'SELECT session_epoch FROM operators WHERE id = ? AND active = 1').pluck().get(id) as number | undefined;
  }

  setLanguage(id: number, language: 'zh-CN' | 'en' | null, now: number): void {
    prepared(this.db, 'UPDATE operators SET language = ?, updated_at = ? WHERE id = ?').run(language, now, id);
  }
}
