/**
 * Version 10: PIN checks that hold under attack, and approvals with a trace.
 * - `operators.pin_checks_open`: PIN checks reserved and not yet settled. A
 *   check is counted (in `failed_attempts`) before scrypt runs, in one
 *   IMMEDIATE transaction, so concurrent guesses from any process count as
 *   many; `last_attempt_at` lets stale reservations (a process that died
 *   mid-check) and old failures lapse after the lockout time.
 * - `operators.session_epoch`: bumped when an operator is disabled or their
 *   PIN is reset; a session remembers the epoch it began in and ends, in
 *   every window and process, when it no longer matches.
 * - `approvals`: every approval granted for one money operation: which
 *   operation, order and amount (and the order's cumulative amount it was
 *   judged on), who approved, for whom, from which window. Append-only.
 */
import type { Migration } from './migration';

export const m010: Migration = {
  name: '010-operator-attempts',
  up(db) {
    db.exec(`
      ALTER TABLE operators ADD COLUMN pin_checks_open INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE operators ADD COLUMN last_attempt_at INTEGER;
      ALTER TABLE operators ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

      CREATE TABLE approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        operation TEXT NOT NULL CHECK (operation IN ('revoke', 'refund')),
        order_sn TEXT NOT NULL,
        amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
        cumulative_cents INTEGER NOT NULL CHECK (cumulative_cents >= 0),
        approver_id INTEGER NOT NULL,
        approver_name TEXT NOT NULL,
        operator_id INTEGER,
        operator_name TEXT NOT NULL,
        window_id INTEGER
      ) STRICT;
      CREATE INDEX approvals_order ON approvals (order_sn);
      CREATE INDEX approvals_approver ON approvals (approver_id, at);
      CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals
        BEGIN SELECT RAISE(ABORT, 'approvals is append-only'); END;
      CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals
        BEGIN SELECT RAISE(ABORT, 'approvals is append-only'); END;
    `);
  },
};
