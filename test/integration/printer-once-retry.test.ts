/**
 * 重试打印 while the job is being printed: one send. A slow transport holds
 * the send open while the job is retried (a double tap, the CLI's `receipt
 * retry` on a second connection to the same database): the retry does not
 * touch a job a live worker leases, the send's success is recorded, and no
 * pass sends it again. A send that outlived its lease (then retried) is
 * still recorded printed, not sent a second time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestPrintJob, getJob, PrintWorker, retryJob, type PrinterTransport, type PrintSettings } from '../../main/printer';
import { openDb, type Db } from '../../main/store/db';
import { ManualClock } from '../../main/common/time';

const ZH58: PrintSettings = { paper: 58, chinese: true, printerType: 'EPSON' };
const LEASE = 60_000;

let dir: string;
let db: Db;
let clock: ManualClock;
const cleanups: (() => unknown)[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-printer-retry-'));
  db = openDb(dir);
  clock = new ManualClock(Date.parse('2026-05-22T03:00:00Z'));
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A printer that takes each receipt only when the test says so. */
function slowPrinter(): { transport: PrinterTransport; sends: () => number; started: () => Promise<void>; finish: () => void } {
  let count = 0;
  let release: (() => void) | null = null;
  let onStart: (() => void) | null = null;
  const transport: PrinterTransport = {
    uri: 'slow',
    reportsStatus: false,
    send: () => {
      count++;
      onStart?.();
      return new Promise<void>((r) => (release = r));
    },
    status: async () => ({ state: 'ok', detail: 'ok' }),
  };
  return {
    transport,
    sends: () => count,
    started: () => new Promise<void>((r) => (onStart = r)),
    finish: () => release?.(),
  };
}

function worker(transport: PrinterTransport): PrintWorker {
  const w = new PrintWorker({ db, clock, printer: transport, statusCheck: false, leaseMs: LEASE, backoffBaseMs: 1000 });
  cleanups.push(() => w.stop());
  return w;
}

describe('retry while the job is being printed', () => {
  it('a failed job retried, then retried again mid-send (double tap, and the CLI on its own connection): one send, printed', async () => {
    const id = createTestPrintJob(db, { terminal: null, settings: ZH58, now: clock.now() });
    db.prepare("UPDATE print_jobs SET state = 'failed', attempts = 20, last_error = 'printer offline' WHERE id = ?").run(id);
    const printer = slowPrinter();
    const w = worker(printer.transport);

    expect(retryJob(db, id, clock.now())).toBe(true);
    const started = printer.started();
    const pass = w.drainOnce();
    await started;
    expect(getJob(db, id)).toMatchObject({ state: 'pending' });

    // The second tap, and `receipt retry` from another process on the same data dir.
    expect(retryJob(db, id, clock.now())).toBe(false);
    const cli = openDb(dir);
    cleanups.push(() => cli.close());
    expect(retryJob(cli, id, clock.now())).toBe(false);
    const lease = db.prepare('SELECT lease_owner, lease_until FROM print_jobs WHERE id = ?').get(id) as { lease_owner: string; lease_until: number };
    expect(lease.lease_owner).toBe(w.owner);

    printer.finish();
    expect(await pass).toMatchObject({ printed: 1, failed: 0 });
    expect(getJob(db, id)).toMatchObject({ state: 'printed' });
    expect(await w.drainOnce()).toMatchObject({ printed: 0 });
    clock.advance(10 * LEASE);
    expect(await w.drainOnce()).toMatchObject({ printed: 0 });
    expect(printer.sends()).toBe(1);
    expect(retryJob(db, id, clock.now())).toBe(false);
  });

  it('a pending job not yet leased can still be retried (brought forward); a printed one cannot', async () => {
    const id = createTestPrintJob(db, { terminal: null, settings: ZH58, now: clock.now() });
    db.prepare('UPDATE print_jobs SET attempts = 3, next_attempt_at = ? WHERE id = ?').run(clock.now() + 60_000, id);
    expect(retryJob(db, id, clock.now())).toBe(true);
    expect(getJob(db, id)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: clock.now() });
  });

  it('a send that outlived its lease and was retried meanwhile is recorded printed: the same pass and the next send nothing more', async () => {
    const id = createTestPrintJob(db, { terminal: null, settings: ZH58, now: clock.now() });
    const printer = slowPrinter();
    const w = worker(printer.transport);
    const started = printer.started();
    const pass = w.drainOnce();
    await started;
    clock.advance(LEASE + 1); // the lease lapsed mid-send: retry may now clear it
    expect(retryJob(db, id, clock.now())).toBe(true);
    printer.finish();
    expect(await pass).toMatchObject({ printed: 1 });
    expect(getJob(db, id)).toMatchObject({ state: 'printed' });
    expect(await w.drainOnce()).toMatchObject({ printed: 0 });
    expect(printer.sends()).toBe(1);
  });
});
