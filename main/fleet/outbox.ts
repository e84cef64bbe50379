/**
 * The local side of the export: reading the outbox in sequence order,
 * forgetting what head office has accepted, the heartbeat, and the backlog
 * figures `fleet status` and the heartbeat report.
 *
 * Backlog policy: a money or audit event leaves the outbox only when head
 * office has committed it, whatever the backlog's size; heartbeats are
 * coalesced (only the latest unshipped one is kept), so a counter cut off
 * from head office for weeks grows by its real events only. Past
 * BACKLOG_WARN_EVENTS events or BACKLOG_WARN_AGE_MS of lag, status and the
 * heartbeat carry a warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { businessDay } from '../common/time';
import { prepared, tx, type Db } from '../store/db';
import type { OutboxKind } from './outbox-sql';

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

/** The oldest unshipped events, at most `maxRows` and about `maxBytes` of payload (at least one row). */
export function readBatch(db: Db, maxRows: number, maxBytes: number): OutboxRow[] {
  const out: OutboxRow[] = [];
  let bytes = 0;
  for (const row of prepared(db, 'SELECT * FROM fleet_outbox ORDER BY seq LIMIT ?').iterate(maxRows) as IterableIterator<OutboxRow>) {
    if (out.length > 0 && bytes + row.payload.length > maxBytes) break;
    bytes += row.payload.length;
    out.push(row);
  }
  return out;
}

/**
 * Head office has committed every event up to `lastSeq`: they leave the
 * outbox. Every row at or below it was in the batch (SQLite has one writer,
 * so sequence numbers are handed out in commit order), except a heartbeat
 * coalesced since, which is gone already.
 */
export function markShipped(db: Db, lastSeq: number, count: number, now: number): void {
  tx(db, () => {
    prepared(db, 'DELETE FROM fleet_outbox WHERE seq <= ?').run(lastSeq);
    prepared(db, 'UPDATE fleet_state SET last_shipped_seq = max(last_shipped_seq, ?), last_shipped_at = ?, shipped_total = shipped_total + ?, last_attempt_at = ?, last_error = NULL WHERE id = 1').run(
      lastSeq,
      now,
      count,
      now,
    );
  });
}

/** The last failure, already redacted by the caller. */
export function recordFailure(db: Db, message: string, now: number): void {
  prepared(db, 'UPDATE fleet_state SET last_attempt_at = ?, last_error = ?, last_error_at = ? WHERE id = 1').run(now, message.slice(0, 500), now);
}

export interface Backlog {
  events: number;
  money: number;
  audit: number;
  heartbeats: number;
  oldestAt: number | null;
  lagMs: number;
  lastShippedSeq: number;
  lastShippedAt: number | null;
  shippedTotal: number;
  lastAttemptAt: number | null;
  lastError: string | null;
  warning: string | null;
}

export function backlog(db: Db, now: number): Backlog {
  const counts = prepared(db, 'SELECT kind, count(*) AS n, min(at) AS oldest FROM fleet_outbox GROUP BY kind').all() as Array<{ kind: OutboxKind; n: number; oldest: number }>;
  const by = (k: OutboxKind) => counts.find((c) => c.kind === k)?.n ?? 0;
  const events = counts.reduce((s, c) => s + c.n, 0);
  const real = counts.filter((c) => c.kind !== 'heartbeat');
  const oldestAt = real.length ? Math.min(...real.map((c) => c.oldest)) : null;
  const st = prepared(db, 'SELECT last_shipped_seq, last_shipped_at, shipped_total, last_attempt_at, last_error FROM fleet_state WHERE id = 1').get() as {
    last_shipped_seq: number;
    last_shipped_at: number | null;
    shipped_total: number;
    last_attempt_at: number | null;
    last_error: string | null;
  };
  const lagMs = oldestAt === null ? 0 : Math.max(0, now - oldestAt);
  const pending = events - by('heartbeat');
  const warning =
    pending > BACKLOG_WARN_EVENTS || lagMs > BACKLOG_WARN_AGE_MS
      ? `fleet backlog: ${pending} events not shipped, oldest ${Math.round(lagMs / 60_000)} min old (kept until head office accepts them)`
      : null;
  return {
    events,
    money: by('revoke') + by('refund'),
    audit: by('audit'),
    heartbeats: by('heartbeat'),
    oldestAt,
    lagMs,
    lastShippedSeq: st.last_shipped_seq,
    lastShippedAt: st.last_shipped_at,
    shippedTotal: st.shipped_total,
    lastAttemptAt: st.last_attempt_at,
    lastError: st.last_error,
    warning,
  };
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
  const open = [...openOf('revokes'), ...openRefunds];
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
    queue: Object.fromEntries(open.filter((o) => !openRefunds.includes(o)).map((o) => [o.state, o.n])),
    refundQueue: Object.fromEntries(openRefunds.map((o) => [o.state, o.n])),
    openOperations: open.reduce((s, o) => s + o.n, 0),
    oldestOpenMinutes: oldest === null ? null : Math.floor((now - oldest) / 60_000),
    printer: { state: failed > 0 ? 'failing' : pendingJobs > 0 ? 'printing' : 'ok', pendingJobs, failedJobs: failed, lastError: lastFailure ?? null },
    lastCheckinDay: term?.last_checkin_day ?? null,
    keyAgeHours: term ? Math.floor((now - term.key_updated_at) / 3_600_000) : null,
    backlog: b.events - b.heartbeats,
    backlogWarning: b.warning,
  };
}

/** Writes the heartbeat, replacing the one not shipped yet (heartbeats are coalesced; events never are). */
export function writeHeartbeat(db: Db, now: number): void {
  const payload = heartbeatPayload(db, now);
  tx(db, () => {
    prepared(db, "DELETE FROM fleet_outbox WHERE kind = 'heartbeat'").run();
    prepared(db, "INSERT INTO fleet_outbox (kind, at, business_day, payload) VALUES ('heartbeat', ?, ?, ?)").run(now, businessDay(now), JSON.stringify(payload));
  });
}
