/**
 * Version 3: a change log of orders, written by triggers. Every insert,
 * update or delete of an order or of one of its revokes appends the order's
 * sn, in the same transaction, whichever process or statement made it. The
 * day's order list uses it to re-read only the orders that changed since it
 * last looked instead of the whole day (5,000 rows on a busy day).
 *
 * `seq` is the rowid: it only grows, because the log is pruned from its old
 * end only (see store/order-changes.ts).
 */
import type { Migration } from './migration';

export const m003: Migration = {
  name: '003-order-change-log',
  up(db) {
    db.exec(`
      CREATE TABLE order_changes (seq INTEGER PRIMARY KEY, sn TEXT NOT NULL) STRICT;
      CREATE TRIGGER order_changes_orders_insert AFTER INSERT ON orders BEGIN INSERT INTO order_changes (sn) VALUES (NEW.sn); END;
      CREATE TRIGGER order_changes_orders_update AFTER UPDATE ON orders BEGIN INSERT INTO order_changes (sn) VALUES (NEW.sn); END;
      CREATE TRIGGER order_changes_orders_delete AFTER DELETE ON orders BEGIN INSERT INTO order_changes (sn) VALUES (OLD.sn); END;
      CREATE TRIGGER order_changes_revokes_insert AFTER INSERT ON revokes BEGIN INSERT INTO order_changes (sn) VALUES (NEW.order_sn); END;
      CREATE TRIGGER order_changes_revokes_update AFTER UPDATE ON revokes BEGIN INSERT INTO order_changes (sn) VALUES (NEW.order_sn); END;
      CREATE TRIGGER order_changes_revokes_delete AFTER DELETE ON revokes BEGIN INSERT INTO order_changes (sn) VALUES (OLD.order_sn); END;
    `);
  },
};
