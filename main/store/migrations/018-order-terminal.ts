/**
 * Version 18: the terminal that took each order's payment. `orders.terminal_sn`
 * is written from the gateway's `terminal_sn` wherever an order is recorded
 * from an answer (an import, a payment's success, a refresh), and from this
 * terminal's sn when the host app records its own sale; it is never changed
 * once known (a later answer only fills it in). NULL (every row written before
 * this version, and an answer without one): this terminal's, as before. The
 * day report counts as this counter's payments only its own orders; an order
 * of another till, imported to void or refund it here, is only the base of
 * those revokes and refunds. This counter's terminals are the one it is now
 * and every one activated here before (a re-activation gives a new sn; the
 * audit log keeps each activation): a partial index finds those few entries
 * among all the audit log's (an entry of another action pays only the index's
 * WHERE). Queries must repeat `action = 'terminal.activated'` for SQLite to
 * use it.
 */
import type { Migration } from './migration';

export const m018: Migration = {
  name: '018-order-terminal',
  up(db) {
    db.exec(`
      ALTER TABLE orders ADD COLUMN terminal_sn TEXT;
      CREATE INDEX audit_log_activations ON audit_log (subject) WHERE action = 'terminal.activated';
    `);
  },
};
