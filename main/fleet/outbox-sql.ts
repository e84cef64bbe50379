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
import { OUTBOX_CAP_NO_MONEY_SQL, OUTBOX_CAP_ON_COUNT_SQL, OUTBOX_CAP_SQL, OUTBOX_COUNT_SQL, OUTBOX_KIND_INDEXES_SQL } from './outbox-cap-sql';

export { OUTBOX_CAP_NO_MONEY_SQL, OUTBOX_CAP_ON_COUNT_SQL, OUTBOX_CAP_SQL, OUTBOX_COUNT_SQL, OUTBOX_KIND_INDEXES_SQL };

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
  kind: 'revoke' | 'refund' | 'payment';
  columns: OperationColumns;
  /** The states whose reaching is an event (absent: every change of state). */
  eventStates?: readonly string[];
  /** Columns of the row copied into the event's JSON payload, as they are. */
  payload: readonly string[];
  /** When the row shows its operation ended with no money moved (migration 16). */
  noMoney: NoMoneyRule;
  /** Migration 19: the state in which its money moved, and the day the 日结 counts it in then (an SQL expression over a row alias). */
  counts: { state: string; day: (row: string) => string };
}

/** The day the 日结 counts the row's operation in (migration 19): its `counts.day` once in its `counts.state`, else NULL. */
export const countingDayOf = (src: OperationSource, row: string): string => `CASE WHEN ${row}.state = '${src.counts.state}' THEN ${src.counts.day(row)} END`;

/**
 * A money operation "ended with no money moved" (migration 16): a final state in which nothing was taken or returned.
 * Its events are the first money events to give way at the cap, so a flood of them cannot push out those of one that did.
 */
export interface NoMoneyRule {
  /** The condition over a row alias (NEW, OLD, the table), never NULL (it is a column's value); in parentheses when combined. */
  when: (row: string) => string;
  /** The columns it reads: a change of any of them can start or end it. */
  columns: readonly string[];
}

/** Who did it, once the row has operator_id, approver_id and approver_name (migration 6, migration 7). */
export const ACCOUNTABLE_COLUMNS = { operatorId: 'NEW.operator_id', approverId: 'NEW.approver_id', approverName: 'NEW.approver_name' } as const;

/** The business day (UTC+8) of a millisecond timestamp column, in SQL. */
export const dayOf = (ms: string): string => `strftime('%Y-%m-%d', ${ms} / 1000, 'unixepoch', '+8 hours')`;

export const OUTBOX_KINDS = ['revoke', 'refund', 'audit', 'heartbeat'] as const;
/** Migration 8's kinds, and `payment` (migration 12). */
export type OutboxKind = (typeof OUTBOX_KINDS)[number] | 'payment';

/**
 * Who and where, captured when the event is written (migration 11): the
 * terminal and store of that moment, the install's epoch, and a random
 * event id that head office keeps unique (a restored backup reuses sequence
 * numbers, never event ids).
 */
const IDENTITY_COLUMNS = 'event_id, epoch, terminal_sn, store_sn, store_name, merchant_sn';
const IDENTITY_VALUES = 'lower(hex(randomblob(16))), f.epoch, t.terminal_sn, t.store_sn, t.store_name, t.merchant_sn';
const IDENTITY_FROM = 'FROM fleet_state f LEFT JOIN terminal t ON t.id = 1 WHERE f.id = 1';

/** The INSERT … SELECT a trigger (or the heartbeat) uses: `values` are SQL expressions for `cols`, in order. */
export function outboxInsert(cols: string, values: string): string {
  return `INSERT INTO fleet_outbox (${cols}, ${IDENTITY_COLUMNS})
      SELECT ${values}, ${IDENTITY_VALUES}
      ${IDENTITY_FROM};`;
}

/**
 * What a trigger body runs after its outbox row (migration 15): the outbox's
 * count, kept here rather than by a trigger on fleet_outbox, so the outbox
 * has no INSERT trigger and SQLite writes the row directly (an INSERT …
 * SELECT into a table with triggers is staged in a temporary table first).
 * The count's change is what fires the cap (OUTBOX_CAP_ON_COUNT_SQL).
 */
export const COUNT_ONE_SQL = 'UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;';

/**
 * The two triggers of one money-operation table: its insert and every change of its state (`counted`: migration 15's
 * form; `noMoney`: 16's; `countingDay`: 19's, each event carrying the day the 日结 counts its operation in).
 */
export function operationTriggers(src: OperationSource, counted = false, noMoney = false, countingDay = false): string {
  const c = src.columns;
  const when = src.eventStates ? ` AND NEW.state IN (${src.eventStates.map((st) => `'${st}'`).join(', ')})` : '';
  const payload = `json_object(${src.payload.map((col) => `'${col}', NEW.${col}`).join(', ')})`;
  const insert = outboxInsert(
    `kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload${noMoney ? ', no_money' : ''}${countingDay ? ', counting_day' : ''}`,
    `'${src.kind}', ${c.at}, ${c.businessDay}, NEW.id, NEW.state, ${c.orderSn}, ${c.amountCents}, ${c.payway},
        ${c.operatorId}, ${c.operatorName}, ${c.approverId}, ${c.approverName}, ${payload}${noMoney ? `, ${src.noMoney.when('NEW')}` : ''}${countingDay ? `, ${countingDayOf(src, 'NEW')}` : ''}`,
  ) + (counted ? `\n      ${COUNT_ONE_SQL}` : '');
  return `
    DROP TRIGGER IF EXISTS fleet_${src.table}_insert;
    CREATE TRIGGER fleet_${src.table}_insert AFTER INSERT ON ${src.table}
    BEGIN
      ${insert}
    END;
    DROP TRIGGER IF EXISTS fleet_${src.table}_state;
    CREATE TRIGGER fleet_${src.table}_state AFTER UPDATE OF state ON ${src.table}
    WHEN OLD.state IS NOT NEW.state${when}
    BEGIN
      ${insert}
    END;`;
}

/** Every audit entry becomes an event (the log is append-only, so inserts are all there is; `counted`: migration 15's form). */
export function auditTrigger(counted = false): string {
  return `
    DROP TRIGGER IF EXISTS fleet_audit_log_insert;
    CREATE TRIGGER fleet_audit_log_insert AFTER INSERT ON audit_log
    BEGIN
      ${outboxInsert(
        'kind, at, business_day, operator_name, action, order_sn, payload',
        `'audit', NEW.at, ${dayOf('NEW.at')}, NEW.actor, NEW.action, NEW.subject,
        json_object('id', NEW.id, 'actor', NEW.actor, 'action', NEW.action, 'subject', NEW.subject,
          'details', CASE WHEN json_valid(NEW.details) THEN json(NEW.details) ELSE NEW.details END)`,
      )}${counted ? `\n      ${COUNT_ONE_SQL}` : ''}
    END;`;
}

/** Migration 15: every trigger that writes an outbox row, counting it; the cap on the count; the cap's two indexes. */
export function countedTriggersSql(): string {
  return [
    operationTriggers(REVOKES_SOURCE, true),
    operationTriggers(REFUNDS_SOURCE, true),
    operationTriggers(PAYMENTS_SOURCE, true),
    auditTrigger(true),
    OUTBOX_CAP_ON_COUNT_SQL,
    OUTBOX_KIND_INDEXES_SQL,
  ].join('\n');
}

/**
 * How far back (in sequence numbers) an operation ending with no money moved looks for its earlier events (migration
 * 16). The outbox has no index by operation (a money event updates none: migration 15), so the look is a bounded range
 * of the newest rows: at the 200,000-row cap about 0.2 ms per failed payment (1.2 ms with 10,000; some 50 ms to scan
 * the whole outbox, which a hostile window could make every failure pay). 4,000 is more than a day of a counter's
 * events and heartbeats; an operation's events are minutes apart (a queued revoke expires within its business day).
 * An earlier event older than that stays an ordinary money event: kept longer, never dropped sooner.
 */
export const NO_MONEY_WINDOW = 4_000;

/** The cap's lookup of the oldest no-money event (migration 16); an event of an operation that moved money is in no index. */
export const NO_MONEY_INDEX_SQL = `
    CREATE INDEX IF NOT EXISTS fleet_outbox_no_money ON fleet_outbox (seq) WHERE no_money = 1;`;

/**
 * The two triggers keeping the no_money mark of a table's earlier events (migration 16; its own event is marked as it
 * is written). BEFORE the change, so they have run when its event is written and the cap looks, whatever order SQLite
 * keeps AFTER triggers in. Reaching a no-money state marks the operation's events; leaving one (the gateway's truth
 * wins: a rejected revoke later seen CANCELED is revoked) unmarks them all. Any other change pays their WHEN only.
 */
export function noMoneyTriggers(src: OperationSource): string {
  const nm = src.noMoney.when;
  const of = src.noMoney.columns.join(', ');
  return `
    DROP TRIGGER IF EXISTS fleet_${src.table}_no_money;
    CREATE TRIGGER fleet_${src.table}_no_money BEFORE UPDATE OF ${of} ON ${src.table}
    WHEN NOT (${nm('OLD')}) AND (${nm('NEW')})
    BEGIN
      UPDATE fleet_outbox SET no_money = 1
      WHERE seq > (SELECT max(seq) FROM fleet_outbox) - ${NO_MONEY_WINDOW} AND kind = '${src.kind}' AND op_id = NEW.id;
    END;
    DROP TRIGGER IF EXISTS fleet_${src.table}_money_again;
    CREATE TRIGGER fleet_${src.table}_money_again BEFORE UPDATE OF ${of} ON ${src.table}
    WHEN (${nm('OLD')}) AND NOT (${nm('NEW')})
    BEGIN
      UPDATE fleet_outbox SET no_money = 0 WHERE no_money = 1 AND kind = '${src.kind}' AND op_id = NEW.id;
    END;`;
}

/** Migration 16: the index; per money table, its event triggers writing no_money (counted) and the two keeping marks; the cap. */
export function noMoneyTriggersSql(): string {
  return [
    NO_MONEY_INDEX_SQL,
    ...[REVOKES_SOURCE, REFUNDS_SOURCE, PAYMENTS_SOURCE].map((src) => operationTriggers(src, true, true) + noMoneyTriggers(src)),
    OUTBOX_CAP_NO_MONEY_SQL,
  ].join('\n');
}

/** Migration 16, once: the events already in the outbox of operations that had ended with no money moved are marked. */
export function noMoneyBackfillSql(): string {
  const mark = (src: OperationSource) => `
      UPDATE fleet_outbox SET no_money = 1
      WHERE kind = '${src.kind}' AND op_id IN (SELECT id FROM ${src.table} WHERE ${src.noMoney.when(src.table)});`;
  return [REVOKES_SOURCE, REFUNDS_SOURCE, PAYMENTS_SOURCE].map(mark).join('');
}

/**
 * The fleet triggers, per migration that installs them, as each holds them
 * literally (test/unit/fleet-outbox.test.ts keeps every entry equal to its
 * migration's frozen SQL): migration 11 replaced the revoke, refund and audit
 * triggers and added the cap; migration 12 adds the payments'; migration 14
 * replaces the cap's counting trigger by a cheaper pair (OUTBOX_COUNT_SQL);
 * migration 15 moves the count into the writers' triggers and the cap onto
 * the count (countedTriggersSql); migration 16 adds the no-money tier (noMoneyTriggersSql).
 */
export const FLEET_TRIGGER_MIGRATIONS: ReadonlyArray<{ migration: string; sql: () => string }> = [
  {
    migration: '011-fleet-identity',
    sql: () => [operationTriggers(REVOKES_SOURCE), operationTriggers(REFUNDS_SOURCE), auditTrigger(), OUTBOX_CAP_SQL].join('\n'),
  },
  { migration: '012-payments', sql: () => operationTriggers(PAYMENTS_SOURCE) },
  { migration: '014-cheaper-writes', sql: () => OUTBOX_COUNT_SQL },
  { migration: '015-outbox-count-in-writers', sql: countedTriggersSql },
  { migration: '016-no-money-gives-way-first', sql: noMoneyTriggersSql },
];

/**
 * A payment's paid event is written before its order row, in the same transaction (the order comes from the answer):
 * when that order is stored, or its business day changes, the payment's paid event still in the outbox (among the
 * newest NO_MONEY_WINDOW) takes the order's day, the day the 日结 counts the payment in (migration 19).
 */
function orderDayTrigger(name: string, on: string, when: string): string {
  return `
    DROP TRIGGER IF EXISTS ${name};
    CREATE TRIGGER ${name} AFTER ${on} ON orders
    WHEN ${when}EXISTS (SELECT 1 FROM payments WHERE client_sn = NEW.client_sn AND state = 'paid')
    BEGIN
      UPDATE fleet_outbox SET counting_day = NEW.business_day
      WHERE seq > (SELECT max(seq) FROM fleet_outbox) - ${NO_MONEY_WINDOW} AND kind = 'payment' AND op_state = 'paid'
        AND op_id = (SELECT id FROM payments WHERE client_sn = NEW.client_sn);
    END;`;
}

/** Migration 19: every money event carries its operation's counting day (counted, no_money kept); the orders' two triggers. */
export function countingDayTriggersSql(): string {
  return [
    ...[REVOKES_SOURCE, REFUNDS_SOURCE, PAYMENTS_SOURCE].map((src) => operationTriggers(src, true, true, true)),
    orderDayTrigger('fleet_orders_insert_day', 'INSERT', ''),
    orderDayTrigger('fleet_orders_day', 'UPDATE OF business_day', 'OLD.business_day IS NOT NEW.business_day AND '),
  ].join('\n');
}

/** Migration 19, once: the events already in the outbox that reached their operation's counting state get its counting day. */
export function countingDayBackfillSql(): string {
  const fill = (src: OperationSource) => `
      UPDATE fleet_outbox SET counting_day = (SELECT ${countingDayOf(src, src.table)} FROM ${src.table} WHERE ${src.table}.id = fleet_outbox.op_id)
      WHERE kind = '${src.kind}' AND op_state = '${src.counts.state}';`;
  return [REVOKES_SOURCE, REFUNDS_SOURCE, PAYMENTS_SOURCE].map(fill).join('');
}

/**
 * The fleet triggers of the migrations after 16, in the same form (test/integration/fleet-counting-day.test.ts keeps
 * each equal to its migration's frozen SQL): migration 19 adds each money event's counting day (countingDayTriggersSql).
 */
export const LATER_FLEET_TRIGGER_MIGRATIONS: ReadonlyArray<{ migration: string; sql: () => string }> = [
  { migration: '019-counting-day', sql: countingDayTriggersSql },
];

/** Every fleet trigger a database at the newest version has. */
export function fleetTriggersSql(): string {
  return [...FLEET_TRIGGER_MIGRATIONS, ...LATER_FLEET_TRIGGER_MIGRATIONS].map((m) => m.sql()).join('\n');
}

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
  // Not voided: refused (here or by the gateway) or past its business day.
  noMoney: { when: (r) => `${r}.state IN ('rejected', 'expired')`, columns: ['state'] },
  // Counted on the day it was recorded as revoked, whatever its order's day (report/day.ts).
  counts: { state: 'revoked', day: (r) => dayOf(`${r}.revoked_at`) },
};

/** The refunds table (migration 7): its events on the business day it was asked for; counted (migration 19) on the day it was refunded. */
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
  // Refused: no money returned.
  noMoney: { when: (r) => `${r}.state = 'rejected'`, columns: ['state'] },
  // Counted on the day it was recorded as refunded (report/day.ts).
  counts: { state: 'refunded', day: (r) => `${r}.refunded_day` },
};

/**
 * The payments table (migration 12): its creation and its moves to paid,
 * failed, canceled and needs_attention are events (not the passing
 * pending/canceling); the order sn is null until an answer gave it.
 */
export const PAYMENTS_SOURCE: OperationSource = {
  table: 'payments',
  kind: 'payment',
  columns: {
    at: 'NEW.updated_at',
    businessDay: 'NEW.requested_day',
    orderSn: "nullif(NEW.order_sn, '')",
    amountCents: 'NEW.amount_cents',
    payway: 'coalesce(NEW.payway_name, NEW.payway)',
    operatorName: 'NEW.operator',
    ...ACCOUNTABLE_COLUMNS,
  },
  eventStates: ['paid', 'failed', 'canceled', 'needs_attention'],
  payload: ['client_sn', 'method', 'requested_at', 'paid_at', 'attempts', 'error_code', 'gateway_code', 'gateway_message'],
  // Failed, or canceled with nothing taken (CANCELED; REVERSED and REVERSED_UNCONFIRMED moved money back) nor PAID ever seen.
  noMoney: {
    when: (r) => `${r}.state = 'failed' OR (${r}.state = 'canceled' AND ${r}.error_code IS 'CANCELED' AND ${r}.seen_paid = 0)`,
    columns: ['state', 'error_code', 'seen_paid'],
  },
  // Counted on its stored order's day, else the day it was recorded paid (report/payments.ts `paymentDay`).
  counts: {
    state: 'paid',
    day: (r) => `coalesce((SELECT business_day FROM orders WHERE client_sn = ${r}.client_sn), ${dayOf(`${r}.paid_at`)}, ${r}.requested_day)`,
  },
};
