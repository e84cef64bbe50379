/**
 * The shipper: sends the outbox to head office's PostgreSQL in batches, in
 * sequence order, and forgets a batch only after head office committed it.
 *
 * Exactly once: every event keeps its (terminal_sn, seq) from the moment
 * the change it reports committed locally; the insert is `ON CONFLICT DO
 * NOTHING` on that key, so a batch sent again (after a crash between head
 * office's commit and the local delete, or an answer lost on the way back)
 * adds nothing, and the local delete comes only after the commit was
 * acknowledged, so nothing is forgotten unsent. docs/fleet.md has the
 * whole argument.
 *
 * It runs in its own process (see process.ts), never on the revoke or print
 * path: every connect and query has a deadline, batches are bounded in rows
 * and bytes, and a failing database only makes it wait longer between
 * tries.
 */
import pg from 'pg';
import { backoff } from '../common/backoff';
import type { Clock } from '../common/time';
import type { Db } from '../store/db';
import { redactor, type FleetTarget } from './config';
import { markShipped, readBatch, recordFailure, terminalIdentity, writeHeartbeat, type OutboxRow, type TerminalIdentity } from './outbox';

export interface ShipperTiming {
  batchRows: number;
  batchBytes: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  pollMs: number;
  heartbeatMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_SHIPPER_TIMING: ShipperTiming = {
  batchRows: 500,
  batchBytes: 1 << 20,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 15_000,
  pollMs: 1_000,
  heartbeatMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
};

export interface ShipperOptions {
  db: Db;
  target: FleetTarget;
  clock: Clock;
  timing?: Partial<ShipperTiming>;
  log?: (line: string) => void;
  random?: () => number;
}

export interface ShipperStats {
  batches: number;
  shipped: number;
  /** Events head office already had (a batch sent again after a lost answer or a crash). */
  alreadyThere: number;
  failures: number;
}

/** pg's Pool/Client keep a result in memory whole; what a hostile server may send is bounded by the process (see process.ts). */
export class Shipper {
  readonly stats: ShipperStats = { batches: 0, shipped: 0, alreadyThere: 0, failures: 0 };
  private readonly t: ShipperTiming;
  private readonly redact: (s: string) => string;
  private client: pg.Client | null = null;
  private readonly days = new Set<string>();
  private stopped = false;
  private wake: (() => void) | null = null;
  private nextHeartbeat = 0;

  constructor(private readonly o: ShipperOptions) {
    this.t = { ...DEFAULT_SHIPPER_TIMING, ...o.timing };
    this.redact = redactor(o.target.url);
  }

  /** Ships one batch; returns how many events it carried (0: nothing to ship, or not activated yet). */
  async shipOnce(): Promise<number> {
    const rows = readBatch(this.o.db, this.t.batchRows, this.t.batchBytes);
    if (rows.length === 0) return 0;
    const who = terminalIdentity(this.o.db);
    if (!who) return 0;
    const client = await this.connect();
    for (const day of new Set(rows.map((r) => r.business_day))) {
      if (this.days.has(day)) continue;
      await client.query('SELECT fleet.ensure_day($1::date)', [day]);
      this.days.add(day);
    }
    let inserted: number;
    await client.query('BEGIN');
    try {
      inserted = await insertEvents(client, who, rows);
      await upsertOperations(client, who, rows);
      await upsertTerminal(client, who, rows);
      await client.query('COMMIT');
    } catch (err) {
      // The connection's state is unknown: it is dropped, never reused (a ROLLBACK could hang on a bad server).
      this.dropClient();
      throw err;
    }
    const last = rows[rows.length - 1]!.seq;
    markShipped(this.o.db, last, rows.length, this.o.clock.now());
    this.stats.batches++;
    this.stats.shipped += rows.length;
    this.stats.alreadyThere += rows.length - inserted;
    return rows.length;
  }

  /** Ships until stopped: batches back to back while there is a backlog, a heartbeat every heartbeatMs, backoff on failure. */
  async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      this.heartbeatIfDue();
      let delay: number;
      try {
        const n = await this.shipOnce();
        failures = 0;
        delay = n === 0 ? this.t.pollMs : 0;
      } catch (err) {
        failures++;
        this.stats.failures++;
        this.dropClient();
        const message = this.redact(describe(err));
        try {
          recordFailure(this.o.db, message, this.o.clock.now());
        } catch {
          // The local file is busy or failing: the message is in the log line below.
        }
        delay = backoff(failures, this.t.backoffBaseMs, this.t.backoffMaxMs, this.o.random ?? Math.random);
        this.o.log?.(`fleet: head office unreachable (${message}); next try in ${Math.round(delay / 1000)} s`);
      }
      if (delay > 0) await this.sleep(delay);
    }
    this.dropClient();
  }

  /** Ships until the outbox holds nothing but (at most) a heartbeat; throws on the first failure. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.shipOnce();
      if (n === 0) return total;
      total += n;
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  close(): void {
    this.stop();
    this.dropClient();
  }

  private heartbeatIfDue(): void {
    const now = this.o.clock.now();
    if (now < this.nextHeartbeat) return;
    this.nextHeartbeat = now + this.t.heartbeatMs;
    try {
      writeHeartbeat(this.o.db, now);
    } catch (err) {
      this.o.log?.(`fleet: heartbeat not written: ${(err as Error).message}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.min(ms, Math.max(1, this.nextHeartbeat - this.o.clock.now())));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.o.target.url,
      connectionTimeoutMillis: this.t.connectTimeoutMs,
      query_timeout: this.t.queryTimeoutMs,
      statement_timeout: this.t.queryTimeoutMs,
      application_name: 'upay-pos-fleet',
      keepAlive: true,
    });
    // An error on an idle connection (the server went away) must not crash the process: the next batch reconnects.
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    try {
      await client.connect();
    } catch (err) {
      void client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    return client;
  }

  private dropClient(): void {
    const c = this.client;
    this.client = null;
    if (!c) return;
    // end() waits for the server's goodbye, which a hung server never sends: the socket is closed outright.
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    void c.end().catch(() => undefined);
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`;
}

const ACCOUNTABLE = ['operator_id', 'operator_name', 'approver_id', 'approver_name'] as const;

/** One array per column, for `unnest($n::type[])`: a batch is one statement whatever its size. */
function columns(rows: OutboxRow[], keys: ReadonlyArray<keyof OutboxRow>): unknown[][] {
  return keys.map((k) => rows.map((r) => r[k]));
}

async function insertEvents(client: pg.Client, who: TerminalIdentity, rows: OutboxRow[]): Promise<number> {
  const r = await client.query(
    `INSERT INTO fleet.events (terminal_sn, store_sn, merchant_sn, seq, business_day, kind, at, op_id, op_state, order_sn,
       amount_cents, payway, operator_id, operator_name, approver_id, approver_name, action, payload)
     SELECT $1, $2, $3, u.seq, u.day, u.kind, to_timestamp(u.at / 1000.0), u.op_id, u.op_state, u.order_sn,
       u.amount, u.payway, u.operator_id, u.operator_name, u.approver_id, u.approver_name, u.action, u.payload::jsonb
     FROM unnest($4::bigint[], $5::date[], $6::text[], $7::float8[], $8::bigint[], $9::text[], $10::text[],
       $11::bigint[], $12::text[], $13::bigint[], $14::text[], $15::bigint[], $16::text[], $17::text[], $18::text[])
       AS u(seq, day, kind, at, op_id, op_state, order_sn, amount, payway, operator_id, operator_name, approver_id, approver_name, action, payload)
     ON CONFLICT (terminal_sn, business_day, seq) DO NOTHING`,
    [
      who.terminalSn,
      who.storeSn,
      who.merchantSn,
      ...columns(rows, ['seq', 'business_day', 'kind', 'at', 'op_id', 'op_state', 'order_sn', 'amount_cents', 'payway', ...ACCOUNTABLE, 'action', 'payload']),
    ],
  );
  return r.rowCount ?? 0;
}

/** The latest state of each operation in the batch; an older event (a batch sent again) never overwrites a newer one. */
async function upsertOperations(client: pg.Client, who: TerminalIdentity, rows: OutboxRow[]): Promise<void> {
  const latest = new Map<string, { row: OutboxRow; openedAt: number }>();
  for (const r of rows) {
    if ((r.kind !== 'revoke' && r.kind !== 'refund' && r.kind !== 'payment') || r.op_id === null) continue;
    const requested = (JSON.parse(r.payload) as { requested_at?: unknown }).requested_at;
    latest.set(`${r.kind}:${r.op_id}`, { row: r, openedAt: typeof requested === 'number' ? requested : r.at });
  }
  if (latest.size === 0) return;
  const ops = [...latest.values()];
  const opRows = ops.map((o) => o.row);
  await client.query(
    `INSERT INTO fleet.operations (terminal_sn, store_sn, kind, op_id, business_day, state, order_sn, amount_cents, payway,
       operator_id, operator_name, approver_id, approver_name, opened_at, updated_at, last_seq)
     SELECT $1, $2, u.kind, u.op_id, u.day, u.state, u.order_sn, u.amount, u.payway, u.operator_id, u.operator_name,
       u.approver_id, u.approver_name, to_timestamp(u.opened / 1000.0), to_timestamp(u.at / 1000.0), u.seq
     FROM unnest($3::text[], $4::bigint[], $5::date[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::bigint[],
       $11::text[], $12::bigint[], $13::text[], $14::float8[], $15::float8[], $16::bigint[])
       AS u(kind, op_id, day, state, order_sn, amount, payway, operator_id, operator_name, approver_id, approver_name, opened, at, seq)
     ON CONFLICT (terminal_sn, kind, op_id) DO UPDATE SET
       state = EXCLUDED.state, amount_cents = EXCLUDED.amount_cents, payway = EXCLUDED.payway,
       operator_id = EXCLUDED.operator_id, operator_name = EXCLUDED.operator_name,
       approver_id = EXCLUDED.approver_id, approver_name = EXCLUDED.approver_name,
       opened_at = least(fleet.operations.opened_at, EXCLUDED.opened_at),
       updated_at = EXCLUDED.updated_at, last_seq = EXCLUDED.last_seq, store_sn = EXCLUDED.store_sn
     WHERE fleet.operations.last_seq < EXCLUDED.last_seq`,
    [
      who.terminalSn,
      who.storeSn,
      ...columns(opRows, ['kind', 'op_id', 'business_day', 'op_state', 'order_sn', 'amount_cents', 'payway', ...ACCOUNTABLE]),
      ops.map((o) => o.openedAt),
      ...columns(opRows, ['at', 'seq']),
    ],
  );
}

async function upsertTerminal(client: pg.Client, who: TerminalIdentity, rows: OutboxRow[]): Promise<void> {
  const hb = [...rows].reverse().find((r) => r.kind === 'heartbeat');
  await client.query(
    `INSERT INTO fleet.terminals (terminal_sn, store_sn, store_name, merchant_sn, last_seen, last_seq, heartbeat, heartbeat_at, heartbeat_seq)
     VALUES ($1, $2, $3, $4, now(), $5, $6::jsonb, to_timestamp($7::float8 / 1000.0), $8)
     ON CONFLICT (terminal_sn) DO UPDATE SET
       store_sn = EXCLUDED.store_sn, store_name = EXCLUDED.store_name, merchant_sn = EXCLUDED.merchant_sn,
       last_seen = now(), last_seq = greatest(fleet.terminals.last_seq, EXCLUDED.last_seq),
       heartbeat = CASE WHEN EXCLUDED.heartbeat_seq > fleet.terminals.heartbeat_seq THEN EXCLUDED.heartbeat ELSE fleet.terminals.heartbeat END,
       heartbeat_at = CASE WHEN EXCLUDED.heartbeat_seq > fleet.terminals.heartbeat_seq THEN EXCLUDED.heartbeat_at ELSE fleet.terminals.heartbeat_at END,
       heartbeat_seq = greatest(fleet.terminals.heartbeat_seq, EXCLUDED.heartbeat_seq)`,
    [who.terminalSn, who.storeSn, who.storeName, who.merchantSn, rows[rows.length - 1]!.seq, hb?.payload ?? null, hb?.at ?? null, hb?.seq ?? 0],
  );
}
