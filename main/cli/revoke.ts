/** Revoke and queue commands. */
import { PosError } from '../errors';
import { actor, cliAccountable, orderRef, seconds, withRuntime, type CliContext } from './context';
import { describeRevoke, exitFor, finishReport, humanReport, progressFrom, settled, showVirtual, waitForRevoke } from './format';

export async function queueList(ctx: CliContext): Promise<number> {
  return withRuntime(ctx, async ({ rt }) => {
    const queue = rt.revokes.queueStatus();
    const open = rt.revokes.open();
    const refunds = rt.refunds.open();
    const rq = rt.refunds.queueStatus();
    const payments = rt.payments.open();
    const pq = rt.payments.queueStatus();
    // `counter`: every kind summed, as the app's status bar shows it; `queue`: the revokes' (kept for scripts).
    const counter = rt.queueStatus();
    ctx.out(
      { counter, queue, revokes: open, refundQueue: rq, refunds, paymentQueue: pq, payments },
      [
        `all kinds: queued ${counter.queued}, pending ${counter.pending}, sending ${counter.sending}, needs attention ${counter.needsAttention}`,
        `revokes: queued ${queue.queued}, pending ${queue.pending}, sending ${queue.sending}, needs attention ${queue.needsAttention}`,
        ...open.map(describeRevoke),
        `refunds: queued ${rq.queued}, pending ${rq.pending}, sending ${rq.sending}, needs attention ${rq.needsAttention}`,
        ...refunds.map((r) => `#${r.id} ${r.orderSn} refund ${r.requestNo} ${r.amountCents} ${r.state}${r.error ? ` — ${r.error.messageEn}` : ''}`),
        `payments: open ${payments.length}, pending ${pq.pending}, sending ${pq.sending}, needs attention ${pq.needsAttention}`,
        ...payments.map((p) => `#${p.id} ${p.clientSn} payment ${p.method} ${p.amountCents} ${p.state}${p.orderSn ? ` order ${p.orderSn}` : ''}`),
      ].join('\n'),
    );
    return 0;
  });
}

export async function revoke(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  const wait = seconds(ctx, 'wait', 3600) ?? 0;
  return withRuntime(
    ctx,
    async ({ rt, virtual }) => {
      const unsubscribe = progressFrom(ctx, rt);
      try {
        let r = await rt.revokes.request(ref, cliAccountable(ctx), actor(ctx));
        ctx.progress(`revoke ${r.id}: ${r.state}`);
        if (wait > 0 && !settled(r)) r = await waitForRevoke(rt, r.id, wait * 1000);
        const report = await finishReport(rt, r);
        showVirtual(ctx, virtual);
        ctx.out(report, humanReport(report));
        return exitFor(report.outcome);
      } finally {
        unsubscribe();
      }
    },
    { workers: true },
  );
}

export async function revokeQuery(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  return withRuntime(ctx, async ({ rt }) => {
    const order = rt.orders.find(ref);
    const existing = order && rt.revokes.forOrder(order.sn);
    if (!order || !existing) throw new PosError('REVOKE_NOT_FOUND', '此订单没有撤销记录。', 'This order has no revoke.', { ...ref });
    const r = await rt.revokes.queryAgain(existing.id, actor(ctx));
    const report = await finishReport(rt, r);
    ctx.out(report, humanReport(report));
    return exitFor(report.outcome);
  });
}

export async function queueDrain(ctx: CliContext): Promise<number> {
  const timeoutS = seconds(ctx, 'timeout', 3600) ?? 120;
  return withRuntime(
    ctx,
    async ({ rt }) => {
      const unsubscribe = progressFrom(ctx, rt);
      try {
        const before = rt.revokes.queueStatus();
        ctx.progress(`draining: queued ${before.queued}, pending ${before.pending}`);
        const refundsBefore = rt.refunds.queueStatus();
        rt.revokes.setOnline(true);
        rt.refunds.setOnline(true);
        // Open payments are asked about now; those past their window are canceled (冲正) by the worker.
        const paymentsBefore = rt.payments.open().length;
        await rt.payments.wakeAll();
        const deadline = Date.now() + timeoutS * 1000;
        const busy = (q: { queued: number; pending: number; sending: number }) => q.queued + q.pending + q.sending;
        // Work until nothing sendable or resolvable is left, or the time is up.
        for (;;) {
          if (busy(rt.revokes.queueStatus()) + busy(rt.refunds.queueStatus()) + rt.payments.open().length === 0 || Date.now() >= deadline) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await rt.printing.worker.drainOnce();
        const after = rt.revokes.queueStatus();
        const open = rt.revokes.open();
        const refundsAfter = rt.refunds.queueStatus();
        const paymentsOpen = rt.payments.open();
        ctx.out(
          { before, after, revokes: open, refundsBefore, refundsAfter, refunds: rt.refunds.open(), paymentsBefore, paymentsAfter: paymentsOpen.length, payments: paymentsOpen },
          `drained: queued ${before.queued} → ${after.queued}, pending ${before.pending} → ${after.pending}, needs attention ${after.needsAttention}; ` +
            `refunds queued ${refundsBefore.queued} → ${refundsAfter.queued}, pending ${refundsBefore.pending} → ${refundsAfter.pending}, needs attention ${refundsAfter.needsAttention}; ` +
            `payments open ${paymentsBefore} → ${paymentsOpen.length}`,
        );
        return busy(after) + after.needsAttention + busy(refundsAfter) + refundsAfter.needsAttention + paymentsOpen.length === 0 ? 0 : 4;
      } finally {
        unsubscribe();
      }
    },
    { workers: true },
  );
}
