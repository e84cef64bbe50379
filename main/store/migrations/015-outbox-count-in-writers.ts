/**
 * Version 15: the fleet outbox's count is kept by the triggers that write
 * its rows, not by a trigger on the outbox.
 *
 * Every outbox row is written by an INSERT … SELECT in a trigger of the
 * change it reports. An INSERT … SELECT into a table that has INSERT
 * triggers is staged by SQLite in a temporary table before it is written,
 * and the outbox had two (version 14's count and cap): four events per
 * revoke each paid for that staging, the trigger programs and a page of
 * fleet_state. Now each writer's trigger body (and the heartbeat's
 * statement) adds one to fleet_state.outbox_rows after its row, and the cap
 * fires on the count's increase (AFTER UPDATE OF outbox_rows), with the new
 * row already in the table as before: the same rows kept and dropped, the
 * same counts (test/unit/fleet-outbox.test.ts). The (kind, seq) index, there
 * only for the cap's lookups of the oldest heartbeat and audit entry, becomes
 * two partial indexes on exactly those: a money event updates no index. Measured on a revoke end to
 * end (docs/performance.md). Literal SQL, frozen: what
 * main/fleet/outbox-sql.ts generates as countedTriggersSql().
 */
import type { Migration } from './migration';

export const M015_COUNTED_TRIGGERS_SQL = `
    DROP TRIGGER IF EXISTS fleet_revokes_insert;
    CREATE TRIGGER fleet_revokes_insert AFTER INSERT ON revokes
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_revokes_state;
    CREATE TRIGGER fleet_revokes_state AFTER UPDATE OF state ON revokes
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_refunds_insert;
    CREATE TRIGGER fleet_refunds_insert AFTER INSERT ON refunds
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_refunds_state;
    CREATE TRIGGER fleet_refunds_state AFTER UPDATE OF state ON refunds
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_payments_insert;
    CREATE TRIGGER fleet_payments_insert AFTER INSERT ON payments
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'payment', NEW.updated_at, NEW.requested_day, NEW.id, NEW.state, nullif(NEW.order_sn, ''), NEW.amount_cents, coalesce(NEW.payway_name, NEW.payway),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'method', NEW.method, 'requested_at', NEW.requested_at, 'paid_at', NEW.paid_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_payments_state;
    CREATE TRIGGER fleet_payments_state AFTER UPDATE OF state ON payments
    WHEN OLD.state IS NOT NEW.state AND NEW.state IN ('paid', 'failed', 'canceled', 'needs_attention')
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'payment', NEW.updated_at, NEW.requested_day, NEW.id, NEW.state, nullif(NEW.order_sn, ''), NEW.amount_cents, coalesce(NEW.payway_name, NEW.payway),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'method', NEW.method, 'requested_at', NEW.requested_at, 'paid_at', NEW.paid_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_audit_log_insert;
    CREATE TRIGGER fleet_audit_log_insert AFTER INSERT ON audit_log
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, operator_name, action, order_sn, payload, event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn)
      SELECT 'audit', NEW.at, strftime('%Y-%m-%d', NEW.at / 1000, 'unixepoch', '+8 hours'), NEW.actor, NEW.action, NEW.subject,
        json_object('id', NEW.id, 'actor', NEW.actor, 'action', NEW.action, 'subject', NEW.subject,
          'details', CASE WHEN json_valid(NEW.details) THEN json(NEW.details) ELSE NEW.details END), lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn
      FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1;
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;

    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER UPDATE OF outbox_rows ON fleet_state
    WHEN NEW.outbox_rows > OLD.outbox_rows AND NEW.outbox_rows > NEW.outbox_cap
    BEGIN
      UPDATE fleet_state SET
        dropped_heartbeats = dropped_heartbeats + (SELECT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')),
        dropped_audit = dropped_audit + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')),
        dropped_money = dropped_money + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit'))
      WHERE id = 1;
      DELETE FROM fleet_outbox
      WHERE seq = coalesce(
          (SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE kind = 'audit' ORDER BY seq LIMIT 1),
          (SELECT min(seq) FROM fleet_outbox));
    END;

    DROP INDEX IF EXISTS fleet_outbox_kind;
    CREATE INDEX IF NOT EXISTS fleet_outbox_heartbeats ON fleet_outbox (seq) WHERE kind = 'heartbeat';
    CREATE INDEX IF NOT EXISTS fleet_outbox_audit ON fleet_outbox (seq) WHERE kind = 'audit';`;

export const m015: Migration = {
  name: '015-outbox-count-in-writers',
  up(db) {
    db.exec(M015_COUNTED_TRIGGERS_SQL);
  },
};
