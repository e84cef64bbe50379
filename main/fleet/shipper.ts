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
import { capAnswers } from './capped-socket';
import { clientConfig, redactor, type FleetTarget } from './config';
import { foldLine } from './fold';
import {
  currentEpoch,
  markShipped,
  pendingAlerts,
  readBatch,
  recordFailure,
  setAside,
  stampUnknownIdentity,
  startNewEpoch,
  terminalIdentity,
  writeHeartbeat,
} from './outbox';
import { FOREIGN_IDENTITY, refusedForGood, shipBatch } from './ship-batch';

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
  /** Where the TLS opt-in is read (UPAY_POS_FLEET_ALLOW_SSLMODE_REQUIRE). */
  env?: NodeJS.ProcessEnv;
}

export interface ShipperStats {
  batches: number;
  shipped: number;
  /** Events head office already had (a batch sent again after a lost answer or a crash). */
  alreadyThere: number;
  failures: number;
  /** Events head office refused for good, set aside. */
  setAside: number;
}

/**
 * pg's Client keeps a message (off the V8 heap) and a result in memory whole: what a hostile server may send
 * is capped per message and per answer on the socket (capped-socket.ts), and the heap by the process (process.ts).
 */
export class Shipper {
  readonly stats: ShipperStats = { batches: 0, shipped: 0, alreadyThere: 0, failures: 0, setAside: 0 };
  private readonly t: ShipperTiming;
  private readonly redact: (s: string) => string;
  private client: pg.Client | null = null;
  private readonly days = new Set<string>();
  private stopped = false;
  private wake: (() => void) | null = null;
  private nextHeartbeat = 0;
  /** Rows up to this seq go one at a time (a batch head office refused: finding the event it refuses). */
  private singleUntil: number | null = null;

  constructor(private readonly o: ShipperOptions) {
    this.t = { ...DEFAULT_SHIPPER_TIMING, ...o.timing };
    this.redact = redactor(o.target.url);
  }

  /**
   * Ships one batch (and the alerts of events set aside); returns how many
   * events it carried (0: nothing to ship, or not activated yet). An event
   * head office refuses for good is found by sending the failed batch's rows
   * one at a time, then set aside (kept here, reported to head office); the
   * rest keeps flowing.
   */
  async shipOnce(): Promise<number> {
    stampUnknownIdentity(this.o.db);
    const single = this.singleUntil !== null;
    const rows = readBatch(this.o.db, single ? 1 : this.t.batchRows, this.t.batchBytes);
    if (this.singleUntil !== null && (rows.length === 0 || rows[0]!.seq > this.singleUntil)) this.singleUntil = null;
    const alerts = pendingAlerts(this.o.db, 100);
    const current = terminalIdentity(this.o.db);
    const first = rows[0];
    if (!first && alerts.length === 0) return 0;
    const who = first?.terminal_sn
      ? { terminalSn: first.terminal_sn, storeSn: first.store_sn, storeName: first.store_name, merchantSn: first.merchant_sn, epoch: first.epoch }
      : current && { ...current, epoch: currentEpoch(this.o.db) };
    if (!who) return 0;
    try {
      const client = await this.connect();
      for (const day of new Set(rows.map((r) => r.business_day))) {
        if (this.days.has(day)) continue;
        await client.query('SELECT fleet.ensure_day($1::date)', [day]);
        this.days.add(day);
      }
      const r = await shipBatch(client, who, rows, alerts);
      const now = this.o.clock.now();
      // Exactly the batch's rows leave the outbox: a row requeued by `fleet requeue` meanwhile was not in it, and stays.
      markShipped(this.o.db, rows.map((x) => x.seq), alerts.map((x) => x.seq), now);
      if (r.rewound && first?.epoch === currentEpoch(this.o.db)) {
        const epoch = startNewEpoch(this.o.db, now);
        this.o.log?.(`fleet: head office saw sequence numbers reused (a restored or copied data dir); every event was kept; new epoch ${epoch}`);
      }
      this.stats.batches++;
      this.stats.shipped += rows.length;
      this.stats.alreadyThere += rows.length - r.inserted;
      return Math.max(rows.length, alerts.length > 0 ? 1 : 0);
    } catch (err) {
      // The connection's state is unknown: it is dropped, never reused (a ROLLBACK could hang on a bad server).
      this.dropClient();
      // The credential ships for another terminal, and these rows are the current terminal's: a misconfiguration, not poison.
      const foreignOfCurrent = (err as { code?: string }).code === FOREIGN_IDENTITY && current !== null && who.terminalSn === current.terminalSn && who.storeSn === current.storeSn;
      if (!first || !refusedForGood(err) || foreignOfCurrent) throw err;
      if (rows.length > 1) {
        this.singleUntil = rows[rows.length - 1]!.seq;
        return this.shipOnce();
      }
      const reason = this.headOfficeText(err);
      setAside(this.o.db, first.seq, reason, this.o.clock.now());
      this.stats.setAside++;
      this.o.log?.(`fleet: event ${first.seq} (${first.kind}) set aside, head office refuses it: ${reason}`);
      return this.shipOnce();
    }
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
        const message = this.headOfficeText(err);
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
      let n: number;
      try {
        n = await this.shipOnce();
      } catch (err) {
        // Its caller (`fleet ship --once`) prints the message: head office's words, redacted and folded to one line.
        const e = err as { message?: unknown };
        try {
          if (e && typeof e === 'object' && typeof e.message === 'string') e.message = foldLine(this.redact(e.message));
        } catch {
          // A frozen error: thrown as it is.
        }
        throw err;
      }
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

  /** An error's text (head office's words, at any length) as it may be logged or stored: redacted, then folded to one capped line. */
  private headOfficeText(err: unknown): string {
    return foldLine(this.redact(describe(err)));
  }

  private heartbeatIfDue(): void {
    const now = this.o.clock.now();
    if (now < this.nextHeartbeat) return;
    this.nextHeartbeat = now + this.t.heartbeatMs;
    try {
      writeHeartbeat(this.o.db, now);
    } catch (err) {
      this.o.log?.(`fleet: heartbeat not written: ${foldLine((err as Error).message ?? String(err))}`);
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
      ...clientConfig(this.o.target, this.o.env ?? {}, this.o.log),
      connectionTimeoutMillis: this.t.connectTimeoutMs,
      query_timeout: this.t.queryTimeoutMs,
      statement_timeout: this.t.queryTimeoutMs,
      application_name: 'upay-pos-fleet',
      keepAlive: true,
    });
    // Before connect: a flood in the startup answer is cut off too.
    capAnswers(client);
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
