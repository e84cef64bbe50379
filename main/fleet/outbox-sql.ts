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
  kind: 'revoke' | 'refund' | 'payment';
  columns: OperationColumns;
  /** The states whose reaching is an event (absent: every change of state). */
  eventStates?: readonly string[];
  /** Columns of the row copied into the event's JSON payload, as they are. */
  payload: readonly string[];
  /** When the row shows its operation ended with no money moved (migration 16). */
  noMoney: NoMoneyRule;
}

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

/** The two triggers of one money-operation table: its insert and every change of its state (`counted`: migration 15's form; `noMoney`: 16's). */
export function operationTriggers(src: OperationSource, counted = false, noMoney = false): string {
  const c = src.columns;
  const when = src.eventStates ? ` AND NEW.state IN (${src.eventStates.map((st) => `'${st}'`).join(', ')})` : '';
  const payload = `json_object(${src.payload.map((col) => `'${col}', NEW.${col}`).join(', ')})`;
  const insert = outboxInsert(
    `kind, at, business_day, op_id, op_state, order_sn, amount_cents, payway, operator_id, operator_name, approver_id, approver_name, payload${noMoney ? ', no_money' : ''}`,
    `'${src.kind}', ${c.at}, ${c.businessDay}, NEW.id, NEW.state, ${c.orderSn}, ${c.amountCents}, ${c.payway},
        ${c.operatorId}, ${c.operatorName}, ${c.approverId}, ${c.approverName}, ${payload}${noMoney ? `, ${src.noMoney.when('NEW')}` : ''}`,
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

/**
 * The outbox's bound (migration 11): fleet_state.outbox_rows counts the rows;
 * past fleet_state.outbox_cap, each new row pushes one out, heartbeats first,
 * then the oldest audit entry, then the oldest money event, each counted in
 * fleet_state.dropped_*. The money itself stays in revokes/refunds: only its
 * export copy gives way.
 */
export const OUTBOX_CAP_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    CREATE TRIGGER fleet_outbox_count_in AFTER INSERT ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
      UPDATE fleet_state SET
        dropped_heartbeats = dropped_heartbeats + (SELECT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')),
        dropped_audit = dropped_audit + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')),
        dropped_money = dropped_money + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind IN ('heartbeat', 'audit')))
      WHERE id = 1 AND outbox_rows > outbox_cap;
      DELETE FROM fleet_outbox
      WHERE (SELECT outbox_rows > outbox_cap FROM fleet_state WHERE id = 1)
        AND seq = coalesce(
          (SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE kind = 'audit' ORDER BY seq LIMIT 1),
          (SELECT min(seq) FROM fleet_outbox));
    END;
    DROP TRIGGER IF EXISTS fleet_outbox_count_out;
    CREATE TRIGGER fleet_outbox_count_out AFTER DELETE ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows - 1 WHERE id = 1;
    END;`;

/**
 * The cap's work, the same in every version: count what gives way (a
 * heartbeat, else the oldest audit entry, else money: `noneLeftButMoney` is
 * that last test, as each version writes it), then delete it. Since
 * migration 16 a tier comes before the other money events: the oldest event
 * marked no_money (`noMoneyLeft` is its test).
 */
function capWork(noneLeftButMoney: string, noMoneyLeft?: string): string {
  const countNoMoney = noMoneyLeft ? `\n        dropped_no_money = dropped_no_money + ${noMoneyLeft},` : '';
  const oldestNoMoney = noMoneyLeft ? `\n          (SELECT seq FROM fleet_outbox WHERE no_money = 1 ORDER BY seq LIMIT 1),` : '';
  return `
      UPDATE fleet_state SET
        dropped_heartbeats = dropped_heartbeats + (SELECT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')),
        dropped_audit = dropped_audit + (SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')),${countNoMoney}
        dropped_money = dropped_money + ${noneLeftButMoney}
      WHERE id = 1;
      DELETE FROM fleet_outbox
      WHERE seq = coalesce(
          (SELECT seq FROM fleet_outbox WHERE kind = 'heartbeat' ORDER BY seq LIMIT 1),
          (SELECT seq FROM fleet_outbox WHERE kind = 'audit' ORDER BY seq LIMIT 1),${oldestNoMoney}
          (SELECT min(seq) FROM fleet_outbox));`;
}

/**
 * The same bound, cheaper (migration 14): the count is kept by a BEFORE INSERT
 * trigger of one UPDATE, and the cap's work (count what gives way, delete it)
 * runs only WHEN the count is over the cap. Before, every outbox row (four per
 * revoke) ran three statements; now one, plus the guard. A BEFORE trigger
 * always fires before the row's AFTER triggers, so the guard sees the count
 * with this row in it, whatever order SQLite keeps its triggers in; a failed
 * insert rolls the count back with its statement. Same rows, same counts.
 */
export const OUTBOX_COUNT_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    CREATE TRIGGER fleet_outbox_count_in BEFORE INSERT ON fleet_outbox
    BEGIN
      UPDATE fleet_state SET outbox_rows = outbox_rows + 1 WHERE id = 1;
    END;
    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER INSERT ON fleet_outbox
    WHEN (SELECT outbox_rows > outbox_cap FROM fleet_state WHERE id = 1)
    BEGIN${capWork("(SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind IN ('heartbeat', 'audit')))")}
    END;`;

/**
 * The same bound with no trigger on the outbox's inserts (migration 15):
 * every writer of an outbox row adds one to the count in its own trigger
 * body (or statement, for the heartbeat), and the count's increase fires
 * the cap. The new row is in the table when the cap looks for what gives
 * way, as before, so the same rows are kept and dropped, with the same
 * counts; a decrease (a shipped or dropped row) never fires it.
 */
export const OUTBOX_CAP_ON_COUNT_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_count_in;
    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER UPDATE OF outbox_rows ON fleet_state
    WHEN NEW.outbox_rows > OLD.outbox_rows AND NEW.outbox_rows > NEW.outbox_cap
    BEGIN${capWork(`(SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit'))`)}
    END;`;

/**
 * What the cap looks up by kind, and nothing else (migration 15): the
 * oldest heartbeat and the oldest audit entry. Two partial indexes replace
 * the (kind, seq) index, so a money event, the rows a money operation's
 * commit writes most, updates no index of the outbox at all.
 */
export const OUTBOX_KIND_INDEXES_SQL = `
    DROP INDEX IF EXISTS fleet_outbox_kind;
    CREATE INDEX IF NOT EXISTS fleet_outbox_heartbeats ON fleet_outbox (seq) WHERE kind = 'heartbeat';
    CREATE INDEX IF NOT EXISTS fleet_outbox_audit ON fleet_outbox (seq) WHERE kind = 'audit';`;

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

/** No heartbeat, no audit entry left: the start of the cap's money tiers' tests (migration 16). */
const ONLY_MONEY = `(SELECT NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'heartbeat')
          AND NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE kind = 'audit')
          AND`;

/**
 * The bound with its no-money tier (migration 16): the heartbeat, then the oldest audit entry, then the oldest no-money
 * event (fleet_state.dropped_no_money), only then the oldest other money event (dropped_money). Fired as in 15.
 */
export const OUTBOX_CAP_NO_MONEY_SQL = `
    DROP TRIGGER IF EXISTS fleet_outbox_cap;
    CREATE TRIGGER fleet_outbox_cap AFTER UPDATE OF outbox_rows ON fleet_state
    WHEN NEW.outbox_rows > OLD.outbox_rows AND NEW.outbox_rows > NEW.outbox_cap
    BEGIN${capWork(`${ONLY_MONEY} NOT EXISTS (SELECT 1 FROM fleet_outbox WHERE no_money = 1))`, `${ONLY_MONEY} EXISTS (SELECT 1 FROM fleet_outbox WHERE no_money = 1))`)}
    END;`;

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

/** Every fleet trigger a database at the newest version has. */
export function fleetTriggersSql(): string {
  return FLEET_TRIGGER_MIGRATIONS.map((m) => m.sql()).join('\n');
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
  // Refused: no money returned.
  noMoney: { when: (r) => `${r}.state = 'rejected'`, columns: ['state'] },
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
};
