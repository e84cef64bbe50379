/**
 * `upay-pos refund ...` and `upay-pos refund query --id N`: the refund
 * contract for store IT (same conventions as `revoke`). JSON:
 * {outcome, order, refund, error, receipt}; exit 0 refunded, 3 rejected,
 * 4 not final yet, 2 invalid input (no call), 1 other.
 */
import { formatCny, parseYuan } from '../common/money';
import { receiptLines } from '../common/receipt-text';
import type { Order } from '../domain';
import { invalidInput, PosError } from '../errors';
import type { Runtime } from '../runtime';
import type { Refund } from '../store/refunds';
import { actor, cliAccountable, orderRef, seconds, str, withRuntime, type CliContext } from './context';
import { describeOrder, showVirtual } from './format';

export type RefundOutcome = 'refunded' | 'rejected' | 'pending' | 'needs_attention' | 'queued';

export interface RefundCliReport {
  outcome: RefundOutcome;
  order: Order | null;
  refund: Refund | null;
  error: { code: string; message: string; messageZh: string; gatewayCode: string | null; gatewayMessage: string | null } | null;
  receipt: { jobId: number; state: string; copy: boolean; error: string | null; lines: string[] } | null;
}

/** `--amount` in yuan with at most two decimals, or `--full`; anything else is invalid input before any I/O. */
export function refundAmount(ctx: CliContext): number | 'full' {
  const text = str(ctx, 'amount');
  const full = ctx.values.full === true;
  if ((text === undefined) === !full) throw invalidInput('--amount/--full', 'give exactly one of --amount YUAN or --full', '请提供 --amount 金额 或 --full 之一');
  if (full) return 'full';
  const cents = /^\d{1,8}(\.\d{1,2})?$/.test(text!) ? parseYuan(text!) : undefined;
  if (cents === undefined || cents <= 0) throw invalidInput('--amount', 'must be yuan above zero with at most two decimals, e.g. 12.34', '必须是大于零、最多两位小数的金额（元），例如 12.34');
  return cents;
}

export function refundOutcome(state: Refund['state']): RefundOutcome {
  return state === 'sending' ? 'pending' : state;
}

function exitForRefund(outcome: RefundOutcome): number {
  return outcome === 'refunded' ? 0 : outcome === 'rejected' ? 3 : 4;
}

async function settleRefund(rt: Runtime, id: number, timeoutMs: number): Promise<Refund> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = rt.refunds.get(id)!;
    if (['refunded', 'rejected', 'needs_attention'].includes(r.state) || Date.now() >= until) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function report(rt: Runtime, r: Refund): Promise<RefundCliReport> {
  let receipt: RefundCliReport['receipt'] = null;
  if (r.state === 'refunded') {
    const stored = rt.refundPrinting.receiptFor(r.id);
    if (stored) {
      // With no printer configured the job waits for one: nothing to wait for here.
      const job = rt.printing.printerUri === 'none' ? null : await rt.printing.waitForJob(stored.jobId, 10_000);
      receipt = { jobId: stored.jobId, state: job?.state ?? 'pending', copy: false, error: job?.lastError ?? null, lines: receiptLines(stored.model.items) };
    }
  }
  const error = r.error && r.state !== 'refunded' ? { code: r.error.code, message: r.error.messageEn, messageZh: r.error.messageZh, gatewayCode: r.error.gatewayCode, gatewayMessage: r.error.gatewayMessage } : null;
  return { outcome: refundOutcome(r.state), order: rt.orders.get(r.orderSn) ?? null, refund: r, error, receipt };
}

function human(r: RefundCliReport): string {
  const lines = [`outcome: ${r.outcome}`];
  if (r.order) lines.push(describeOrder(r.order));
  if (r.refund) lines.push(`refund #${r.refund.id} ${r.refund.requestNo} ${formatCny(r.refund.amountCents)} ${r.refund.state}`);
  if (r.error) {
    lines.push(`${r.error.code}: ${r.error.message}`, `  ${r.error.messageZh}`);
    if (r.error.gatewayCode || r.error.gatewayMessage) lines.push(`  gateway: ${r.error.gatewayCode ?? ''} ${r.error.gatewayMessage ?? ''}`.trimEnd());
  }
  if (r.receipt) lines.push(`receipt: job ${r.receipt.jobId} ${r.receipt.state}`);
  return lines.join('\n');
}

/** Local refusals (amount, state, one open refund) are the outcome `rejected` with no call; exit 3. */
function locallyRefused(err: unknown): err is PosError {
  return err instanceof PosError && err.code.startsWith('REFUND_') && err.code !== 'REFUND_NOT_FOUND';
}

export async function refund(ctx: CliContext): Promise<number> {
  const ref = orderRef(ctx);
  const amount = refundAmount(ctx);
  const who = cliAccountable(ctx);
  const wait = seconds(ctx, 'wait', 3600) ?? 0;
  return withRuntime(
    ctx,
    async ({ rt, virtual }) => {
      const onUpdate = (r: Refund) => ctx.progress(`refund ${r.id} (${r.orderSn}): ${r.state}${r.error ? ` — ${r.error.messageEn}` : ''}`);
      rt.events.on('refund.updated', onUpdate);
      try {
        let r: Refund;
        try {
          r = await rt.refunds.request(ref, amount, who, actor(ctx));
        } catch (err) {
          if (!locallyRefused(err)) throw err;
          const doc: RefundCliReport = {
            outcome: 'rejected',
            order: rt.orders.find(ref) ?? null,
            refund: null,
            error: { code: err.code, message: err.message, messageZh: err.messageZh, gatewayCode: null, gatewayMessage: null },
            receipt: null,
          };
          ctx.out(doc, human(doc));
          return 3;
        }
        if (wait > 0 && !['refunded', 'rejected', 'needs_attention'].includes(r.state)) r = await settleRefund(rt, r.id, wait * 1000);
        const doc = await report(rt, r);
        showVirtual(ctx, virtual);
        ctx.out(doc, human(doc));
        return exitForRefund(doc.outcome);
      } finally {
        rt.events.off('refund.updated', onUpdate);
      }
    },
    { workers: true },
  );
}

export async function refundQuery(ctx: CliContext): Promise<number> {
  const idText = str(ctx, 'id');
  if (idText === undefined || !/^[1-9]\d{0,11}$/.test(idText)) throw invalidInput('--id', 'must be a refund id (a whole number)', '必须是退款记录编号（整数）');
  return withRuntime(ctx, async ({ rt }) => {
    const r = await rt.refunds.queryAgain(Number(idText), actor(ctx));
    const doc = await report(rt, r);
    ctx.out(doc, human(doc));
    return exitForRefund(doc.outcome);
  });
}
