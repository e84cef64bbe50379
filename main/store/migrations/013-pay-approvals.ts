/**
 * Version 13: payments join the approvals record. A payment above store IT's
 * threshold (`payApproval`, off by default) needs a supervisor's approval,
 * recorded like a revoke's or a refund's: operation `pay`, with the attempt's
 * client_sn in `order_sn` (a payment has no order yet when it is approved).
 * SQLite cannot change a CHECK in place: the table is rebuilt with its rows,
 * indexes and append-only triggers. Frozen.
 */
import type { Migration } from './migration';

export const m013: Migration = {
  name: '013-pay-approvals',
  up(db) {
    db.exec(`
      DROP TRIGGER approvals_no_update;
      DROP TRIGGER approvals_no_delete;
      ALTER TABLE approvals RENAME TO approvals_012;
      CREATE TABLE approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        operation TEXT NOT NULL CHECK (operation IN ('revoke', 'refund', 'pay')),
        order_sn TEXT NOT NULL,
        amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
        cumulative_cents INTEGER NOT NULL CHECK (cumulative_cents >= 0),
        approver_id INTEGER NOT NULL,
        approver_name TEXT NOT NULL,
        operator_id INTEGER,
        operator_name TEXT NOT NULL,
        window_id INTEGER
      ) STRICT;
      INSERT INTO approvals (id, at, operation, order_sn, amount_cents, cumulative_cents, approver_id, approver_name, operator_id, operator_name, window_id)
        SELECT id, at, operation, order_sn, amount_cents, cumulative_cents, approver_id, approver_name, operator_id, operator_name, window_id FROM approvals_012;
      DROP TABLE approvals_012;
      CREATE INDEX approvals_order ON approvals (order_sn);
      CREATE INDEX approvals_approver ON approvals (approver_id, at);
      CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals
        BEGIN SELECT RAISE(ABORT, 'approvals is append-only'); END;
      CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals
        BEGIN SELECT RAISE(ABORT, 'approvals is append-only'); END;
    `);
  },
};
