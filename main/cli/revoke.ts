/** Revoke and queue commands. */
import { PosError } from '../errors';
import { actor, cliAccountable, orderRef, seconds, withRuntime, type CliContext } from './context';
import { describeRevoke, exitFor, finishReport, humanReport, progressFrom, settled, showVirtual, waitForRevoke } from './format';

export async function queueList(ctx: CliContext): Promise<number> {
  return withRuntime(ctx, async ({ rt }) => {
    const queue = rt.revokes.queueStatus();
    const open = rt.revokes.open();
    ctx.out(
      { queue, revokes: open },
      [`queued ${queue.queued}, pending ${queue.pending}, sending ${queue.sending}, needs attention ${queue.needsAttention}`, ...open.map(describeRevoke)].join('\n'),
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
        rt.revokes.setOnline(true);
        const deadline = Date.now() + timeoutS * 1000;
        // Work until nothing sendable or resolvable is left, or the time is up.
        for (;;) {
          const q = rt.revokes.queueStatus();
          if (q.queued + q.pending + q.sending === 0 || Date.now() >= deadline) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await rt.printing.worker.drainOnce();
        const after = rt.revokes.queueStatus();
        const open = rt.revokes.open();
        ctx.out(
          { before, after, revokes: open },
          `drained: queued ${before.queued} → ${after.queued}, pending ${before.pending} → ${after.pending}, needs attention ${after.needsAttention}`,
        );
        return after.queued + after.pending + after.sending + after.needsAttention === 0 ? 0 : 4;
      } finally {
        unsubscribe();
      }
    },
    { workers: true },
  );
}
