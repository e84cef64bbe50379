/**
 * `upay-pos pay ...` and `upay-pos pay query`: taking a payment from the
 * command line (the issue's contract). Arguments are checked before any I/O
 * (exit 2, no gateway call). JSON: {outcome, order, payment, qrCode, error,
 * receipt}; exit 0 paid, 3 failed or canceled (final, no money taken),
 * 4 pending / needs_attention / awaiting_customer, 2 invalid input, 1 other.
 */
import { formatCny } from '../common/money';
import { fitsClientSn } from '../common/order-sn';
import { receiptLines } from '../common/receipt-text';
import { invalidInput, PosError } from '../errors';
import { paymentHeadline, paymentOutcome as payOutcome, type PayOutcome } from '../operations/pay/messages';
import { checkPaymentInput, parseAmountYuan, type PaymentInput } from '../operations/pay/request';
import type { Runtime } from '../runtime';
import { FINAL_PAYMENT_STATES, type Payment } from '../store/payments';
import { actor, cliAccountable, seconds, str, withRuntime, type CliContext } from './context';
import { showVirtual } from './format';


export interface PayCliReport {
  outcome: PayOutcome;
  /** The gateway's order as last seen (its field names), or null when no order is known. */
  order: { sn: string; client_sn: string; total_amount: string; order_status: string | null; payway: string | null; payway_name: string | null; trade_no: string | null } | null;
  payment: Payment;
  qrCode: string | null;
  error: { code: string; message: string; messageZh: string; gatewayCode: string | null; gatewayMessage: string | null } | null;
  receipt: { jobId: number; state: string; lines: string[] } | null;
}

export function exitForPay(outcome: PayOutcome): number {
  return outcome === 'paid' ? 0 : outcome === 'failed' || outcome === 'canceled' ? 3 : 4;
}

/** Every argument of `pay`, checked before anything is opened. */
export function payInput(ctx: CliContext): PaymentInput {
  const amountText = str(ctx, 'amount');
  if (amountText === undefined) throw invalidInput('--amount', 'is required', '必填');
  const amountCents = parseAmountYuan(amountText);
  const barcode = str(ctx, 'barcode');
  const qr = ctx.values.qr === true;
  const payway = str(ctx, 'payway');
  if ((barcode === undefined) === !qr) throw invalidInput('--barcode/--qr', 'give exactly one of --barcode CODE or --qr', '请提供 --barcode 付款码 或 --qr 之一');
  const subject = str(ctx, 'subject');
  return checkPaymentInput({
    amountCents,
    method: qr ? 'qr' : 'barcode',
    ...(barcode !== undefined ? { barcode } : {}),
    ...(payway !== undefined ? { payway } : {}),
    ...(subject !== undefined ? { subject } : {}),
    ...(ctx.global.operator !== undefined ? { operator: ctx.global.operator } : {}),
  });
}

async function settle(rt: Runtime, id: number, timeoutMs: number): Promise<Payment> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = rt.payments.get(id)!;
    if (FINAL_PAYMENT_STATES.includes(p.state) || p.state === 'needs_attention' || Date.now() >= until) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function payReport(rt: Runtime, p: Payment): Promise<PayCliReport> {
  const outcome = payOutcome(p);
  let receipt: PayCliReport['receipt'] = null;
  const stored = rt.paymentPrinting.receiptFor(p.id);
  if (stored) {
    const job = rt.printing.printerUri === 'none' ? null : await rt.printing.waitForJob(stored.jobId, 10_000);
    receipt = { jobId: stored.jobId, state: job?.state ?? 'pending', lines: receiptLines(stored.model.items) };
  }
  const words = paymentHeadline(p);
  const error =
    p.state === 'paid' || (p.error === null && p.state !== 'canceled')
      ? null
      : {
          code: p.error?.code ?? 'CANCELED',
          message: p.error?.messageEn ?? words.en,
          messageZh: p.error?.messageZh ?? words.zh,
          gatewayCode: p.error?.gatewayCode ?? null,
          gatewayMessage: p.error?.gatewayMessage ?? null,
        };
  const order = p.orderSn
    ? { sn: p.orderSn, client_sn: p.clientSn, total_amount: String(p.amountCents), order_status: p.orderStatus, payway: p.payway, payway_name: p.paywayName, trade_no: p.tradeNo }
    : null;
  return { outcome, order, payment: p, qrCode: p.qrCode, error, receipt };
}

export function humanPay(r: PayCliReport): string {
  const p = r.payment;
  const w = paymentHeadline(p);
  const lines = [`outcome: ${r.outcome}`, `${w.zh} / ${w.en}`, `payment #${p.id} ${p.clientSn} ${formatCny(p.amountCents)} ${p.state}${p.orderSn ? ` order ${p.orderSn}` : ''}`];
  if (r.qrCode) lines.push(`qr: ${r.qrCode}`);
  if (r.error) lines.push(`${r.error.code}: ${r.error.message}`, `  ${r.error.messageZh}`);
  if (r.receipt) lines.push(`receipt: job ${r.receipt.jobId} ${r.receipt.state}`);
  return lines.join('\n');
}

export async function pay(ctx: CliContext): Promise<number> {
  const input = payInput(ctx);
  const waitS = seconds(ctx, 'wait', 3600);
  return withRuntime(
    ctx,
    async ({ rt, virtual }) => {
      const onUpdate = (p: Payment) => ctx.progress(`payment ${p.id} (${p.clientSn}): ${p.state}`);
      rt.events.on('payment.updated', onUpdate);
      try {
        // Store IT's command: no same-amount confirmation (the counter's rule); the cap on open payments holds here too.
        let p = await rt.payments.request(input, cliAccountable(ctx), actor(ctx), { refuseSameAmountOpen: false });
        // The customer is standing there: a barcode payment is followed to its end (window plus reversal) unless told
        // otherwise; a QR is printed at once unless --wait asks to wait for the customer.
        const t = rt.payments.payTiming;
        const defaultWait = input.method === 'barcode' ? Math.ceil((t.payWindowMs + t.cancelRetryCapMs * 2) / 1000) : 0;
        const wait = waitS ?? defaultWait;
        if (wait > 0 && !FINAL_PAYMENT_STATES.includes(p.state)) p = await settle(rt, p.id, wait * 1000);
        const doc = await payReport(rt, p);
        showVirtual(ctx, virtual);
        ctx.out(doc, humanPay(doc));
        return exitForPay(doc.outcome);
      } finally {
        rt.events.off('payment.updated', onUpdate);
      }
    },
    { workers: true },
  );
}

export async function payQuery(ctx: CliContext): Promise<number> {
  const clientSn = str(ctx, 'client-sn');
  const idText = str(ctx, 'id');
  if ((clientSn === undefined) === (idText === undefined)) throw invalidInput('--client-sn/--id', 'give exactly one of --client-sn or --id', '请提供 --client-sn 或 --id 之一');
  if (idText !== undefined && !/^[1-9]\d{0,11}$/.test(idText)) throw invalidInput('--id', 'must be a payment id (a whole number)', '必须是收款记录编号（整数）');
  if (clientSn !== undefined && (clientSn === '' || !fitsClientSn(clientSn))) throw invalidInput('--client-sn', 'must be 1-32 bytes', '须为 1-32 字节');
  return withRuntime(ctx, async ({ rt }) => {
    const found = idText !== undefined ? rt.payments.get(Number(idText)) : rt.payments.byClientSn(clientSn!);
    if (!found) throw new PosError('PAYMENT_NOT_FOUND', '找不到此收款记录。', 'This payment was not found.', { ...(idText ? { id: Number(idText) } : { clientSn }) });
    const p = await rt.payments.queryAgain(found.id, actor(ctx));
    const doc = await payReport(rt, p);
    ctx.out(doc, humanPay(doc));
    return exitForPay(doc.outcome);
  });
}
