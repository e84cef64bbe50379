/**
 * Version 8: the fleet export outbox. Triggers on every money-operation table
 * and on the audit log write one event per change in the change's own
 * transaction; the shipper (main/fleet/) sends them to head office and
 * deletes what the database has accepted. docs/fleet.md says what a new
 * operation table adds here.
 *
 * Frozen as literal SQL (what main/fleet/outbox-sql.ts generated when this
 * version shipped): editing the generator changes no installed database and
 * no new one. A change to the triggers is a new migration;
 * test/unit/fleet-outbox.test.ts checks that the generator still produces the
 * triggers of the newest migration that installs them.
 */
import type { Migration } from './migration';

export const M008_OUTBOX_TABLES = `
  CREATE TABLE fleet_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('revoke', 'refund', 'audit', 'heartbeat')),
    at INTEGER NOT NULL,
    business_day TEXT NOT NULL,
    op_id INTEGER,
    op_state TEXT,
    order_sn TEXT,
    amount_cents INTEGER,
    payway TEXT,
    operator_id INTEGER,
    operator_name TEXT,
    approver_id INTEGER,
    approver_name TEXT,
    action TEXT,
    payload TEXT NOT NULL
  ) STRICT;
  CREATE INDEX fleet_outbox_kind ON fleet_outbox (kind, seq);
  -- What the shipper has done (one row): where it stopped, when, the last error (redacted).
  CREATE TABLE fleet_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    url TEXT,
    last_shipped_seq INTEGER NOT NULL DEFAULT 0,
    last_shipped_at INTEGER,
    shipped_total INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    last_error TEXT,
    last_error_at INTEGER
  ) STRICT;
  INSERT INTO fleet_state (id) VALUES (1);
`;

export const M008_REVOKES_TRIGGERS = `
    CREATE TRIGGER fleet_revokes_insert AFTER INSERT ON revokes
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway,
        operator_id, operator_name, approver_id, approver_name, payload)
      VALUES ('revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message));
    END;
    CREATE TRIGGER fleet_revokes_state AFTER UPDATE OF state ON revokes
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway,
        operator_id, operator_name, approver_id, approver_name, payload)
      VALUES ('revoke', NEW.updated_at, NEW.deadline_day, NEW.id, NEW.state, NEW.order_sn, (SELECT total_cents FROM orders WHERE sn = NEW.order_sn), (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'requested_at', NEW.requested_at, 'revoked_at', NEW.revoked_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message));
    END;`;

export const M008_REFUNDS_TRIGGERS = `
    CREATE TRIGGER fleet_refunds_insert AFTER INSERT ON refunds
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway,
        operator_id, operator_name, approver_id, approver_name, payload)
      VALUES ('refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message));
    END;
    CREATE TRIGGER fleet_refunds_state AFTER UPDATE OF state ON refunds
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway,
        operator_id, operator_name, approver_id, approver_name, payload)
      VALUES ('refund', NEW.updated_at, strftime('%Y-%m-%d', NEW.requested_at / 1000, 'unixepoch', '+8 hours'), NEW.id, NEW.state, NEW.order_sn, NEW.amount_cents, (SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn),
        NEW.operator_id, NEW.operator, NEW.approver_id, NEW.approver_name, json_object('client_sn', NEW.client_sn, 'request_no', NEW.request_no, 'requested_at', NEW.requested_at, 'refunded_at', NEW.refunded_at, 'attempts', NEW.attempts, 'error_code', NEW.error_code, 'gateway_code', NEW.gateway_code, 'gateway_message', NEW.gateway_message));
    END;`;

export const M008_AUDIT_TRIGGER = `
  CREATE TRIGGER fleet_audit_log_insert AFTER INSERT ON audit_log
  BEGIN
    INSERT INTO fleet_outbox (kind, at, business_day, operator_name, action, order_sn, payload)
    VALUES ('audit', NEW.at, strftime('%Y-%m-%d', NEW.at / 1000, 'unixepoch', '+8 hours'), NEW.actor, NEW.action, NEW.subject,
      json_object('id', NEW.id, 'actor', NEW.actor, 'action', NEW.action, 'subject', NEW.subject,
        'details', CASE WHEN json_valid(NEW.details) THEN json(NEW.details) ELSE NEW.details END));
  END;`;

export const m008: Migration = {
  name: '008-fleet-outbox',
  up(db) {
    db.exec(M008_OUTBOX_TABLES);
    db.exec(M008_REVOKES_TRIGGERS);
    db.exec(M008_REFUNDS_TRIGGERS);
    db.exec(M008_AUDIT_TRIGGER);
  },
};
