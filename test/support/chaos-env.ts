/**
 * Shared pieces of the reliability suite, the crash worker and the benchmark:
 * a clock pinned to the middle of the current business day (so a run near
 * midnight UTC+8 never crosses the day; the same offset works across
 * processes), runtime + sandbox setup with an activated terminal, order
 * seeding, waiting for the revoke queue to settle, table dumps and the
 * "local state equals the gateway's truth" check.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Agent as UndiciAgent } from 'undici';
// The runtime's own part of undici (main/upay/http.ts), not the package's index: the memory bench's child loads this file.
import { Agent } from '../../main/upay/http';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../main/runtime';
import type { SandboxGateway, SandboxOrder, SeedOrderInput } from '../../main/sandbox/gateway';
import { paidOrderInput } from '../../main/sandbox';
import type { Db } from '../../main/store/db';
import { businessDay, businessDayStart } from '../../main/common/time';

/** Offset that moves the system clock to 12:00 (UTC+8) of today's business day. */
export function middayOffset(now = Date.now()): number {
  return businessDayStart(businessDay(now)) + 12 * 3_600_000 - now;
}

export { offsetClock } from './clock';

export function tempDir(prefix = 'upay-pos-chaos-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const CHAOS_TIMING = { firstQueryMs: 20, queryEveryMs: 50, pendingWindowMs: 2000, backoffBaseMs: 20, backoffCapMs: 200 } as const;

/** A dispatcher with a short connect timeout (createRuntime's timeoutMs covers headers and body only). */
export function shortConnectAgent(connectTimeoutMs = 300): UndiciAgent {
  return new Agent({ connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 4_000, connections: 16 });
}

/** Activates the runtime's terminal against the sandbox (a fresh code) and checks in once. */
export async function activate(rt: Runtime, gw: SandboxGateway, deviceId = 'chaos-counter'): Promise<string> {
  const v = gw.vendor;
  await rt.terminal.activate({ appId: v.appId, code: gw.addActivationCode(), deviceId, vendorSn: v.vendorSn, vendorKey: v.vendorKey }, 'test');
  await rt.terminal.checkin('test');
  return rt.terminal.info()!.terminalSn;
}

/** Seeds a paid order at the gateway and records it locally (the host app's own flow). */
export function seedPaid(rt: Runtime, gw: SandboxGateway, terminalSn: string, n: number, extra: Partial<SeedOrderInput> = {}): SandboxOrder {
  const o = gw.seedOrder({ terminalSn, totalCents: 100 + (n % 100_000), subject: '测试商品', operator: 'op', ...extra });
  rt.orders.record(paidOrderInput(o));
  return o;
}

export function makeRuntime(options: RuntimeOptions): Runtime {
  return createRuntime(options);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves `p`, or undefined after `ms`. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => {
    t = setTimeout(() => r(undefined), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

/** What settle() needs of a money-operation kind (revokes and refunds both offer it). */
interface OperationQueue {
  idle(): Promise<void>;
  queueStatus(): { queued: number; pending: number; sending: number; needsAttention: number };
  open(): Array<{ id: number; state: string }>;
  queryAgain(id: number, actor: string): Promise<unknown>;
  kick(): void;
}

/**
 * Works every revoke and refund queue until nothing is queued, pending or
 * sending; rows in needs_attention get a person's "query again" (at most
 * `maxQueryAgain` rounds). Bounded by `timeoutMs`. Returns the final counts.
 */
export async function settle(rt: Runtime, timeoutMs = 20_000, maxQueryAgain = 4): Promise<{ open: number; needsAttention: number; timedOut: boolean }> {
  const end = Date.now() + timeoutMs;
  const kinds: OperationQueue[] = [rt.revokes, rt.refunds];
  let rounds = 0;
  for (;;) {
    await within(Promise.all(kinds.map((k) => k.idle())), 200);
    const qs = kinds.map((k) => k.queueStatus());
    const busy = qs.reduce((n, q) => n + q.queued + q.pending + q.sending, 0);
    const needsAttention = qs.reduce((n, q) => n + q.needsAttention, 0);
    if (busy === 0) {
      if (needsAttention === 0 || rounds >= maxQueryAgain) return { open: 0, needsAttention, timedOut: false };
      rounds++;
      for (const k of kinds) {
        for (const r of k.open()) {
          if (r.state === 'needs_attention') await k.queryAgain(r.id, 'chaos');
        }
      }
      continue;
    }
    if (Date.now() > end) return { open: busy, needsAttention, timedOut: true };
    for (const k of kinds) k.kick();
    await sleep(20);
  }
}

/** Every row of every table that holds business state (audit_log included), as JSON text. */
export function dumpDb(db: Db): string {
  const tables = ['terminal', 'orders', 'revokes', 'print_jobs', 'audit_log', 'settings'];
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    out[t] = db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all().map((row) => {
      const r = row as Record<string, unknown>;
      for (const k of Object.keys(r)) if (Buffer.isBuffer(r[k])) r[k] = (r[k] as Buffer).toString('hex');
      return r;
    });
  }
  return JSON.stringify(out);
}

export interface TruthReport {
  checked: number;
  mismatches: string[];
  doubleEffects: string[];
  revoked: number;
  notRevoked: number;
  needsAttentionPaid: number;
}

/**
 * The statuses a local order may show for `truth`: the gateway's, and, while a sandbox fault that moves nothing is
 * still playing out (REFUND_ERROR until K more queries, then back to what it was), the status it goes back to. Nobody
 * queries again once the operation is final (a refund rejected by its own refund_request_no), so either may be last.
 */
function acceptedStatuses(truth: { orderStatus: string; pending: { end: { to: string; orderStatus?: string } } | null }): string[] {
  const back = truth.pending?.end.to === 'RESTORE' ? truth.pending.end.orderStatus : undefined;
  return back ? [truth.orderStatus, back] : [truth.orderStatus];
}

/**
 * Local state versus the gateway's: CANCELED at the gateway ⇔ exactly one
 * `revoked` row and the local order CANCELED; PAID at the gateway ⇒ no
 * `revoked` row, nothing left queued/pending/sending, local order PAID.
 * And never more than one revoke/cancel effect per order.
 */
export function checkTruth(db: Db, gw: SandboxGateway, sns: Iterable<string>): TruthReport {
  const report: TruthReport = { checked: 0, mismatches: [], doubleEffects: [], revoked: 0, notRevoked: 0, needsAttentionPaid: 0 };
  const rowsOf = db.prepare('SELECT id, state FROM revokes WHERE order_sn = ? ORDER BY id');
  const orderOf = db.prepare('SELECT status FROM orders WHERE sn = ?');
  for (const sn of sns) {
    report.checked++;
    const truth = gw.getOrder(sn);
    const rows = rowsOf.all(sn) as Array<{ id: number; state: string }>;
    const local = (orderOf.get(sn) as { status: string } | undefined)?.status;
    const revokedRows = rows.filter((r) => r.state === 'revoked').length;
    const open = rows.filter((r) => r.state === 'queued' || r.state === 'pending' || r.state === 'sending').length;
    const effects = gw.effects('revoke', sn) + gw.effects('cancel', sn);
    if (effects > 1) report.doubleEffects.push(`${sn}: ${effects} effects`);
    if (!truth) {
      report.mismatches.push(`${sn}: unknown at the gateway`);
      continue;
    }
    if (truth.orderStatus === 'CANCELED') {
      report.revoked++;
      if (revokedRows !== 1 || local !== 'CANCELED') report.mismatches.push(`${sn}: gateway CANCELED, local rows ${JSON.stringify(rows)} order ${local}`);
      if (effects !== 1) report.mismatches.push(`${sn}: gateway CANCELED with ${effects} effects`);
    } else {
      report.notRevoked++;
      if (revokedRows !== 0 || open !== 0 || !acceptedStatuses(truth).includes(local ?? '')) {
        report.mismatches.push(`${sn}: gateway ${truth.orderStatus}, local rows ${JSON.stringify(rows)} order ${local}`);
      }
      if (rows.some((r) => r.state === 'needs_attention')) report.needsAttentionPaid++;
    }
  }
  return report;
}

export interface RefundTruthReport {
  checked: number;
  refunded: number;
  mismatches: string[];
  doubleRefunds: string[];
}

/**
 * Each refund order against the gateway's truth: refunded at most once there,
 * as many `refunded` rows here as refunds there, the same net amount and
 * status, and nothing left queued, pending or sending.
 */
export function checkRefundTruth(db: Db, gw: SandboxGateway, sns: Iterable<string>): RefundTruthReport {
  const report: RefundTruthReport = { checked: 0, refunded: 0, mismatches: [], doubleRefunds: [] };
  const rowsOf = db.prepare('SELECT id, state FROM refunds WHERE order_sn = ? ORDER BY id');
  const orderOf = db.prepare('SELECT status, net_cents FROM orders WHERE sn = ?');
  for (const sn of sns) {
    report.checked++;
    const truth = gw.getOrder(sn);
    const rows = rowsOf.all(sn) as Array<{ id: number; state: string }>;
    const local = orderOf.get(sn) as { status: string; net_cents: number } | undefined;
    if (!truth || !local) {
      report.mismatches.push(`${sn}: missing (gateway ${!!truth}, local ${!!local})`);
      continue;
    }
    if (truth.refunds.length > 1 || gw.effects('refund', sn) > 1) report.doubleRefunds.push(`${sn}: ${truth.refunds.length} refunds at the gateway`);
    const refunded = rows.filter((r) => r.state === 'refunded').length;
    const open = rows.filter((r) => ['queued', 'pending', 'sending'].includes(r.state)).length;
    report.refunded += refunded;
    if (refunded !== truth.refunds.length || open !== 0 || local.net_cents !== truth.netCents || local.status !== truth.orderStatus) {
      report.mismatches.push(`${sn}: gateway ${truth.orderStatus} net ${truth.netCents} refunds ${truth.refunds.length}, local ${local.status} net ${local.net_cents} rows ${JSON.stringify(rows)}`);
    }
  }
  return report;
}

/**
 * Orders that were asked both a revoke and a refund: one money effect at most
 * at the gateway (a void and a refund never both), at most one open operation
 * here, and the local rows agreeing with the gateway and with each other.
 */
export function checkMixedTruth(db: Db, gw: SandboxGateway, sns: Iterable<string>): { contradictions: string[]; doubleEffects: string[] } {
  const out = { contradictions: [] as string[], doubleEffects: [] as string[] };
  const revokesOf = db.prepare('SELECT state FROM revokes WHERE order_sn = ?').pluck();
  const refundsOf = db.prepare('SELECT state FROM refunds WHERE order_sn = ?').pluck();
  const orderOf = db.prepare('SELECT client_sn, status FROM orders WHERE sn = ?');
  const locks = db.prepare('SELECT count(*) FROM open_operations WHERE order_client_sn = ?').pluck();
  const OPEN = ['queued', 'pending', 'sending', 'needs_attention'];
  for (const sn of sns) {
    const truth = gw.getOrder(sn);
    const order = orderOf.get(sn) as { client_sn: string; status: string } | undefined;
    const revokes = revokesOf.all(sn) as string[];
    const refunds = refundsOf.all(sn) as string[];
    const effects = gw.effects('revoke', sn) + gw.effects('cancel', sn) + gw.effects('refund', sn);
    if (effects > 1) out.doubleEffects.push(`${sn}: ${effects} money effects (revoke+refund) at the gateway`);
    if (!truth || !order) {
      out.contradictions.push(`${sn}: missing (gateway ${!!truth}, local ${!!order})`);
      continue;
    }
    const open = [...revokes, ...refunds].filter((st) => OPEN.includes(st)).length;
    const accepted = acceptedStatuses(truth);
    const status = accepted[accepted.length - 1]!;
    const said = `gateway ${truth.orderStatus}${status !== truth.orderStatus ? ` (settling to ${status})` : ''}, local ${order.status}, revokes ${JSON.stringify(revokes)}, refunds ${JSON.stringify(refunds)}`;
    const revoked = revokes.filter((st) => st === 'revoked').length;
    const refunded = refunds.filter((st) => st === 'refunded').length;
    if (open > 1 || (locks.get(order.client_sn) as number) !== open) out.contradictions.push(`${sn}: ${open} open operations, lock rows ${String(locks.get(order.client_sn))}: ${said}`);
    if (revoked > 0 && refunded > 0) out.contradictions.push(`${sn}: revoked and refunded: ${said}`);
    if (!accepted.includes(order.status)) out.contradictions.push(`${sn}: ${said}`);
    if (status === 'CANCELED' && (revoked !== 1 || refunded !== 0)) out.contradictions.push(`${sn}: ${said}`);
    if (truth.refunds.length > 0 && (refunded !== truth.refunds.length || revoked !== 0)) out.contradictions.push(`${sn}: ${said}`);
    if (status === 'PAID' && (revoked !== 0 || refunded !== 0)) out.contradictions.push(`${sn}: ${said}`);
  }
  return out;
}
