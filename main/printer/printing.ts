/**
 * Receipts as the runtime offers them: the receipt hand-off given to the
 * money-operation core (a print job queued inside the `revoked` transaction,
 * the worker woken after its commit), reprints, test prints, printer status,
 * and the print worker wired to the configured printer.
 */
import type { Clock } from '../common/time';
import type { Order, PrintJob } from '../domain';
import { PosError } from '../errors';
import type { RuntimeEvents } from '../events';
import { audit } from '../store/audit';
import { tx, type Db } from '../store/db';
import { toRevoke, type RevokeRow } from '../store/revokes';
import type { Settings } from '../store/settings';
import { createRevokeReceiptJob, createTestPrintJob, getJob, getReceiptForRevoke, listJobs, receiptTerminal, reprintRevokeReceipt, retryJob, type JobFilter, type PrintSettings, type StoredReceipt } from './jobs';
import type { ReceiptPort } from './receipt-port';
import { createPrinterTransport, PrinterError, type PrinterStatus, type PrinterTransport } from './transport';
import { parsePrinterUri, PrinterUriError, resolvePrinterUri } from './uri';
import { PrintWorker } from './worker';

export interface PrintingDeps {
  db: Db;
  clock: Clock;
  events: RuntimeEvents;
  settings: () => Settings;
  /** The printer URI (flag/env/setting), `virtual` allowed when `virtualPrinterUri` is given. */
  printer: string;
  /** Address of an embedded virtual printer, when one runs in this process. */
  virtualPrinterUri?: string | null;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
  worker?: { backoffBaseMs?: number; backoffMaxMs?: number; pollMs?: number; maxAttempts?: number };
  /**
   * 'own': print only the jobs this process asks for (waitForJob), never the counter's other waiting receipts:
   * a process given a printer of its own (the CLI's --printer). Default 'all'.
   */
  scope?: 'all' | 'own';
}

export const printerNotConfigured = () =>
  new PosError('PRINTER_NOT_CONFIGURED', '未配置打印机：请在设置中选择打印机。', 'No printer is configured: choose one in the settings.');

export class Printing {
  readonly worker: PrintWorker;
  /** The jobs this process may print, when its scope is its own jobs. */
  private readonly own: Set<number> | undefined;
  private transport: PrinterTransport;
  private uri: string;

  constructor(private readonly deps: PrintingDeps) {
    this.uri = deps.printer;
    this.transport = this.startTransport(deps.printer);
    this.own = deps.scope === 'own' ? new Set() : undefined;
    this.worker = new PrintWorker({
      ...(this.own ? { only: this.own } : {}),
      db: deps.db,
      clock: deps.clock,
      printer: () => this.transport,
      printerType: () => this.printSettings().printerType,
      ...(deps.log ? { logger: (level, message) => deps.log?.(level, message) } : {}),
      ...deps.worker,
    });
    this.worker.on('job', (job) => deps.events.emit('print.updated', { jobId: job.id, state: job.state, error: job.lastError }));
    this.worker.on('status', (s) => deps.events.emit('printer.changed', { status: s.state, detail: s.detail ?? null }));
  }

  /** The printer as configured (virtual shown as such). */
  get printerUri(): string {
    return this.uri;
  }

  /** Throws PrinterUriError when `uri` cannot be this process's printer (checked before a setting is stored). */
  checkPrinter(uri: string): void {
    this.makeTransport(uri);
  }

  /** Swaps the printer (settings change); validates the URI first. */
  setPrinter(uri: string): void {
    this.transport = this.makeTransport(uri);
    this.uri = uri;
    this.worker.kick();
  }

  printSettings(): PrintSettings {
    const s = this.deps.settings();
    return { paper: s.paperWidth, chinese: s.receiptChinese, printerType: s.printerType, storeName: s.storeName ?? null };
  }

  /** The revoke receipt's hand-off: queued inside the transaction that records `revoked`, printed after its commit. */
  readonly revokeReceipts: ReceiptPort<{ revoke: RevokeRow; order: Order }> = {
    queue: (stored, now) => {
      const terminal = receiptTerminal(this.deps.db, this.printSettings());
      if (!terminal) return;
      createRevokeReceiptJob(this.deps.db, { terminal, order: stored.order, revoke: toRevoke(stored.revoke), settings: this.printSettings(), now });
    },
    wake: () => this.worker.kick(),
  };

  start(): void {
    this.worker.start();
  }

  async stop(): Promise<void> {
    await this.worker.stop();
  }

  kick(): void {
    this.worker.kick();
  }

  async status(): Promise<PrinterStatus> {
    const s = await this.worker.checkStatus();
    return { state: s.state, detail: s.detail };
  }

  testPrint(actor: string): number {
    const now = this.deps.clock.now();
    const terminal = receiptTerminal(this.deps.db, this.printSettings());
    const id = tx(this.deps.db, () => {
      const jobId = createTestPrintJob(this.deps.db, { terminal, settings: this.printSettings(), now });
      audit(this.deps.db, now, actor, 'print.printed', null, { jobId, kind: 'test', queued: true });
      return jobId;
    });
    this.worker.kick();
    return id;
  }

  /** A new job, marked as a copy, for a revoke that already has its receipt. */
  reprint(revokeId: number, actor: string): number {
    const now = this.deps.clock.now();
    if (!getReceiptForRevoke(this.deps.db, revokeId)) {
      throw new PosError('NO_RECEIPT', '此撤销没有可重打印的凭证（撤销尚未成功）。', 'This revoke has no receipt to reprint (it has not succeeded).', { revokeId });
    }
    const id = tx(this.deps.db, () => {
      const jobId = reprintRevokeReceipt(this.deps.db, { revokeId, now, settings: this.printSettings() });
      audit(this.deps.db, now, actor, 'print.reprint', null, { revokeId, jobId });
      return jobId;
    });
    this.worker.kick();
    return id;
  }

  receiptForRevoke(revokeId: number): StoredReceipt | null {
    return getReceiptForRevoke(this.deps.db, revokeId);
  }

  jobs(filter: JobFilter = {}): PrintJob[] {
    return listJobs(this.deps.db, filter);
  }

  job(id: number): PrintJob | null {
    return getJob(this.deps.db, id);
  }

  retry(id: number, actor: string): boolean {
    const now = this.deps.clock.now();
    const changed = tx(this.deps.db, () => {
      const ok = retryJob(this.deps.db, id, now);
      if (ok) audit(this.deps.db, now, actor, 'print.retry', null, { jobId: id });
      return ok;
    });
    if (changed) this.worker.kick();
    return changed;
  }

  /** Runs print passes until the job is printed or failed, or the time is up; returns its last state. */
  async waitForJob(id: number, timeoutMs: number): Promise<PrintJob | null> {
    const until = Date.now() + timeoutMs;
    this.own?.add(id);
    for (;;) {
      const job = getJob(this.deps.db, id);
      if (!job || job.state !== 'pending' || Date.now() >= until) return job;
      const result = await this.worker.drainOnce();
      const after = getJob(this.deps.db, id);
      if (!after || after.state !== 'pending' || Date.now() >= until) return after;
      if (result.blockedBy || after.attempts > 0) await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, until - Date.now()))));
    }
  }

  /**
   * The printer the process starts with. A stored destination this version
   * refuses (a file path kept from an older version, `virtual` outside the
   * sandbox) must not stop the counter: receipts wait, nothing is written,
   * and the status names the fix.
   */
  private startTransport(uri: string): PrinterTransport {
    try {
      return this.makeTransport(uri);
    } catch (err) {
      if (!(err instanceof PrinterUriError)) throw err;
      const detail = `${err.message} Fix: upay-pos settings set printer=tcp://HOST:9100 (or printer= to clear it)`;
      this.deps.log?.('warn', `printer refused: ${detail}`);
      return {
        uri,
        reportsStatus: false,
        send: () => Promise.reject(new PrinterError('PRINTER_NOT_CONFIGURED', detail)),
        status: () => Promise.resolve({ state: 'none', detail }),
      };
    }
  }

  private makeTransport(uri: string): PrinterTransport {
    const parsed = parsePrinterUri(uri);
    return createPrinterTransport(resolvePrinterUri(parsed, this.deps.virtualPrinterUri ?? null));
  }
}
