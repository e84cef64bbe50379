/** How the CLI shows orders, revokes and receipts, and waits for a revoke to settle. */
import type { Order, Revoke } from '../domain';
import type { Runtime } from '../runtime';
import type { VirtualPrinter } from '../sandbox';
import { formatCny } from '../common/money';
import { receiptLines } from '../common/receipt-text';
import { formatCst } from '../common/time';
import type { CliContext } from './context';
import { type revokeOutcome, type RevokeReport, revokeReport } from './report';

export function progressFrom(ctx: CliContext, rt: Runtime): () => void {
  const onRevoke = (r: Revoke) => ctx.progress(`revoke ${r.id} (${r.orderSn}): ${r.state}${r.error ? ` — ${r.error.messageEn}` : ''}`);
  const onWarning = (w: { messageEn: string }) => ctx.progress(`warning: ${w.messageEn}`);
  const onConn = (c: { online: boolean }) => ctx.progress(c.online ? 'gateway reachable' : 'gateway unreachable');
  rt.events.on('revoke.updated', onRevoke);
  rt.events.on('revoke.warning', onWarning);
  rt.events.on('connectivity.changed', onConn);
  return () => {
    rt.events.off('revoke.updated', onRevoke);
    rt.events.off('revoke.warning', onWarning);
    rt.events.off('connectivity.changed', onConn);
  };
}

export function settled(r: Revoke): boolean {
  return r.state === 'revoked' || r.state === 'rejected' || r.state === 'expired' || r.state === 'needs_attention';
}

/** Waits (reading the database, so another process's progress counts too) until the revoke settles. */
export async function waitForRevoke(rt: Runtime, id: number, timeoutMs: number): Promise<Revoke> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = rt.revokes.get(id)!;
    if (settled(r) || Date.now() >= until) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

export async function finishReport(rt: Runtime, r: Revoke): Promise<RevokeReport> {
  const order = rt.orders.get(r.orderSn) ?? null;
  let receipt = null;
  if (r.state === 'revoked') {
    const stored = rt.printing.receiptForRevoke(r.id);
    if (stored) {
      const job = (await rt.printing.waitForJob(stored.job.id, 10_000)) ?? stored.job;
      receipt = { jobId: job.id, state: job.state, copy: job.copy, error: job.lastError, lines: receiptLines(stored.model.items) };
    }
  }
  return revokeReport(r, order, receipt);
}

export function humanReport(r: RevokeReport): string {
  const lines = [`outcome: ${r.outcome}`];
  if (r.order) lines.push(describeOrder(r.order as Order));
  if (r.error) {
    lines.push(`${r.error.code}: ${r.error.message}`, `  ${r.error.messageZh}`);
    if (r.error.gatewayCode || r.error.gatewayMessage) lines.push(`  gateway: ${r.error.gatewayCode ?? ''} ${r.error.gatewayMessage ?? ''}`.trimEnd());
  }
  if (r.receipt) lines.push(`receipt: job ${r.receipt.jobId} ${r.receipt.state}${r.receipt.error ? ` (${r.receipt.error})` : ''}`);
  return lines.join('\n');
}

export function exitFor(outcome: ReturnType<typeof revokeOutcome>): number {
  switch (outcome) {
    case 'revoked':
      return 0;
    case 'rejected':
    case 'expired':
      return 3;
    default:
      return 4;
  }
}

export function describeOrder(o: Order): string {
  return `${o.sn}  ${o.clientSn}  ${formatCny(o.totalCents)}  ${o.paywayName ?? o.payway ?? '-'}  ${o.status}  ${formatCst(o.finishedAt)}`;
}

export function describeRevoke(r: Revoke): string {
  return `#${r.id} ${r.orderSn} ${r.state} attempts ${r.attempts} queries ${r.queries}${r.error ? ` — ${r.error.messageEn}` : ''}`;
}

export function showVirtual(ctx: CliContext, virtual: VirtualPrinter | null): void {
  if (!virtual) return;
  for (const job of virtual.jobs()) ctx.progress(`virtual printer job ${job.id}:\n${job.decoded.text}`);
}
