/**
 * Refund receipts and the day report on the printer: the receipt hand-off
 * given to the refund engine (a print job queued inside the `refunded`
 * transaction, the worker woken after its commit), reprints marked as copies,
 * and printing a day report.
 */
import type { Clock } from '../common/time';
import type { Order } from '../domain';
import { PosError } from '../errors';
import type { DayReport } from '../report/day';
import { audit } from '../store/audit';
import { tx, type Db } from '../store/db';
import { insertPrintJob, originalRefundJob } from '../store/print-jobs';
import { toRefund, type RefundRow } from '../store/refunds';
import { loadModel, receiptTerminal, storedInputs, type PrintSettings } from './jobs';
import type { ReceiptModel } from './receipt';
import type { ReceiptPort } from './receipt-port';
import { buildDayReportReceipt, buildRefundReceiptCopy, refundSource } from './refund-receipt';

export interface RefundPrintingDeps {
  db: Db;
  clock: Clock;
  settings: () => PrintSettings;
  /** Wakes the print worker. */
  kick: () => void;
}

export class RefundPrinting {
  constructor(private readonly deps: RefundPrintingDeps) {}

  readonly receipts: ReceiptPort<{ refund: RefundRow; order: Order }> = {
    queue: (stored: { refund: RefundRow; order: Order }, now: number) => {
      const s = this.deps.settings();
      const terminal = receiptTerminal(this.deps.db, s);
      if (!terminal) return;
      if (originalRefundJob(this.deps.db, stored.refund.id)) return;
      // Its inputs only: the lines are laid out when the receipt is read or printed (jobs.ts loadModel).
      const receipt = storedInputs('refund', s, false, now, { refundSource: refundSource({ terminal, order: stored.order, refund: toRefund(stored.refund) }) });
      insertPrintJob(this.deps.db, { revokeId: null, refundId: stored.refund.id, orderSn: stored.order.sn, kind: 'refund', copy: false, receipt, bytes: null, now });
    },
    wake: () => this.deps.kick(),
  };

  /** The original refund receipt (not a copy), or null when the refund has none (not refunded). */
  receiptFor(refundId: number): { jobId: number; model: ReceiptModel } | null {
    const row = originalRefundJob(this.deps.db, refundId);
    return row ? { jobId: row.id, model: loadModel(row.receipt) } : null;
  }

  /** A new job, marked as a copy, for a refund that has its receipt. */
  reprint(refundId: number, actor: string): number {
    const original = this.receiptFor(refundId);
    if (!original) throw new PosError('NO_RECEIPT', '此退款没有可重打印的凭证（退款尚未成功）。', 'This refund has no receipt to reprint (it has not succeeded).', { refundId });
    const now = this.deps.clock.now();
    const s = this.deps.settings();
    const id = tx(this.deps.db, () => {
      const model = buildRefundReceiptCopy(original.model, now, { paper: s.paper, chinese: s.chinese });
      const jobId = insertPrintJob(this.deps.db, { revokeId: null, refundId, orderSn: model.refundSource!.order.sn, kind: 'refund', copy: true, receipt: JSON.stringify(model), bytes: null, now });
      audit(this.deps.db, now, actor, 'print.reprint', null, { refundId, jobId });
      return jobId;
    });
    this.deps.kick();
    return id;
  }

  /** The day report's receipt (for the preview and the printer). */
  dayReportModel(report: DayReport): ReceiptModel {
    const s = this.deps.settings();
    return buildDayReportReceipt(report, receiptTerminal(this.deps.db, s), this.deps.clock.now(), { paper: s.paper, chinese: s.chinese });
  }

  /** Queues the day report on the printer. */
  printDayReport(report: DayReport, actor: string): number {
    const model = this.dayReportModel(report);
    const id = tx(this.deps.db, () => {
      const jobId = insertPrintJob(this.deps.db, { revokeId: null, orderSn: null, kind: 'report', copy: false, receipt: JSON.stringify(model), bytes: null, now: model.printedAt });
      audit(this.deps.db, model.printedAt, actor, 'print.printed', null, { jobId, kind: 'report', day: report.day, queued: true });
      return jobId;
    });
    this.deps.kick();
    return id;
  }
}
