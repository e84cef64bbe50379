/**
 * Version 19: every money event carries the day the counter's 日结 counts its
 * operation in, so head office books it on the same day.
 *
 * The event's `business_day` stays what it was (the order's day for a revoke,
 * the day it was asked for for a refund or a payment): it names the event in
 * head office (its key and its partition) and never changes. What the 日结
 * counts is something else: a revoke on the day it was recorded as revoked
 * (`revoked_at`), a refund on its `refunded_day`, a paid payment on its
 * stored order's business day (else the day it was recorded paid). So a
 * revoke sent at 23:59:55 and settled after midnight, a refund asked at
 * 23:59:58, a QR code shown at 23:59 and paid at 00:00:30 all count on the
 * next day. `fleet_outbox.counting_day` holds that day on the event in which
 * the operation reaches the state it counts in (revoked, refunded, paid),
 * NULL on every other event. A payment's order is stored after its paid
 * event, in the same transaction: two triggers on `orders` (its insert, and
 * a change of its business day) give the payment's paid event still in the
 * outbox the order's day. Events already in the outbox are filled once.
 * Literal SQL, frozen: M019_FLEET_TRIGGERS_SQL and M019_BACKFILL_SQL are what
 * main/fleet/outbox-sql.ts generates as countingDayTriggersSql() and
 * countingDayBackfillSql() (test/integration/fleet-counting-day.test.ts keeps
 * the generator equal to them).
 */
import type { Migration } from './migration';

export const M019_COLUMNS_SQL = `
      -- The day the 日结 counts the event's operation in, on the event in which it reaches its counting state; else NULL.
      ALTER TABLE fleet_outbox ADD COLUMN counting_day TEXT;
`;

export const M019_FLEET_TRIGGERS_SQL = `
    DROP TRIGGER IF EXISTS fleet_revokes_insert;
    CREATE TRIGGER fleet_revokes_insert AFTER INSERT ON revokes
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, counting_day, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state IN ('rejected', 'expired'), CASE WHEN NEW.state = 'revoked' THEN strftime('%Y-%m-%d', NEW.revoked_at / 1000, 'unixepoch', '+8 hours') END, lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_revokes_state;
    CREATE TRIGGER fleet_revokes_state AFTER UPDATE OF state ON revokes
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, counting_day, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state IN ('rejected', 'expired'), CASE WHEN NEW.state = 'revoked' THEN strftime('%Y-%m-%d', NEW.revoked_at / 1000, 'unixepoch', '+8 hours') END, lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_refunds_insert;
    CREATE TRIGGER fleet_refunds_insert AFTER INSERT ON refunds
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, counting_day, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state = 'rejected', CASE WHEN NEW.state = 'refunded' THEN NEW.refunded_day END, lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_refunds_state;
    CREATE TRIGGER fleet_refunds_state AFTER UPDATE OF state ON refunds
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, counting_day, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state = 'rejected', CASE WHEN NEW.state = 'refunded' THEN NEW.refunded_day END, lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_payments_insert;
    CREATE TRIGGER fleet_payments_insert AFTER INSERT ON payments
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, counting_day, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'payment', NEW.updated_at, NEW.requested_day, NEW.id, NEW.state, nullif(NEW.order_sn, ''), NEW.amount_cents, coalesce(NEW.payway_name, NEW.payway),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'method', NEW.method, 'requested_at', NEW.requested_at, 'paid_at', NEW.paid_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state = 'failed' OR (NEW.state = 'canceled' AND NEW.error_code IS 'CANCELED' AND NEW.seen_paid = 0), CASE WHEN NEW.state = 'paid' THEN coalesce((SELECT business_day FROM orders WHERE client_sn = NEW.client_sn), strftime('%Y-%m-%d', NEW.paid_at / 1000, 'unixepoch', '+8 hours'), NEW.requested_day) END, lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_payments_state;
    CREATE TRIGGER fleet_payments_state AFTER UPDATE OF state ON payments
    WHEN OLD.state IS NOT NEW.state AND NEW.state IN ('paid', 'failed', 'canceled', 'needs_attention')
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, counting_day, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'payment', NEW.updated_at, NEW.requested_day, NEW.id, NEW.state, nullif(NEW.order_sn, ''), NEW.amount_cents, coalesce(NEW.payway_name, NEW.payway),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'method', NEW.method, 'requested_at', NEW.requested_at, 'paid_at', NEW.paid_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state = 'failed' OR (NEW.state = 'canceled' AND NEW.error_code IS 'CANCELED' AND NEW.seen_paid = 0), CASE WHEN NEW.state = 'paid' THEN coalesce((SELECT business_day FROM orders WHERE client_sn = NEW.client_sn), strftime('%Y-%m-%d', NEW.paid_at / 1000, 'unixepoch', '+8 hours'), NEW.requested_day) END, lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_orders_insert_day;
    CREATE TRIGGER fleet_orders_insert_day AFTER INSERT ON orders
    WHEN EXISTS (SELECT 1 FROM payments WHERE client_sn = NEW.client_sn AND state = 'paid')
    BEGIN
      UPDATE fleet_outbox SET counting_day = NEW.business_day
      WHERE seq > (SELECT max(seq) FROM fleet_outbox) - 4000 AND kind = 'payment' AND op_state = 'paid'
        AND op_id = (SELECT id FROM payments WHERE client_sn = NEW.client_sn);
    END;

    DROP TRIGGER IF EXISTS fleet_orders_day;
    CREATE TRIGGER fleet_orders_day AFTER UPDATE OF business_day ON orders
    WHEN OLD.business_day IS NOT NEW.business_day AND EXISTS (SELECT 1 FROM payments WHERE client_sn = NEW.client_sn AND state = 'paid')
    BEGIN
      UPDATE fleet_outbox SET counting_day = NEW.business_day
      WHERE seq > (SELECT max(seq) FROM fleet_outbox) - 4000 AND kind = 'payment' AND op_state = 'paid'
        AND op_id = (SELECT id FROM payments WHERE client_sn = NEW.client_sn);
    END;`;

export const M019_BACKFILL_SQL = `
      UPDATE fleet_outbox SET counting_day = (SELECT CASE WHEN revokes.state = 'revoked' THEN strftime('%Y-%m-%d', revokes.revoked_at / 1000, 'unixepoch', '+8 hours') END FROM revokes WHERE revokes.id = fleet_outbox.op_id)
      WHERE kind = 'revoke' AND op_state = 'revoked';
      UPDATE fleet_outbox SET counting_day = (SELECT CASE WHEN refunds.state = 'refunded' THEN refunds.refunded_day END FROM refunds WHERE refunds.id = fleet_outbox.op_id)
      WHERE kind = 'refund' AND op_state = 'refunded';
      UPDATE fleet_outbox SET counting_day = (SELECT CASE WHEN payments.state = 'paid' THEN coalesce((SELECT business_day FROM orders WHERE client_sn = payments.client_sn), strftime('%Y-%m-%d', payments.paid_at / 1000, 'unixepoch', '+8 hours'), payments.requested_day) END FROM payments WHERE payments.id = fleet_outbox.op_id)
      WHERE kind = 'payment' AND op_state = 'paid';`;

export const m019: Migration = {
  name: '019-counting-day',
  up(db) {
    db.exec(M019_COLUMNS_SQL);
    db.exec(M019_FLEET_TRIGGERS_SQL);
    db.exec(M019_BACKFILL_SQL);
  },
};
