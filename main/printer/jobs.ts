/**
 * Durable print jobs: what a job's receipt is (a revoke receipt's inputs and
 * layout; the print worker renders and stores its bytes when it first takes
 * it; reprints and test prints carry their bytes from the start), creating
 * them in the caller's transaction, and reading a revoke's receipt back for
 * the preview. The table's statements are in store/print-jobs.ts.
 *
 * All functions are synchronous and do no I/O beyond SQLite, so the revoke
 * engine can create the receipt job in the same transaction that records
 * `revoked`. Standalone calls (reprint, retry) open their own transaction.
 */
import type { Order, PrintJob, Revoke, TerminalInfo } from '../domain';
import { tx, type Db } from '../store/db';
import { getJobWithReceipt, insertPrintJob, originalJobId, type PrintJobKind } from '../store/print-jobs';
import { renderEscPos, type PrinterType } from './escpos';
import { renderHtml } from './html';
import { buildRevokeReceipt, buildRevokeReceiptCopy, buildTestReceipt, receiptSource, withStoreName, type ReceiptModel, type ReceiptOptions } from './receipt';
import { TerminalRepo } from '../store/terminal';
import { buildPaymentReceipt, buildReversalSlip } from './pay-receipt';
import { buildRefundReceipt } from './refund-receipt';

/** What the receipt looks like and which command set the printer speaks. */
export interface PrintSettings extends ReceiptOptions {
  printerType: PrinterType;
  /** The store's name from the settings: the receipt header when the terminal has none (receipt.ts withStoreName). */
  storeName?: string | null;
}

export const DEFAULT_PRINT_SETTINGS: PrintSettings = { paper: 58, chinese: true, printerType: 'EPSON' };

/** The activated terminal as receipts name it (the settings' store name when the gateway gave none), or null. */
export function receiptTerminal(db: Db, settings: Pick<PrintSettings, 'storeName'>): TerminalInfo | null {
  const terminal = new TerminalRepo(db).info();
  return terminal ? withStoreName(terminal, settings.storeName) : null;
}

export interface CreateRevokeReceiptJobInput {
  terminal: Pick<TerminalInfo, 'terminalSn' | 'merchantName' | 'storeSn' | 'storeName'>;
  order: Pick<Order, 'sn' | 'clientSn' | 'tradeNo' | 'totalCents' | 'netCents' | 'payway' | 'paywayName' | 'operator' | 'finishedAt'>;
  revoke: Pick<Revoke, 'id' | 'state' | 'operator' | 'revokedAt' | 'error'> & Partial<Pick<Revoke, 'approverName'>>;
  /** true: a reprint, marked 重打印 / COPY. Default false. */
  copy?: boolean;
  settings: PrintSettings;
  now: number;
}

export { getJob, listJobs, retryJob, toPrintJob, type JobFilter } from '../store/print-jobs';

/** Runs `fn` in the caller's transaction when there is one, else in its own. */
function inTx<T>(db: Db, fn: () => T): T {
  return db.inTransaction ? fn() : tx(db, fn);
}

function insertJob(
  db: Db,
  job: { revokeId: number | null; orderSn: string | null; kind: PrintJobKind; copy: boolean; model: ReceiptModel; bytes: Buffer | null; now: number },
): number {
  const { model, ...rest } = job;
  return insertPrintJob(db, { ...rest, receipt: storedModel(model) });
}

/**
 * What print_jobs.receipt keeps for a revoke, refund or payment receipt: its
 * inputs and layout options only (the lines are rebuilt by the same
 * deterministic builder when read), so the transaction that records the
 * outcome neither lays the receipt out nor writes its lines (a payment's were
 * 1.9 KB, a refund's 2.8 KB: a page or more of the commit of their own).
 */
export type ReceiptInputs = Omit<ReceiptModel, 'items' | 'columns'>;

/** An original's or a copy's inputs for `kind`, laid out with `options` when read: the stored JSON, what the outcome's transaction writes. */
export function storedInputs(
  kind: ReceiptInputs['kind'],
  options: ReceiptOptions,
  copy: boolean,
  printedAt: number,
  source: Pick<ReceiptInputs, 'source' | 'refundSource' | 'paymentSource'>,
): string {
  return JSON.stringify({ version: 1, kind, paper: options.paper, chinese: options.chinese, copy, printedAt, ...source } satisfies ReceiptInputs);
}

function storedModel(model: ReceiptModel): string {
  if (!model.source && !model.refundSource && !model.paymentSource) return JSON.stringify(model);
  const { items: _items, columns: _columns, ...compact } = model;
  return JSON.stringify(compact satisfies ReceiptInputs);
}

export function loadModel(json: string): ReceiptModel {
  const stored = JSON.parse(json) as ReceiptInputs & Partial<Pick<ReceiptModel, 'items' | 'columns'>>;
  if (stored.items && stored.columns !== undefined) return stored as ReceiptModel;
  const options = { paper: stored.paper, chinese: stored.chinese };
  if (stored.kind === 'revoke' && stored.source) return buildRevokeReceipt({ ...stored.source, copy: stored.copy, printedAt: stored.printedAt, options });
  if (stored.kind === 'refund' && stored.refundSource) return buildRefundReceipt(stored.refundSource, stored.copy, stored.printedAt, options);
  if (stored.kind === 'payment' && stored.paymentSource) return buildPaymentReceipt(stored.paymentSource, stored.printedAt, options);
  if (stored.kind === 'payment-slip' && stored.paymentSource) return buildReversalSlip(stored.paymentSource, stored.printedAt, options);
  throw new RangeError('stored receipt has neither lines nor inputs');
}

/**
 * Builds the revoke receipt, renders its bytes and queues it. The original
 * (copy=false) exists at most once per revoke: calling again returns the
 * existing job's id. Use inside the transaction that records the outcome.
 */
export function createRevokeReceiptJob(db: Db, input: CreateRevokeReceiptJobInput): number {
  const copy = input.copy ?? false;
  return inTx(db, () => {
    if (!copy) {
      const existing = originalJobId(db, input.revoke.id);
      if (existing !== null) return existing;
    }
    // Only the receipt's inputs and layout options are stored here; its lines are laid out when read
    // (preview) and its bytes rendered (and stored) by the print worker when it takes the job, with the
    // printer's command set of that moment: the transaction that records `revoked` stays small and quick.
    const receipt = storedInputs('revoke', input.settings, copy, input.now, { source: receiptSource(input) });
    return insertPrintJob(db, { revokeId: input.revoke.id, orderSn: input.order.sn, kind: 'revoke', copy, receipt, bytes: null, now: input.now });
  });
}

/**
 * Queues a reprint of a revoke's receipt from its stored original (same data,
 * COPY marker, new print time). `settings` default to the original's layout
 * with an EPSON command set. Throws when the revoke has no receipt yet.
 */
export function reprintRevokeReceipt(db: Db, input: { revokeId: number; now: number; settings?: PrintSettings }): number {
  return inTx(db, () => {
    const original = getReceiptForRevoke(db, input.revokeId);
    if (!original) throw new RangeError(`revoke ${input.revokeId} has no receipt to reprint`);
    const settings = input.settings ?? { ...DEFAULT_PRINT_SETTINGS, paper: original.model.paper, chinese: original.model.chinese };
    const model = buildRevokeReceiptCopy(original.model, input.now, { paper: settings.paper, chinese: settings.chinese });
    const bytes = renderEscPos(model, { printerType: settings.printerType });
    return insertJob(db, { revokeId: input.revokeId, orderSn: original.job.orderSn, kind: 'revoke', copy: true, model, bytes, now: input.now });
  });
}

export function createTestPrintJob(
  db: Db,
  input: { terminal: Pick<TerminalInfo, 'terminalSn' | 'merchantName' | 'storeSn' | 'storeName'> | null; settings: PrintSettings; now: number },
): number {
  const model = buildTestReceipt({ terminal: input.terminal, printedAt: input.now, options: { paper: input.settings.paper, chinese: input.settings.chinese } });
  const bytes = renderEscPos(model, { printerType: input.settings.printerType });
  return inTx(db, () => insertJob(db, { revokeId: null, orderSn: null, kind: 'test', copy: false, model, bytes, now: input.now }));
}

export interface StoredReceipt {
  job: PrintJob;
  model: ReceiptModel;
  /** The preview fragment, rendered from the same model as the bytes. */
  html: string;
}

export function getJobReceipt(db: Db, jobId: number): StoredReceipt | null {
  const row = getJobWithReceipt(db, jobId);
  if (!row) return null;
  const model = loadModel(row.receipt);
  return { job: row.job, model, html: renderHtml(model) };
}

/** The original receipt of a revoke (not a copy), or null when none was created. */
export function getReceiptForRevoke(db: Db, revokeId: number): StoredReceipt | null {
  const id = originalJobId(db, revokeId);
  return id === null ? null : getJobReceipt(db, id);
}
