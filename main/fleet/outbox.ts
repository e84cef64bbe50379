/**
 * The local side of the export: reading the outbox in sequence order,
 * forgetting what head office has accepted, setting aside what it refuses,
 * the heartbeat, and the backlog figures `fleet status` and the heartbeat
 * report.
 *
 * Backlog policy: an event leaves the outbox when head office has committed
 * it. The outbox is bounded (fleet_state.outbox_cap, 200,000 rows by
 * default, enforced by a trigger: migration 11, in its current form
 * migration 16): past the cap each new row pushes out one old one,
 * heartbeats first, then the oldest audit entry, then the oldest event of a
 * money operation that ended with no money moved (fleet_outbox.no_money: a
 * revoke rejected or expired, a refund rejected, a payment failed or
 * canceled before any money was taken), and only then the oldest other
 * money event, each counted (fleet_state.dropped_heartbeats, _audit,
 * _no_money, _money; shown by `fleet status` and in every heartbeat). So a
 * flood of operations that move no money (the renderer is untrusted) cannot
 * push the events of one that moved money out of the export. Past
 * BACKLOG_WARN_EVENTS events or BACKLOG_WARN_AGE_MS of lag, status and the
 * heartbeat carry a warning.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { businessDay } from '../common/time';
import { prepared, tx, type Db } from '../store/db';
import { foldLine } from './fold';
import { COUNT_ONE_SQL, outboxInsert, type OutboxKind } from './outbox-sql';

export const BACKLOG_WARN_EVENTS = 50_000;
export const BACKLOG_WARN_AGE_MS = 24 * 3_600_000;

export interface OutboxRow {
  seq: number;
  kind: OutboxKind;
  at: number;
  business_day: string;
  op_id: number | null;
  op_state: string | null;
  order_sn: string | null;
  amount_cents: number | null;
  payway: string | null;
  operator_id: number | null;
  operator_name: string | null;
  approver_id: number | null;
  approver_name: string | null;
  action: string | null;
  payload: string;
  event_id: string;
  epoch: string;
  terminal_sn: string | null;
  store_sn: string | null;
  store_name: string | null;
  merchant_sn: string | null;
  /** The day the 日结 counts the operation in, on its counting event (migration 19); absent or null otherwise. */
  counting_day?: string | null;
}

export interface TerminalIdentity {
  terminalSn: string;
  storeSn: string | null;
  storeName: string | null;
  merchantSn: string | null;
}

export function terminalIdentity(db: Db): TerminalIdentity | null {
  const r = prepared(db, 'SELECT terminal_sn, store_sn, store_name, merchant_sn FROM terminal WHERE id = 1').get() as
    | { terminal_sn: string; store_sn: string | null; store_name: string | null; merchant_sn: string | null }
    | undefined;
  return r ? { terminalSn: r.terminal_sn, storeSn: r.store_sn, storeName: r.store_name, merchantSn: r.merchant_sn } : null;
}

/**
 * Events written before the terminal was activated carry no terminal: they
 * take the terminal of their first shipping (the only one they can belong to).
 */
export function stampUnknownIdentity(db: Db): void {
  prepared(
    db,
    `UPDATE fleet_outbox SET terminal_sn = t.terminal_sn, store_sn = t.store_sn, store_name = t.store_name, merchant_sn = t.merchant_sn
     FROM terminal t WHERE t.id = 1 AND fleet_outbox.terminal_sn IS NULL`,
  ).run();
}

const sameIdentity = (a: OutboxRow, b: OutboxRow) =>
  a.terminal_sn === b.terminal_sn && a.store_sn === b.store_sn && a.store_name === b.store_name && a.merchant_sn === b.merchant_sn && a.epoch === b.epoch;

/**
 * The oldest unshipped events not set aside, at most `maxRows` and about
 * `maxBytes` of payload (at least one row), all of one identity (terminal,
 * store, epoch): a batch stops where the identity captured at write time
 * changes.
 */
export function readBatch(db: Db, maxRows: number, maxBytes: number): OutboxRow[] {
  const out: OutboxRow[] = [];
  let bytes = 0;
  for (const row of prepared(db, 'SELECT * FROM fleet_outbox WHERE set_aside_at IS NULL ORDER BY seq LIMIT ?').iterate(maxRows) as IterableIterator<OutboxRow>) {
    if (out.length > 0 && (bytes + row.payload.length > maxBytes || !sameIdentity(out[0]!, row))) break;
    bytes += row.payload.length;
    out.push(row);
  }
  return out;
}

export interface PendingAlert {
  seq: number;
  event_id: string;
  kind: string;
  business_day: string;
  reason: string;
}

/** Rows set aside whose alert head office has not committed yet. */
export function pendingAlerts(db: Db, max: number): PendingAlert[] {
  return prepared(
    db,
    `SELECT seq, event_id, kind, business_day, set_aside_reason AS reason FROM fleet_outbox
     WHERE set_aside_at IS NOT NULL AND alert_shipped = 0 ORDER BY seq LIMIT ?`,
  ).all(max) as PendingAlert[];
}

/**
 * Head office has committed the events of the batch (`seqs`, the rows
 * readBatch gave) and the alerts of `alertSeqs`: exactly those events leave
 * the outbox, and those alerts are marked sent. Nothing else is touched: a
 * row with a lower seq that was not in the batch (an event set aside that
 * `fleet requeue`, another process, put back while the batch was on its
 * way) stays and goes with a later batch; a heartbeat of the batch
 * coalesced since is gone already (its successor has a new seq, and stays);
 * identity needs no check, every row of a batch had the same. An alert is
 * marked sent only on a row still set aside (one requeued meanwhile will
 * report afresh if it is ever set aside again). shipped_total counts the
 * events this call deleted, each once (heartbeats aside): a batch sent again
 * after a lost answer finds its rows gone and counts nothing twice.
 */
export function markShipped(db: Db, seqs: readonly number[], alertSeqs: readonly number[], now: number): void {
  tx(db, () => {
    let confirmed = 0;
    let lastSeq: number | null = null;
    const del = prepared(db, 'DELETE FROM fleet_outbox WHERE seq = ? RETURNING kind');
    for (const seq of seqs) {
      const gone = del.get(seq) as { kind: OutboxKind } | undefined;
      if (gone && gone.kind !== 'heartbeat') confirmed++;
      if (lastSeq === null || seq > lastSeq) lastSeq = seq;
    }
    for (const seq of alertSeqs) prepared(db, 'UPDATE fleet_outbox SET alert_shipped = 1 WHERE seq = ? AND set_aside_at IS NOT NULL').run(seq);
    prepared(
      db,
      'UPDATE fleet_state SET last_shipped_seq = max(last_shipped_seq, coalesce(?, 0)), last_shipped_at = ?, shipped_total = shipped_total + ?, last_attempt_at = ?, last_error = NULL WHERE id = 1',
    ).run(lastSeq, now, confirmed, now);
  });
}

/** Head office refuses this event whatever is retried: it is kept here, out of the way, and reported. */
export function setAside(db: Db, seq: number, reason: string, now: number): void {
  tx(db, () => {
    // alert_shipped = 0: an event requeued and refused again is reported again (head office keeps one alert per event).
    const r = prepared(db, 'UPDATE fleet_outbox SET set_aside_at = ?, set_aside_reason = ?, alert_shipped = 0 WHERE seq = ? AND set_aside_at IS NULL').run(
      now,
      foldLine(reason),
      seq,
    );
    if (r.changes > 0) prepared(db, 'UPDATE fleet_state SET set_aside_total = set_aside_total + 1 WHERE id = 1').run();
  });
}

/** The install's epoch that new events carry. */
export function currentEpoch(db: Db): string {
  return prepared(db, 'SELECT epoch FROM fleet_state WHERE id = 1').pluck().get() as string;
}

/** Puts the events set aside back in the queue (after head office fixed what refused them); returns how many. */
export function requeueSetAside(db: Db): number {
  return prepared(db, 'UPDATE fleet_outbox SET set_aside_at = NULL, set_aside_reason = NULL, alert_shipped = 0 WHERE set_aside_at IS NOT NULL').run().changes;
}

/** Head office saw sequence numbers reused (a restored or copied data dir): later events start a new epoch. */
export function startNewEpoch(db: Db, now: number): string {
  const epoch = randomBytes(16).toString('hex');
  prepared(db, 'UPDATE fleet_state SET epoch = ?, epoch_started_at = ?, restore_detected_at = ? WHERE id = 1').run(epoch, now, now);
  return epoch;
}

/** The last failure, already redacted by the caller; kept folded (one line, at most FOLD_MAX characters: head office's text). */
export function recordFailure(db: Db, message: string, now: number): void {
  prepared(db, 'UPDATE fleet_state SET last_attempt_at = ?, last_error = ?, last_error_at = ? WHERE id = 1').run(now, foldLine(message), now);
}

export interface Backlog {
  events: number;
  money: number;
  audit: number;
  heartbeats: number;
  /** Events head office refused for good, kept here (not in `events`). */
  setAside: number;
  oldestAt: number | null;
  lagMs: number;
  lastShippedSeq: number;
  lastShippedAt: number | null;
  /** Events head office confirmed, each counted once (heartbeats aside). */
  shippedTotal: number;
  lastAttemptAt: number | null;
  lastError: string | null;
  /**
   * The bound: rows in the outbox, the cap, and what gave way to it (`noMoney`: events of money operations that ended
   * with no money moved; `money`: the other money events).
   */
  cap: { rows: number; cap: number; dropped: Dropped };
  epoch: string;
  restoreDetectedAt: number | null;
  warning: string | null;
}

export interface Dropped {
  heartbeats: number;
  audit: number;
  noMoney: number;
  money: number;
}

interface StateRow {
  last_shipped_seq: number;
  last_shipped_at: number | null;
  shipped_total: number;
  last_attempt_at: number | null;
  last_error: string | null;
  outbox_rows: number;
  outbox_cap: number;
  dropped_heartbeats: number;
  dropped_audit: number;
  dropped_no_money: number;
  dropped_money: number;
  epoch: string;
  restore_detected_at: number | null;
}

export function backlog(db: Db, now: number): Backlog {
  const counts = prepared(db, 'SELECT kind, count(*) AS n, min(at) AS oldest FROM fleet_outbox WHERE set_aside_at IS NULL GROUP BY kind').all() as Array<{
    kind: OutboxKind;
    n: number;
    oldest: number;
  }>;
  const by = (k: OutboxKind) => counts.find((c) => c.kind === k)?.n ?? 0;
  const events = counts.reduce((s, c) => s + c.n, 0);
  const real = counts.filter((c) => c.kind !== 'heartbeat');
  const oldestAt = real.length ? Math.min(...real.map((c) => c.oldest)) : null;
  const setAsideCount = prepared(db, 'SELECT count(*) FROM fleet_outbox WHERE set_aside_at IS NOT NULL').pluck().get() as number;
  const st = prepared(
    db,
    `SELECT last_shipped_seq, last_shipped_at, shipped_total, last_attempt_at, last_error, outbox_rows, outbox_cap,
       dropped_heartbeats, dropped_audit, dropped_no_money, dropped_money, epoch, restore_detected_at FROM fleet_state WHERE id = 1`,
  ).get() as StateRow;
  const lagMs = oldestAt === null ? 0 : Math.max(0, now - oldestAt);
  const pending = events - by('heartbeat');
  const warnings = [
    ...(pending > BACKLOG_WARN_EVENTS || lagMs > BACKLOG_WARN_AGE_MS
      ? [`fleet backlog: ${pending} events not shipped, oldest ${Math.round(lagMs / 60_000)} min old (kept until head office accepts them, up to the cap of ${st.outbox_cap})`]
      : []),
    ...(st.dropped_audit + st.dropped_no_money + st.dropped_money > 0
      ? [
          `fleet outbox cap ${st.outbox_cap} reached: ${st.dropped_audit} audit, ${st.dropped_no_money} no-money (operations that moved no money) and ${st.dropped_money} money events dropped from the export`,
        ]
      : []),
    ...(setAsideCount > 0 ? [`${setAsideCount} events set aside (head office refused them): see fleet status --json and fleet.alerts`] : []),
  ];
  return {
    events,
    money: by('revoke') + by('refund') + by('payment'),
    audit: by('audit'),
    heartbeats: by('heartbeat'),
    setAside: setAsideCount,
    oldestAt,
    lagMs,
    lastShippedSeq: st.last_shipped_seq,
    lastShippedAt: st.last_shipped_at,
    shippedTotal: st.shipped_total,
    lastAttemptAt: st.last_attempt_at,
    lastError: st.last_error,
    cap: {
      rows: st.outbox_rows,
      cap: st.outbox_cap,
      dropped: { heartbeats: st.dropped_heartbeats, audit: st.dropped_audit, noMoney: st.dropped_no_money, money: st.dropped_money },
    },
    epoch: st.epoch,
    restoreDetectedAt: st.restore_detected_at,
    warning: warnings.length ? warnings.join('; ') : null,
  };
}

/** The events set aside, for `fleet status --json` (what and why; the payload stays in the data dir). */
export function setAsideRows(db: Db, max = 20): Array<{ seq: number; kind: string; business_day: string; at: number; reason: string; reported: boolean }> {
  return (
    prepared(db, 'SELECT seq, kind, business_day, set_aside_at AS at, set_aside_reason AS reason, alert_shipped FROM fleet_outbox WHERE set_aside_at IS NOT NULL ORDER BY seq LIMIT ?').all(max) as Array<{
      seq: number;
      kind: string;
      business_day: string;
      at: number;
      reason: string;
      alert_shipped: number;
    }>
  ).map(({ alert_shipped, ...r }) => ({ ...r, reported: alert_shipped === 1 }));
}

let appVersionCache: string | null = null;
/** This install's version (the nearest package.json named upay-pos). */
export function appVersion(): string {
  if (appVersionCache) return appVersionCache;
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'upay-pos' && pkg.version) return (appVersionCache = pkg.version);
    } catch {
      // not here: look one level up
    }
    dir = path.dirname(dir);
  }
  return (appVersionCache = 'unknown');
}

/** Open states, the same words for revokes and refunds. */
const OPEN_STATES = "('sending', 'queued', 'pending', 'needs_attention')";

/** The counter's health, from the database alone (the shipper's process has no other view of it). */
export function heartbeatPayload(db: Db, now: number): Record<string, unknown> {
  const openOf = (table: 'revokes' | 'refunds') =>
    prepared(db, `SELECT state, count(*) AS n, min(requested_at) AS oldest FROM ${table} WHERE state IN ${OPEN_STATES} GROUP BY state`).all() as Array<{
      state: string;
      n: number;
      oldest: number;
    }>;
  const openRefunds = openOf('refunds');
  const openPayments = prepared(
    db,
    "SELECT state, count(*) AS n, min(requested_at) AS oldest FROM payments WHERE state IN ('sending', 'pending', 'canceling', 'needs_attention') GROUP BY state",
  ).all() as Array<{ state: string; n: number; oldest: number }>;
  const open = [...openOf('revokes'), ...openRefunds, ...openPayments];
  const jobs = prepared(db, "SELECT state, count(*) AS n FROM print_jobs WHERE state IN ('pending', 'failed') GROUP BY state").all() as Array<{ state: string; n: number }>;
  const lastFailure = prepared(db, "SELECT last_error FROM print_jobs WHERE state = 'failed' ORDER BY id DESC LIMIT 1").pluck().get() as string | undefined;
  const term = prepared(db, 'SELECT last_checkin_day, key_updated_at FROM terminal WHERE id = 1').get() as { last_checkin_day: string | null; key_updated_at: number } | undefined;
  const failed = jobs.find((j) => j.state === 'failed')?.n ?? 0;
  const pendingJobs = jobs.find((j) => j.state === 'pending')?.n ?? 0;
  const oldest = open.length ? Math.min(...open.map((o) => o.oldest)) : null;
  const b = backlog(db, now);
  return {
    businessDay: businessDay(now),
    appVersion: appVersion(),
    queue: Object.fromEntries(open.filter((o) => !openRefunds.includes(o) && !openPayments.includes(o)).map((o) => [o.state, o.n])),
    refundQueue: Object.fromEntries(openRefunds.map((o) => [o.state, o.n])),
    paymentQueue: Object.fromEntries(openPayments.map((o) => [o.state, o.n])),
    openOperations: open.reduce((s, o) => s + o.n, 0),
    oldestOpenMinutes: oldest === null ? null : Math.floor((now - oldest) / 60_000),
    printer: { state: failed > 0 ? 'failing' : pendingJobs > 0 ? 'printing' : 'ok', pendingJobs, failedJobs: failed, lastError: lastFailure ?? null },
    lastCheckinDay: term?.last_checkin_day ?? null,
    keyAgeHours: term ? Math.floor((now - term.key_updated_at) / 3_600_000) : null,
    backlog: b.events - b.heartbeats,
    lagSeconds: Math.round(b.lagMs / 1000),
    setAside: b.setAside,
    dropped: b.cap.dropped,
    backlogWarning: b.warning,
  };
}

const HEARTBEAT_INSERT = outboxInsert('kind, at, business_day, payload', "'heartbeat', ?, ?, ?");

/** Writes the heartbeat, replacing the one not shipped yet (heartbeats are coalesced; events never are). */
export function writeHeartbeat(db: Db, now: number): void {
  const payload = heartbeatPayload(db, now);
  tx(db, () => {
    prepared(db, "DELETE FROM fleet_outbox WHERE kind = 'heartbeat'").run();
    // Counted by its writer, as every outbox row is (migration 15); the count's increase applies the cap.
    if (prepared(db, HEARTBEAT_INSERT).run(now, businessDay(now), JSON.stringify(payload)).changes === 1) prepared(db, COUNT_ONE_SQL).run();
  });
}
