/**
 * The least a durable money operation must do, written by hand: informational
 * rows beside the e2e rows, against the same floor in the same run, so every
 * bench shows how much of a ratio target is left for the runtime's own logic.
 *
 * Each operation makes the durable writes the issues require, each as cheaply
 * as SQLite allows, in the runtime's settings (2 KiB pages, WAL,
 * synchronous=FULL, a WAL past its first checkpoint):
 * - write-ahead commit: the operation's row with its client_sn, the
 *   one-open-operation lock, a fleet event and an audit entry;
 * - the product's own client (signing, undici, the 64 KiB cap) calling the
 *   same sandbox endpoint the runtime calls;
 * - outcome commit: the row's new state, the order (a payment's new order, a
 *   revoke's order marked CANCELED, a refund's net lowered), a print job, the lock released, a fleet
 *   event, an audit entry and a change-log row.
 * No interpretation table, lease, query, event, receipt model or accountability
 * check: those are the runtime's logic, and what the ratio's headroom pays for.
 */
import path from 'node:path';
import { businessDay } from '../../main/common/time';
import type { Sandbox } from '../../main/sandbox';
import type { SandboxOrder } from '../../main/sandbox/gateway';
import type { Db } from '../../main/store/db';
import { UpayClient, type Signer } from '../../main/upay/client';
import type { CallResult, OrderResult } from '../../main/upay/result';
import { interleaved, p50InfoRow, summarize, type Row } from '../support/bench-stats';
import { runtimeRegimeDb } from './regime-db';

const SCHEMA = `
  CREATE TABLE ops (id INTEGER PRIMARY KEY, client_sn TEXT NOT NULL UNIQUE, order_sn TEXT, amount_cents INTEGER NOT NULL,
    state TEXT NOT NULL, operator TEXT NOT NULL, requested_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
  CREATE INDEX ops_open ON ops (state) WHERE state NOT IN ('done', 'failed');
  CREATE TABLE orders (sn TEXT PRIMARY KEY, client_sn TEXT NOT NULL, total_cents INTEGER NOT NULL, net_cents INTEGER NOT NULL, payway TEXT,
    status TEXT NOT NULL, business_day TEXT NOT NULL, finished_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX orders_day ON orders (business_day, finished_at);
  CREATE TABLE open_ops (key TEXT PRIMARY KEY, op_id INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE print_jobs (id INTEGER PRIMARY KEY, op_id INTEGER NOT NULL, state TEXT NOT NULL, receipt TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE INDEX print_jobs_pending ON print_jobs (id) WHERE state = 'pending';
  CREATE TABLE outbox (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, op_id INTEGER NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL,
    amount_cents INTEGER, operator TEXT);
  CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT);
  CREATE TABLE changes (seq INTEGER PRIMARY KEY, sn TEXT NOT NULL);`;

export type LeastKind = 'revoke' | 'refund' | 'pay';

/** One hand-written operation's store: its orders, and its two commits. */
interface LeastStore {
  /** A revoke's or refund's order, as the runtime holds it before the operation (not timed). */
  seedOrder(o: SandboxOrder): void;
  /** The write-ahead commit; the row's id. `clientSn`: a payment's; `no`: a refund's refund_request_no. */
  writeAhead(kind: LeastKind, clientSn: string, orderSn: string | null, cents: number, no: string): number;
  /** The outcome commit. `clientSn`: a payment's (the order it creates). */
  outcome(kind: LeastKind, id: number, clientSn: string, orderSn: string, cents: number, payway: string | null): void;
  close(): void;
}

/** The least on a schema of its own: each write as cheap as SQLite allows. */
function leastStore(file: string): LeastStore {
  // Past the WAL's first checkpoint, as the runtime's file is and the floor's is made to be.
  const db = runtimeRegimeDb(file, SCHEMA);
  const s = {
    op: db.prepare('INSERT INTO ops (client_sn, order_sn, amount_cents, state, operator, requested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    opState: db.prepare('UPDATE ops SET state = ?, order_sn = ?, updated_at = ? WHERE id = ?'),
    lock: db.prepare('INSERT INTO open_ops (key, op_id) VALUES (?, ?)'),
    unlock: db.prepare('DELETE FROM open_ops WHERE key = ? AND op_id = ?'),
    order: db.prepare('INSERT INTO orders (sn, client_sn, total_cents, net_cents, payway, status, business_day, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    orderStatus: db.prepare('UPDATE orders SET status = ?, net_cents = net_cents - ? WHERE sn = ?'),
    job: db.prepare("INSERT INTO print_jobs (op_id, state, receipt, created_at) VALUES (?, 'pending', ?, ?)"),
    event: db.prepare('INSERT INTO outbox (kind, op_id, state, at, amount_cents, operator) VALUES (?, ?, ?, ?, ?, ?)'),
    audit: db.prepare('INSERT INTO audit (at, actor, action, subject) VALUES (?, ?, ?, ?)'),
    change: db.prepare('INSERT INTO changes (sn) VALUES (?)'),
  };
  const writeAhead = db.transaction((kind: LeastKind, clientSn: string, orderSn: string | null, cents: number): number => {
    const now = Date.now();
    const id = Number(s.op.run(clientSn, orderSn, cents, 'sending', 'bench', now, now).lastInsertRowid);
    s.lock.run(orderSn ?? clientSn, id);
    s.event.run(kind, id, 'sending', now, cents, 'bench');
    s.audit.run(now, 'bench', `${kind}.requested`, orderSn ?? clientSn);
    return id;
  });
  const outcome = db.transaction((kind: LeastKind, id: number, clientSn: string, orderSn: string, cents: number, payway: string | null) => {
    const now = Date.now();
    s.opState.run('done', orderSn, now, id);
    if (kind === 'pay') s.order.run(orderSn, clientSn, cents, cents, payway, 'PAID', '2026-12-07', now);
    else s.orderStatus.run(kind === 'revoke' ? 'CANCELED' : 'REFUNDED', cents, orderSn);
    s.job.run(id, JSON.stringify({ kind, sn: orderSn, cents, payway }), now);
    s.unlock.run(kind === 'pay' ? clientSn : orderSn, id);
    s.event.run(kind, id, 'done', now, cents, 'bench');
    s.audit.run(now, 'system', `${kind}.resolved`, orderSn);
    s.change.run(orderSn);
  });
  return {
    seedOrder: (o) => s.order.run(o.sn, `C${o.sn}`, o.totalCents, o.totalCents, 'alipay', 'PAID', '2026-12-07', Date.now()),
    writeAhead: (kind, clientSn, orderSn, cents) => writeAhead.immediate(kind, clientSn, orderSn, cents),
    outcome: (...a) => outcome.immediate(...a),
    close: () => db.close(),
  };
}

/**
 * The same by hand on the runtime's own file and schema: its tables, indexes and triggers as they are (each
 * row's lock, fleet events, change log and sequence), the same rows the least writes in the operation's own
 * tables (revokes, refunds or payments; orders; print_jobs; audit_log), and still no runtime logic.
 */
function schemaStore(db: Db, record: (o: SandboxOrder) => void): LeastStore {
  const clientSnOf = new Map<string, string>();
  const table = { revoke: 'revokes', refund: 'refunds', pay: 'payments' } as const;
  const s = {
    revoke: db.prepare(
      `INSERT INTO revokes (order_sn, client_sn, state, operator, requested_at, updated_at, deadline_day) VALUES (@orderSn, @clientSn, 'sending', 'bench', @now, @now, @day)`,
    ),
    refund: db.prepare(
      `INSERT INTO refunds (order_sn, client_sn, request_no, amount_cents, net_before_cents, state, operator, requested_at, updated_at)
       VALUES (@orderSn, @clientSn, @no, @cents, @cents, 'sending', 'bench', @now, @now)`,
    ),
    pay: db.prepare(
      `INSERT INTO payments (client_sn, method, amount_cents, subject, state, window_until, operator, requested_at, requested_day, updated_at)
       VALUES (@clientSn, 'barcode', @cents, 'bench', 'sending', @now, 'bench', @now, @day, @now)`,
    ),
    done: {
      revoke: db.prepare(`UPDATE revokes SET state = 'revoked', revoked_at = @now, attempts = 1, updated_at = @now WHERE id = @id`),
      refund: db.prepare(`UPDATE refunds SET state = 'refunded', refunded_at = @now, refunded_day = @day, attempts = 1, updated_at = @now WHERE id = @id`),
      pay: db.prepare(`UPDATE payments SET state = 'paid', order_sn = @orderSn, payway = @payway, paid_at = @now, attempts = 1, updated_at = @now WHERE id = @id`),
    },
    order: db.prepare(
      `INSERT INTO orders (sn, client_sn, total_cents, net_cents, payway, finished_at, status, business_day, updated_at)
       VALUES (@orderSn, @clientSn, @cents, @cents, @payway, @now, 'PAID', @day, @now)`,
    ),
    orderStatus: db.prepare(`UPDATE orders SET status = @status, net_cents = net_cents - @cents, updated_at = @now WHERE sn = @orderSn`),
    job: db.prepare(
      `INSERT INTO print_jobs (revoke_id, refund_id, payment_id, order_sn, kind, copy, state, receipt, attempts, created_at, next_attempt_at)
       VALUES (@revokeId, @refundId, @paymentId, @orderSn, @jobKind, 0, 'pending', @receipt, 0, @now, @now)`,
    ),
    audit: db.prepare('INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)'),
  };
  const writeAhead = db.transaction((kind: LeastKind, clientSn: string, orderSn: string | null, cents: number, no: string): number => {
    const now = Date.now();
    const row = { orderSn, clientSn: orderSn ? clientSnOf.get(orderSn)! : clientSn, no, cents, now, day: businessDay(now) };
    const id = Number(s[kind].run(row).lastInsertRowid);
    s.audit.run(now, 'bench', `${kind}.requested`, orderSn ?? clientSn, JSON.stringify({ id, operator: 'bench' }));
    return id;
  });
  const outcome = db.transaction((kind: LeastKind, id: number, clientSn: string, orderSn: string, cents: number, payway: string | null) => {
    const now = Date.now();
    const row = { id, orderSn, clientSn, cents, payway, now, day: businessDay(now) };
    s.done[kind].run({ id, now, day: row.day, ...(kind === 'pay' ? { orderSn, payway } : {}) });
    if (kind === 'pay') s.order.run(row);
    else s.orderStatus.run({ orderSn, cents, now, status: kind === 'revoke' ? 'CANCELED' : 'REFUNDED' });
    s.job.run({
      revokeId: kind === 'revoke' ? id : null,
      refundId: kind === 'refund' ? id : null,
      paymentId: kind === 'pay' ? id : null,
      orderSn,
      jobKind: kind === 'pay' ? 'payment' : kind,
      receipt: JSON.stringify({ kind, sn: orderSn, cents, payway }),
      now,
    });
    s.audit.run(now, 'system', `${kind}.resolved`, orderSn, JSON.stringify({ id, table: table[kind] }));
  });
  return {
    seedOrder: (o) => {
      record(o);
      clientSnOf.set(o.sn, o.clientSn);
    },
    writeAhead: (...a) => writeAhead.immediate(...a),
    outcome: (...a) => outcome.immediate(...a),
    close: () => undefined,
  };
}

export interface LeastDeps {
  sb: Sandbox;
  signer: Signer;
  terminalSn: string;
  dir: string;
  n: number;
  warm: number;
  /** The e2e row's floor: a bare signed POST (a revoke; a refund's is a refund) and two one-row commits (run.ts). */
  floor: (i: number) => Promise<void>;
  add: (row: Row) => void;
  details: Record<string, unknown>;
  /** For `on: 'schema'`: the runtime's own file, and how it records a paid order (as the runtime's e2e rows seed theirs). */
  runtime?: { db: Db; record: (o: SandboxOrder) => void };
}

const ON = {
  least: { figure: 'the least it must write, by hand', note: 'the durable writes the issues require, each as cheap as SQLite allows' },
  schema: {
    figure: "the least on the runtime's own schema, by hand",
    note: "the same rows written by hand into the runtime's own tables, with their indexes and triggers (lock, fleet events, change log)",
  },
} as const;

/**
 * `kind` by hand, interleaved with the floor as the e2e rows are; an informational row. `on`: a schema of its
 * own ('least'), or the runtime's own file and schema ('schema'), which shows what the runtime's data model
 * costs before any of its logic runs.
 */
export async function benchLeast(kind: LeastKind, d: LeastDeps, on: keyof typeof ON = 'least'): Promise<void> {
  const gw = d.sb.gateway;
  if (on === 'schema' && !d.runtime) throw new Error('the least on the runtime\'s schema needs the runtime');
  const store = on === 'schema' ? schemaStore(d.runtime!.db, d.runtime!.record) : leastStore(path.join(d.dir, `least-${kind}.db`));
  const client = new UpayClient({ apiDomain: gw.url });
  const total = d.n + d.warm;
  const orders = kind !== 'pay' ? Array.from({ length: total }, (_, i) => gw.seedOrder({ terminalSn: d.terminalSn, totalCents: 900 + i })) : [];
  for (const o of orders) store.seedOrder(o);
  const s: number[] = [];
  const f: number[] = [];
  try {
    for (let i = 0; i < total; i++) {
      await interleaved(
        i,
        d.warm,
        {
          samples: s,
          run: async () => {
            const cents = kind === 'pay' ? 500 + i : 900 + i;
            const no = `L${String(i).padStart(19, '0')}`;
            const clientSn = `L${kind[0]}${String(i).padStart(8, '0')}${Date.now()}`.slice(0, 32);
            const orderSn = kind !== 'pay' ? orders[i]!.sn : null;
            const id = store.writeAhead(kind, clientSn, orderSn, cents, no);
            const res: CallResult<OrderResult> =
              kind === 'pay'
                ? await client.pay(d.signer, { client_sn: clientSn, total_amount: String(cents), subject: 'bench', operator: 'bench', dynamic_id: '134567890123456789' })
                : kind === 'refund'
                  ? await client.refund(d.signer, { sn: orderSn!, refund_request_no: no, refund_amount: String(cents), operator: 'bench' })
                  : await client.revoke(d.signer, { sn: orderSn! });
            const want = { pay: 'PAY_SUCCESS', refund: 'REFUND_SUCCESS', revoke: 'CANCEL_SUCCESS' }[kind];
            if (!res.ok || res.value.resultCode !== want || !res.value.order?.sn) throw new Error(`least ${kind} answered ${JSON.stringify(res).slice(0, 200)}`);
            store.outcome(kind, id, clientSn, res.value.order.sn, cents, res.value.order.payway);
          },
        },
        { samples: f, run: () => d.floor(i) },
      );
    }
  } finally {
    store.close();
    await client.close();
  }
  const S = summarize(s);
  const F = summarize(f);
  d.details[`${kind}${on === 'least' ? 'Least' : 'LeastOnSchema'}`] = { subject: S, floor: F };
  d.add(
    p50InfoRow(
      `${kind} e2e, ${ON[on].figure} (p50, n=${S.n})`,
      S,
      F,
      `${ON[on].note}, and the product's client; no runtime logic (test/bench/least.ts). A 1.4x target leaves ${((1.4 - S.p50 / F.p50) * F.p50 * 1000).toFixed(0)} us of this run's floor for all of it`,
    ),
  );
}
