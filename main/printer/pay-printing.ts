/**
 * Payment receipts on the printer: the hand-off given to the payment engine
 * (a print job queued inside the transaction that records paid, or canceled
 * with money returned; the worker woken after its commit) and reading the
 * receipt back for the CLI and the counter.
 */
import type { Clock } from '../common/time';
import type { Db } from '../store/db';
import { insertPaymentJob, paymentJob } from '../store/print-jobs';
import { toPayment } from '../store/payments';
import { loadModel, receiptTerminal, storedInputs, type PrintSettings } from './jobs';
import { paymentSource } from './pay-receipt';
import type { Order } from '../domain';
import type { PaymentRow } from '../store/payments';
import type { ReceiptModel } from './receipt';
import type { ReceiptPort } from './receipt-port';

export interface PaymentPrintingDeps {
  db: Db;
  clock: Clock;
  settings: () => PrintSettings;
  kick: () => void;
}

export class PaymentPrinting {
  constructor(private readonly deps: PaymentPrintingDeps) {}

  readonly receipts: ReceiptPort<{ payment: PaymentRow; order: Order | null }> = {
    queue: ({ payment }, now) => {
      const s = this.deps.settings();
      const terminal = receiptTerminal(this.deps.db, s);
      if (!terminal) return;
      const p = toPayment(payment);
      // Its inputs only: the lines are laid out when the receipt is read or printed (jobs.ts loadModel).
      const receipt = storedInputs(p.state === 'paid' ? 'payment' : 'payment-slip', s, false, now, { paymentSource: paymentSource({ terminal, payment: p }) });
      insertPaymentJob(this.deps.db, { paymentId: p.id, orderSn: null, receipt, now });
    },
    wake: () => this.deps.kick(),
  };

  /** The payment's receipt (or slip), or null when it has none. */
  receiptFor(paymentId: number): { jobId: number; model: ReceiptModel } | null {
    const row = paymentJob(this.deps.db, paymentId);
    return row ? { jobId: row.id, model: loadModel(row.receipt) } : null;
  }
}
