/**
 * The SQL of the fleet export outbox, generated from one description per
 * money-operation table, so that carrying a new kind of operation (refunds)
 * or new columns (who approved) is a one-line change to a spec, not new
 * trigger text. The triggers write the outbox row inside the transaction of
 * the change they report: SQLite fires them in the same statement, so the
 * change and its event commit or roll back together, and the outbox's
 * AUTOINCREMENT key is the terminal's sequence number (increasing in commit
 * order, never reused, even after shipped rows are deleted).
 */

/** The columns of fleet_outbox an operation's trigger fills, each an SQL expression over NEW. */
export interface OperationColumns {
  at: string;
  businessDay: string;
  orderSn: string;
  amountCents: string;
  payway: string;
  operatorId: string;
  operatorName: string;
  approverId: string;
  approverName: string;
}

export interface OperationSource {
  /** The SQLite table (e.g. revokes, refunds). */
  table: string;
  /** fleet_outbox.kind of its events. */
  kind: 'revoke' | 'refund';
  columns: OperationColumns;
  /** Columns of the row copied into the event's JSON payload, as they are. */
  payload: readonly string[];
}

/** Who did it, once the row has operator_id, approver_id and approver_name (migration 6, migration 7). */
export const ACCOUNTABLE_COLUMNS = { operatorId: 'NEW.operator_id', approverId: 'NEW.approver_id', approverName: 'NEW.approver_name' } as const;

/** The business day (UTC+8) of a millisecond timestamp column, in SQL. */
export const dayOf = (ms: string): string => `strftime('%Y-%m-%d', ${ms} / 1000, 'unixepoch', '+8 hours')`;

export const OUTBOX_KINDS = ['revoke', 'refund', 'audit', 'heartbeat'] as const;
/** Migration 8's kinds (its SQL is generated from OUTBOX_KINDS and frozen), and `payment` (migration 12's literal triggers). */
export type OutboxKind = (typeof OUTBOX_KINDS)[number] | 'payment';

export const OUTBOX_TABLE_SQL = `
  CREATE TABLE fleet_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN (${OUTBOX_KINDS.map((k) => `'${k}'`).join(', ')})),
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

/** The two triggers of one money-operation table: the row's insert, and every change of its state. */
export function operationTriggers(src: OperationSource): string {
  const c = src.columns;
  const payload = `json_object(${src.payload.map((col) => `'${col}', NEW.${col}`).join(', ')})`;
  const insert = `INSERT INTO fleet_outbox (kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway,
        operator_id, operator_name, approver_id, approver_name, payload)
      VALUES ('${src.kind}', ${c.at}, ${c.businessDay}, NEW.id, NEW.state, ${c.orderSn}, ${c.amountCents}, ${c.payway},
        ${c.operatorId}, ${c.operatorName}, ${c.approverId}, ${c.approverName}, ${payload});`;
  return `
    CREATE TRIGGER fleet_${src.table}_insert AFTER INSERT ON ${src.table}
    BEGIN
      ${insert}
    END;
    CREATE TRIGGER fleet_${src.table}_state AFTER UPDATE OF state ON ${src.table}
    WHEN OLD.state IS NOT NEW.state
    BEGIN
      ${insert}
    END;`;
}

/** Every audit entry becomes an event (the log is append-only, so inserts are all there is). */
export const AUDIT_TRIGGER_SQL = `
  CREATE TRIGGER fleet_audit_log_insert AFTER INSERT ON audit_log
  BEGIN
    INSERT INTO fleet_outbox (kind, at, business_day, operator_name, action, order_sn, payload)
    VALUES ('audit', NEW.at, ${dayOf('NEW.at')}, NEW.actor, NEW.action, NEW.subject,
      json_object('id', NEW.id, 'actor', NEW.actor, 'action', NEW.action, 'subject', NEW.subject,
        'details', CASE WHEN json_valid(NEW.details) THEN json(NEW.details) ELSE NEW.details END));
  END;`;

/** The revokes table: who voided (`operator`, `operator_id`) and who approved (migration 6). */
export const REVOKES_SOURCE: OperationSource = {
  table: 'revokes',
  kind: 'revoke',
  columns: {
    at: 'NEW.updated_at',
    businessDay: 'NEW.deadline_day',
    orderSn: 'NEW.order_sn',
    amountCents: '(SELECT total_cents FROM orders WHERE sn = NEW.order_sn)',
    payway: '(SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn)',
    operatorName: 'NEW.operator',
    ...ACCOUNTABLE_COLUMNS,
  },
  payload: ['client_sn', 'requested_at', 'revoked_at', 'attempts', 'error_code', 'gateway_code', 'gateway_message'],
};

/** The refunds table (migration 7): counted on the business day it was asked for, whatever day the order was paid. */
export const REFUNDS_SOURCE: OperationSource = {
  table: 'refunds',
  kind: 'refund',
  columns: {
    at: 'NEW.updated_at',
    businessDay: dayOf('NEW.requested_at'),
    orderSn: 'NEW.order_sn',
    amountCents: 'NEW.amount_cents',
    payway: '(SELECT coalesce(payway_name, payway) FROM orders WHERE sn = NEW.order_sn)',
    operatorName: 'NEW.operator',
    ...ACCOUNTABLE_COLUMNS,
  },
  payload: ['client_sn', 'request_no', 'requested_at', 'refunded_at', 'attempts', 'error_code', 'gateway_code', 'gateway_message'],
};
