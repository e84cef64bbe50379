/** Receipt and printer commands. */
import type { Revoke } from '../domain';
import { invalidInput, PosError } from '../errors';
import type { OrderRef } from '../orders/service';
import type { Runtime } from '../runtime';
import { actor, orderRef, required, str, withRuntime, type CliContext } from './context';
import { receiptLines } from '../common/receipt-text';
import { showVirtual } from './format';

export async function printerStatus(ctx: CliContext): Promise<number> {
  return withRuntime(ctx, async ({ rt }) => {
    const s = await rt.printing.status();
    ctx.out({ printer: { uri: rt.printing.printerUri, ...s } }, `printer ${rt.printing.printerUri}: ${s.state}${s.detail ? ` (${s.detail})` : ''}`);
    return s.state === 'ok' ? 0 : 1;
  });
}

export async function printerTest(ctx: CliContext): Promise<number> {
  return withRuntime(ctx, async ({ rt, virtual }) => {
    const id = rt.printing.testPrint(actor(ctx));
    const job = await rt.printing.waitForJob(id, 15_000);
    showVirtual(ctx, virtual);
    ctx.out({ job }, `test print job ${id}: ${job?.state ?? 'unknown'}${job?.lastError ? ` (${job.lastError})` : ''}`);
    return job?.state === 'printed' ? 0 : 1;
  });
}

export async function receiptReprint(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  return withRuntime(ctx, async ({ rt, virtual }) => {
    const r = revokedFor(rt, ref);
    const id = rt.printing.reprint(r.id, actor(ctx));
    const job = await rt.printing.waitForJob(id, 15_000);
    showVirtual(ctx, virtual);
    ctx.out({ job }, `reprint job ${id} (COPY): ${job?.state ?? 'unknown'}${job?.lastError ? ` (${job.lastError})` : ''}`);
    return job?.state === 'printed' ? 0 : 1;
  });
}

export async function receiptShow(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  return withRuntime(ctx, async ({ rt }) => {
    const r = revokedFor(rt, ref);
    const receipt = rt.printing.receiptForRevoke(r.id);
    if (!receipt) throw new PosError('NO_RECEIPT', '此撤销没有凭证。', 'This revoke has no receipt.');
    const lines = receiptLines(receipt.model.items);
    ctx.out({ job: receipt.job, lines }, lines.join('\n'));
    return 0;
  });
}

export async function receiptJobs(ctx: CliContext): Promise<number> {
  const state = str(ctx, 'state');
  if (state !== undefined && state !== 'pending' && state !== 'printed' && state !== 'failed') {
    throw invalidInput('--state', 'must be pending, printed or failed');
  }
  return withRuntime(ctx, async ({ rt }) => {
    const jobs = rt.printing.jobs(state ? { state } : {});
    ctx.out(
      { jobs },
      jobs.length === 0
        ? 'no print jobs'
        : jobs
            .map((j) => `#${j.id} ${j.kind}${j.copy ? ' COPY' : ''} ${j.orderSn ?? '-'} ${j.state} attempts ${j.attempts}${j.lastError ? ` — ${j.lastError}` : ''}`)
            .join('\n'),
    );
    return 0;
  });
}

/** Puts a failed (or waiting) print job back in line and prints it now. */
export async function receiptRetry(ctx: CliContext): Promise<number> {
  const text = required(ctx, 'job');
  if (!/^\d{1,12}$/.test(text) || Number(text) < 1) throw invalidInput('--job', 'must be a print job number (see `receipt jobs`)');
  const id = Number(text);
  return withRuntime(ctx, async ({ rt, virtual }) => {
    const before = rt.printing.job(id);
    if (!before) throw new PosError('PRINT_JOB_NOT_FOUND', `找不到打印任务 ${id}。`, `Print job ${id} was not found.`, { jobId: id });
    if (before.state === 'printed') {
      throw new PosError('PRINT_JOB_PRINTED', `打印任务 ${id} 已打印；如需再打一份请用重打印。`, `Print job ${id} is already printed; use "receipt reprint" for a copy.`, { jobId: id });
    }
    rt.printing.retry(id, actor(ctx));
    const job = await rt.printing.waitForJob(id, 15_000);
    showVirtual(ctx, virtual);
    ctx.out({ job }, `print job ${id}: ${job?.state ?? 'unknown'}${job?.lastError ? ` (${job.lastError})` : ''}`);
    return job?.state === 'printed' ? 0 : 1;
  });
}

function revokedFor(rt: Runtime, ref: OrderRef): Revoke {
  const order = rt.orders.find(ref);
  const r = order && rt.revokes.forOrder(order.sn);
  if (!r || r.state !== 'revoked') {
    throw new PosError('NO_RECEIPT', '此订单没有成功的撤销，没有可打印的凭证。', 'This order has no successful revoke, so there is no receipt.', { ...ref });
  }
  return r;
}
