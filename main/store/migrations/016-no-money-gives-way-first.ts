/**
 * Version 16: past the fleet outbox's cap, the events of money operations
 * that ended with no money moved give way before any event of an operation
 * that moved (or may have moved) money.
 *
 * The renderer is untrusted: a hostile window can make many money operations
 * that move nothing (a payment with the gateway unreachable fails NOT_SENT, a
 * bogus barcode fails PAY_FAIL; each writes a `sending` and a `failed` event
 * and audit entries). With head office unreachable, such a flood used to push
 * real money events out of the export, oldest first. Now each outbox row has
 * `no_money` (1: its operation ended with no money moved: a revoke rejected
 * or expired, a refund rejected, a payment failed, or canceled with nothing
 * taken: code CANCELED and no answer ever showing it PAID; not REVERSED nor
 * REVERSED_UNCONFIRMED), written with the event by the kinds' triggers; a
 * BEFORE trigger per table marks the operation's earlier events when it
 * reaches such a state (among the newest 4,000 sequence numbers: the outbox
 * has no index by operation) and another unmarks them all if it ever leaves
 * it (the gateway's truth wins over a final state). Past
 * the cap the order is: the heartbeat, the oldest audit entry, the oldest
 * no-money event (counted in fleet_state.dropped_no_money, a partial index
 * finds it), then the oldest other money event (dropped_money). A revoke
 * becoming revoked, a refund refunded, a payment paid pays the two triggers'
 * WHEN and nothing else. Events already in the outbox are marked once.
 * Literal SQL, frozen: M016_FLEET_TRIGGERS_SQL and M016_BACKFILL_SQL are what
 * main/fleet/outbox-sql.ts generates as noMoneyTriggersSql() and
 * noMoneyBackfillSql() (test/unit/fleet-outbox.test.ts keeps the generator
 * equal to them).
 */
import type { Migration } from './migration';

export const M016_COLUMNS_SQL = `
      -- 1: the event's operation ended with no money moved; it gives way first among money events.
      ALTER TABLE fleet_outbox ADD COLUMN no_money INTEGER NOT NULL DEFAULT 0 CHECK (no_money IN (0, 1));
      -- What gave way of them at the cap (dropped_money counts the other money events).
      ALTER TABLE fleet_state ADD COLUMN dropped_no_money INTEGER NOT NULL DEFAULT 0;
`;

export const M016_FLEET_TRIGGERS_SQL = `
    CREATE INDEX IF NOT EXISTS fleet_outbox_no_money ON fleet_outbox (seq) WHERE no_money = 1;

    DROP TRIGGER IF EXISTS fleet_revokes_insert;
    CREATE TRIGGER fleet_revokes_insert AFTER INSERT ON revokes
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state IN ('rejected', 'expired'), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_revokes_state;
    CREATE TRIGGER fleet_revokes_state AFTER UPDATE OF state ON revokes
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state IN ('rejected', 'expired'), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_revokes_no_money;
    CREATE TRIGGER fleet_revokes_no_money BEFORE UPDATE OF state ON revokes
    WHEN NOT (OLD.state IN ('rejected', 'expired')) AND (NEW.state IN ('rejected', 'expired'))
    BEGIN
      UPDATE fleet_outbox SET no_money = 1
      WHERE seq > (SELECT max(seq) FROM fleet_outbox) - 4000 AND kind = 'revoke' AND op_id = NEW.id;
    END;
    DROP TRIGGER IF EXISTS fleet_revokes_money_again;
    CREATE TRIGGER fleet_revokes_money_again BEFORE UPDATE OF state ON revokes
    WHEN (OLD.state IN ('rejected', 'expired')) AND NOT (NEW.state IN ('rejected', 'expired'))
    BEGIN
      UPDATE fleet_outbox SET no_money = 0 WHERE no_money = 1 AND kind = 'revoke' AND op_id = NEW.id;
    END;

    DROP TRIGGER IF EXISTS fleet_refunds_insert;
    CREATE TRIGGER fleet_refunds_insert AFTER INSERT ON refunds
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state = 'rejected', lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_refunds_state;
    CREATE TRIGGER fleet_refunds_state AFTER UPDATE OF state ON refunds
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state = 'rejected', lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_refunds_no_money;
    CREATE TRIGGER fleet_refunds_no_money BEFORE UPDATE OF state ON refunds
    WHEN NOT (OLD.state = 'rejected') AND (NEW.state = 'rejected')
    BEGIN
      UPDATE fleet_outbox SET no_money = 1
      WHERE seq > (SELECT max(seq) FROM fleet_outbox) - 4000 AND kind = 'refund' AND op_id = NEW.id;
    END;
    DROP TRIGGER IF EXISTS fleet_refunds_money_again;
    CREATE TRIGGER fleet_refunds_money_again BEFORE UPDATE OF state ON refunds
    WHEN (OLD.state = 'rejected') AND NOT (NEW.state = 'rejected')
    BEGIN
      UPDATE fleet_outbox SET no_money = 0 WHERE no_money = 1 AND kind = 'refund' AND op_id = NEW.id;
    END;

    DROP TRIGGER IF EXISTS fleet_payments_insert;
    CREATE TRIGGER fleet_payments_insert AFTER INSERT ON payments
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'payment', NEW.updated_at, NEW.requested_day, NEW.id, NEW.state, nullif(NEW.order_sn, ''), NEW.amount_cents, coalesce(NEW.payway_name, NEW.payway),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'method', NEW.method, 'requested_at', NEW.requested_at, 'paid_at', NEW.paid_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state = 'failed' OR (NEW.state = 'canceled' AND NEW.error_code IS 'CANCELED' AND NEW.seen_paid = 0), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_payments_state;
    CREATE TRIGGER fleet_payments_state AFTER UPDATE OF state ON payments
    WHEN OLD.state IS NOT NEW.state AND NEW.state IN ('paid', 'failed', 'canceled', 'needs_attention')
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, no_money, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'payment', NEW.updated_at, NEW.requested_day, NEW.id, NEW.state, nullif(NEW.order_sn, ''), NEW.amount_cents, coalesce(NEW.payway_name, NEW.payway),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'method', NEW.method, 'requested_at', NEW.requested_at, 'paid_at', NEW.paid_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), NEW.state = 'failed' OR (NEW.state = 'canceled' AND NEW.error_code IS 'CANCELED' AND NEW.seen_paid = 0), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_payments_no_money;
    CREATE TRIGGER fleet_payments_no_money BEFORE UPDATE OF state, error_code, seen_paid ON payments
    WHEN NOT (OLD.state = 'failed' OR (OLD.state = 'canceled' AND OLD.error_code IS 'CANCELED' AND OLD.seen_paid = 0)) AND (NEW.state = 'failed' OR (NEW.state = 'canceled' AND NEW.error_code IS 'CANCELED' AND NEW.seen_paid = 0))
    BEGIN
      UPDATE fleet_outbox SET no_money = 1
      WHERE seq > (SELECT max(seq) FROM fleet_outbox) - 4000 AND kind = 'payment' AND op_id = NEW.id;
    END;
    DROP TRIGGER IF EXISTS fleet_payments_money_again;
    CREATE TRIGGER fleet_payments_money_again BEFORE UPDATE OF state, error_code, seen_paid ON payments
    WHEN (OLD.state = 'failed' OR (OLD.state = 'canceled' AND OLD.error_code IS 'CANCELED' AND OLD.seen_paid = 0)) AND NOT (NEW.state = 'failed' OR (NEW.state = 'canceled' AND NEW.error_code IS 'CANCELED' AND NEW.seen_paid = 0))
    BEGIN
      UPDATE fleet_outbox SET no_money = 0 WHERE no_money = 1 AND kind = 'payment' AND op_id = NEW.id;
    END;

    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER UPDATE OF outbox_rows ON fleet_state
    WHEN NEW.outbox_rows > OLD.outbox_rows AND NEW.outbox_rows > NEW.outbox_cap
    BEGIN
      UPDATE fleet_state SET
        dropped_heartbeats = dropped_heartbeats + (SELECT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')),
        dropped_audit = dropped_audit + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')),
        dropped_no_money = dropped_no_money + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE no_money = 1)),
        dropped_money = dropped_money + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')
          AND NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE no_money = 1))
      WHERE id = 1;
      DELETE FROM fleet_outbox
      WHERE seq = coalesce(
          (SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE kind = 'audit' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE no_money = 1 ORDER BY seq LIMIT 1),
          (SELECT min(seq) FROM fleet_outbox));
    END;`;

export const M016_BACKFILL_SQL = `
      UPDATE fleet_outbox SET no_money = 1
      WHERE kind = 'revoke' AND op_id IN (SELECT id FROM revokes WHERE revokes.state IN ('rejected', 'expired'));
      UPDATE fleet_outbox SET no_money = 1
      WHERE kind = 'refund' AND op_id IN (SELECT id FROM refunds WHERE refunds.state = 'rejected');
      UPDATE fleet_outbox SET no_money = 1
      WHERE kind = 'payment' AND op_id IN (SELECT id FROM payments WHERE payments.state = 'failed' OR (payments.state = 'canceled' AND payments.error_code IS 'CANCELED' AND payments.seen_paid = 0));`;

export const m016: Migration = {
  name: '016-no-money-gives-way-first',
  up(db) {
    db.exec(M016_COLUMNS_SQL);
    db.exec(M016_FLEET_TRIGGERS_SQL);
    db.exec(M016_BACKFILL_SQL);
  },
};
