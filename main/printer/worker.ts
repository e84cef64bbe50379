/**
 * The print worker: takes due pending jobs from print_jobs in id order,
 * leases one (store/locks.ts's lease rule, so two processes sharing the
 * database never send the same job at once), asks the printer for its status, sends
 * the bytes, and marks the job printed only after the transport confirmed
 * the printer took every byte. Failures back off exponentially (capped) and
 * end in 'failed' after `maxAttempts` sends; a printer that reports itself
 * not ready (offline, paper out, cover open, none configured) blocks the
 * queue without spending attempts, so a receipt waits for the paper roll
 * rather than failing.
 *
 * At-most-once window: a crash after the printer took the bytes and before
 * the 'printed' commit leaves the job pending with a lease; once the lease
 * expires it prints again, unmarked. That window (one SQLite commit) is the
 * only way an original prints twice. A lease must therefore outlast a send
 * (connect + write timeouts), which the defaults do by a wide margin. A
 * send that succeeded is recorded as printed even if its lease was lost
 * meanwhile (store/print-jobs.ts markPrinted), and a retry never clears a
 * live lease, so neither leads to a second send.
 *
 * Unconfirmed writes: a device write that times out cannot be cancelled; its
 * bytes may still print (paper loaded, printer back on line). The transport
 * then hands back the write (`PrinterError.outstanding`) and refuses every
 * other write until it ends. The job is held, not failed: its lease is
 * marked unconfirmed and renewed at every pass, no attempt is retried, and
 * the worker records the write's real end — printed when the device took the
 * bytes, failed (for a person to check the paper) when it errored. If the
 * process ends first, the job's hold lapses into `failed` with a note to
 * check the paper: never a blind second send.
 */
import { EventEmitter } from 'node:events';
import type { PrintJob } from '../domain';
import { tx, type Db } from '../store/db';
import { backoff } from '../common/backoff';
import { newOwnerId } from '../store/locks';
import * as jobs from '../store/print-jobs';
import type { Clock } from '../common/time';
import { renderEscPos, type PrinterType } from './escpos';
import { loadModel } from './jobs';
import { PrinterError, type PrinterStatus, type PrinterTransport } from './transport';

export type PrintLogger = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface PrinterStatusEvent extends PrinterStatus {
  at: number;
}

export interface PrintWorkerEvents {
  /** A job changed (printed, failed attempt, failed for good, blocked by the printer). */
  job: [PrintJob];
  /** The printer's state or detail changed. */
  status: [PrinterStatusEvent];
}

export interface PrintWorkerOptions {
  db: Db;
  /** The printer, or a getter so the runtime can swap it when the setting changes. */
  printer: PrinterTransport | (() => PrinterTransport);
  clock: Clock;
  logger?: PrintLogger;
  /** Unique per process and worker by default. */
  owner?: string;
  /** Default 60 s; must exceed connect + write timeouts. */
  leaseMs?: number;
  /** Sends before a job is 'failed'. Default 20. */
  maxAttempts?: number;
  /** Backoff after the n-th failure: min(maxMs, baseMs * 2^(n-1)). Defaults 2 s and 5 min. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How often the running worker looks again when nothing is due / the printer is blocked. Default 5 s. */
  pollMs?: number;
  /** The command set receipts are rendered in when a job has no bytes yet. Default EPSON. */
  printerType?: () => PrinterType;
  /** Ask the printer before each job (only for printers that report status). Default true. */
  statusCheck?: boolean;
  /**
   * These jobs alone, when set (added to as the process asks for them): a process printing on a printer other
   * than the counter's (the CLI's --printer) must not take the counter's waiting receipts to it.
   */
  only?: ReadonlySet<number>;
}

export interface DrainResult {
  printed: number;
  failed: number;
  /** Set when the printer's state kept jobs from being sent (also: a write still waiting for the printer). */
  blockedBy: PrinterStatus | null;
}

/** Why a job held unconfirmed is failed when its hold lapsed (its process ended before the write did). */
export const UNCONFIRMED_LAPSED =
  'the printer had not confirmed this receipt when the print worker stopped (write timed out): it may have printed. Check the paper; retry only if it did not print';

type ClaimedJob = jobs.LeasedJob;

const BLOCKING: ReadonlySet<PrinterStatus['state']> = new Set(['offline', 'paper_out', 'cover_open', 'none']);

export class PrintWorker extends EventEmitter<PrintWorkerEvents> {
  readonly owner: string;
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly log: PrintLogger;
  private lastBlocked: { key: string; at: number } | null = null;
  private readonly printerType: () => PrinterType;
  private readonly getPrinter: () => PrinterTransport;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly pollMs: number;
  private readonly statusCheck: boolean;
  private readonly only: ReadonlySet<number> | undefined;

  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<DrainResult> | null = null;
  private rerun = false;
  private lastStatus: PrinterStatusEvent | null = null;
  /** Jobs held unconfirmed by this worker: their writes are still outstanding. */
  private readonly unconfirmed = new Set<number>();

  constructor(options: PrintWorkerOptions) {
    super();
    this.db = options.db;
    this.clock = options.clock;
    this.log = options.logger ?? (() => undefined);
    const printer = options.printer;
    this.getPrinter = typeof printer === 'function' ? printer : () => printer;
    this.owner = options.owner ?? newOwnerId('print');
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 20;
    this.backoffBaseMs = options.backoffBaseMs ?? 2000;
    this.backoffMaxMs = options.backoffMaxMs ?? 5 * 60_000;
    this.pollMs = options.pollMs ?? 5000;
    this.statusCheck = options.statusCheck ?? true;
    this.only = options.only;
    this.printerType = options.printerType ?? (() => 'EPSON');
  }

  /** The last known printer status (null before the first check). */
  get status(): PrinterStatusEvent | null {
    return this.lastStatus;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the loop and waits for an in-flight send to settle. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.draining) await this.draining.catch(() => undefined);
  }

  /** Something new to print: drain now instead of at the next poll. */
  kick(): void {
    if (!this.running) return;
    if (this.draining) this.rerun = true;
    else this.schedule(0);
  }

  /** Asks the printer now and publishes the answer. */
  async checkStatus(): Promise<PrinterStatusEvent> {
    let status: PrinterStatus;
    try {
      status = await this.getPrinter().status();
    } catch (err) {
      status = { state: 'unknown', detail: `status check failed: ${(err as Error).message}` };
    }
    return this.publishStatus(status);
  }

  /** One pass: print every due job until none is left or the printer fails. */
  drainOnce(): Promise<DrainResult> {
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    // The worker never keeps the process alive by itself.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    let result: DrainResult | null = null;
    try {
      result = await this.drainOnce();
    } catch (err) {
      this.log('error', 'print worker pass failed', { error: (err as Error).message });
    }
    if (!this.running) return;
    if (this.rerun) {
      this.rerun = false;
      this.schedule(0);
      return;
    }
    // A blocked printer (offline, paper out, none configured) is asked again at the next poll; no need to scan the jobs.
    const nextDue = result?.blockedBy ? null : this.nextDueAt();
    const wait = nextDue === null ? this.pollMs : Math.min(this.pollMs, Math.max(0, nextDue - this.clock.now()));
    this.schedule(wait);
  }

  private publishStatus(status: PrinterStatus): PrinterStatusEvent {
    const event: PrinterStatusEvent = { state: status.state, detail: status.detail, at: this.clock.now(), ...(status.busy ? { busy: true } : {}) };
    const changed = !this.lastStatus || this.lastStatus.state !== event.state || this.lastStatus.detail !== event.detail;
    this.lastStatus = event;
    if (changed) {
      this.log(event.state === 'ok' ? 'info' : 'warn', `printer ${event.state}: ${event.detail}`);
      this.emit('status', event);
    }
    return event;
  }

  private nextDueAt(): number | null {
    return jobs.nextDueAt(this.db);
  }

  /**
   * Keeps this worker's unconfirmed jobs held (their writes are still
   * outstanding) and fails those whose holder stopped renewing them.
   */
  private tendUnconfirmed(): void {
    const now = this.clock.now();
    // Mostly nothing to do: no write transaction then.
    if (this.unconfirmed.size === 0 && !jobs.hasLapsedUnconfirmed(this.db, now)) return;
    const lapsed = tx(this.db, () => {
      if (this.unconfirmed.size > 0) jobs.renewUnconfirmed(this.db, this.owner, now + this.leaseMs);
      return jobs.failLapsedUnconfirmed(this.db, now, UNCONFIRMED_LAPSED);
    });
    for (const id of lapsed) {
      this.log('warn', `print job ${id}: ${UNCONFIRMED_LAPSED}`, { jobId: id });
      this.emitJob(id);
    }
  }

  /** Leases the first due job (id order), atomically against other workers and processes. */
  private claim(): ClaimedJob | null {
    return tx(this.db, () => {
      const now = this.clock.now();
      const row = jobs.leaseFirstDue(this.db, this.owner, now, now + this.leaseMs, this.only);
      if (!row) return null;
      if (!row.bytes || row.bytes.length === 0) {
        // A receipt queued by the revoke transaction: render its bytes now, stored with the lease,
        // so every attempt (and a resume after a crash) sends the very same bytes.
        try {
          row.bytes = renderEscPos(loadModel(jobs.storedReceipt(this.db, row.id)), { printerType: this.printerType() });
          jobs.storeBytes(this.db, row.id, row.bytes);
        } catch (err) {
          // Left without bytes: the pass below fails it visibly instead of blocking the queue.
          this.log('error', 'cannot render a receipt', { jobId: row.id, error: (err as Error).message });
        }
      }
      return row;
    });
  }

  private emitJob(id: number): void {
    const job = jobs.getJob(this.db, id);
    if (job) this.emit('job', job);
  }

  /** Records why due jobs are waiting without spending their attempts. */
  private markBlocked(status: PrinterStatus): void {
    const now = this.clock.now();
    // At most one such write per poll interval while the printer stays blocked the same way: each is a commit,
    // and a queue drain would otherwise pay one per receipt. Jobs created meanwhile get the reason at the next poll.
    const key = `${status.state}:${status.detail}`;
    if (this.lastBlocked && this.lastBlocked.key === key && now - this.lastBlocked.at < this.pollMs) return;
    this.lastBlocked = { key, at: now };
    const message = `printer ${status.state}: ${status.detail}`;
    for (const id of jobs.noteBlocked(this.db, message, now)) this.emitJob(id);
  }

  private backoff(attempts: number): number {
    return backoff(attempts, this.backoffBaseMs, this.backoffMaxMs);
  }

  private async drain(): Promise<DrainResult> {
    const result: DrainResult = { printed: 0, failed: 0, blockedBy: null };
    this.tendUnconfirmed();
    for (;;) {
      if (!jobs.hasDueJob(this.db, this.clock.now(), this.only)) return result;
      const printer = this.getPrinter();
      if (this.statusCheck || !printer.reportsStatus) {
        // Printers that report status are asked before every job (paper can run out mid-batch);
        // for the others status() is a cheap connectivity check (device file, none).
        const status = await this.checkStatus();
        if (BLOCKING.has(status.state) || status.busy) {
          this.markBlocked(status);
          result.blockedBy = status;
          return result;
        }
      }
      const job = this.claim();
      if (!job) return result;
      if (!job.bytes || job.bytes.length === 0) {
        this.finish(job, new Error('job has no printer bytes'), true);
        result.failed++;
        continue;
      }
      try {
        await printer.send(job.bytes);
      } catch (err) {
        if (err instanceof PrinterError && err.code === 'PRINTER_BUSY') {
          // Refused before a byte was written (an earlier write still outstanding): the job waits, no attempt spent.
          this.unlease(job);
          result.blockedBy = this.publishStatus({ state: 'unknown', detail: err.message, busy: true });
          return result;
        }
        if (err instanceof PrinterError && err.code === 'PRINTER_TIMEOUT' && err.outstanding) {
          this.holdUnconfirmed(job, err, err.outstanding);
          result.blockedBy = this.publishStatus({ state: 'unknown', detail: err.message, busy: true });
          return result;
        }
        this.finish(job, err as Error, false);
        result.failed++;
        if (err instanceof PrinterError) {
          this.publishStatus({ state: err.code === 'PRINTER_OFFLINE' ? 'offline' : 'unknown', detail: err.message });
        }
        // The printer just failed: the rest waits for the next pass instead of failing in a burst.
        return result;
      }
      this.finish(job, null, false);
      result.printed++;
      if (this.lastStatus?.state !== 'ok' && !printer.reportsStatus) this.publishStatus({ state: 'ok', detail: 'printed' });
    }
  }

  /** Gives a leased job back untouched (nothing was sent). */
  private unlease(job: ClaimedJob): void {
    tx(this.db, () => jobs.releaseLease(this.db, job.id, this.owner));
  }

  /**
   * The send timed out with its write still outstanding: the bytes may yet
   * print. Holds the job (not re-sent, not failed) until `write` ends, then
   * records how it ended.
   */
  private holdUnconfirmed(job: ClaimedJob, err: PrinterError, write: Promise<void>): void {
    const now = this.clock.now();
    const held = tx(this.db, () => jobs.holdUnconfirmed(this.db, job.id, this.owner, job.attempts + 1, err.message, now + this.leaseMs));
    if (held === 0) this.log('warn', 'print job lease was lost before its unconfirmed write was recorded', { jobId: job.id, owner: this.owner });
    else this.log('warn', `print job ${job.id} not confirmed yet: ${err.message}`, { jobId: job.id });
    this.unconfirmed.add(job.id);
    this.emitJob(job.id);
    write.then(
      () => this.settleUnconfirmed(job.id, null),
      (e: unknown) => this.settleUnconfirmed(job.id, e instanceof Error ? e : new Error(String(e))),
    );
  }

  /** An unconfirmed write ended: printed (the device took every byte), or failed for a person to check. */
  private settleUnconfirmed(id: number, error: Error | null): void {
    this.unconfirmed.delete(id);
    try {
      const now = this.clock.now();
      const note = `the printer device failed while still writing this receipt after a timeout (${error?.message ?? ''}): part of it may have printed. Check the paper; retry only if it did not print`;
      const changed = tx(this.db, () => (error ? jobs.failUnconfirmed(this.db, id, this.owner, note) : jobs.markUnconfirmedPrinted(this.db, id, this.owner, now)));
      if (changed === 0) this.log('warn', 'an unconfirmed print job changed before its write ended', { jobId: id, owner: this.owner });
      else if (error) this.log('warn', `print job ${id}: ${note}`, { jobId: id });
      else this.log('info', `print job ${id} printed (the printer took it late)`, { jobId: id });
      if (!error) this.publishStatus({ state: 'ok', detail: 'printed' });
      this.emitJob(id);
    } catch (err) {
      // The database may be closed by now (the app quit while the write waited).
      this.log('error', 'cannot record the end of an unconfirmed print job', { jobId: id, error: (err as Error).message });
    }
    this.kick();
  }

  /** Commits the outcome of one send; only this lease holder may. */
  private finish(job: ClaimedJob, error: Error | null, permanent: boolean): void {
    const now = this.clock.now();
    const changed = tx(this.db, () => {
      if (!error) return jobs.markPrinted(this.db, job.id, this.owner, now);
      const attempts = job.attempts + 1;
      const failed = permanent || attempts >= this.maxAttempts;
      return jobs.markAttemptFailed(this.db, job.id, this.owner, attempts, error.message, failed ? null : now + this.backoff(attempts));
    });
    if (changed === 0) {
      this.log('warn', 'print job lease was lost before its outcome was recorded', { jobId: job.id, owner: this.owner });
    } else if (error) {
      this.log('warn', `print job ${job.id} not printed: ${error.message}`, { jobId: job.id, attempts: job.attempts + 1 });
    } else {
      this.log('info', `print job ${job.id} printed`, { jobId: job.id });
    }
    this.emitJob(job.id);
  }
}
