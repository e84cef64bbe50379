/**
 * Version 2: find an order's revokes by index (the day's order list shows
 * each order's revoke; "latest revoke of an order" scanned the table).
 * order_sn never changes, so state changes do not pay for this index.
 */
import type { Migration } from './migration';

export const m002: Migration = {
  name: '002-revoke-order-index',
  up(db) {
    db.exec('CREATE INDEX revokes_order ON revokes (order_sn, id);');
  },
};
