/**
 * A device printer whose write never completes (paper out on a USB
 * printer): the receipt prints exactly once. A pseudo-terminal with its
 * output stopped (tcflow TCOOFF, held by a small python3 helper) is the
 * printer: our write blocks in the kernel and cannot be cancelled. Several
 * worker passes (and the clock past the lease) send nothing more; a second
 * transport on the same device is refused; when the output resumes ("paper
 * loaded") the one outstanding write completes, the job is marked printed,
 * and the paper shows exactly one receipt (one cut, read with the ESC/POS
 * decoder). A hold whose worker stopped renewing it lapses into `failed`
 * (check the paper) instead of a blind second send.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PrintJob } from '../../main/domain';
import { createPrinterTransport, createTestPrintJob, getJob, printerDeviceBusy, PrintWorker, UNCONFIRMED_LAPSED, type PrintSettings } from '../../main/printer';
import { decodeEscPos } from '../../main/sandbox/escpos-decoder';
import { openDb, type Db } from '../../main/store/db';
import { ManualClock } from '../../main/common/time';

const ZH58: PrintSettings = { paper: 58, chinese: true, printerType: 'EPSON' };
const FAST = { connectTimeoutMs: 1000, writeTimeoutMs: 300, statusTimeoutMs: 300 };
const LEASE = 60_000;

/** The "printer": a pty whose output is stopped until stdin says `resume`; everything that then comes out goes to `out`. */
const PTY_PRINTER = String.raw`
import os, pty, termios, sys, select
out = open(sys.argv[1], 'ab', buffering=0)
m, s = pty.openpty()
a = termios.tcgetattr(s)
a[1] &= ~termios.OPOST
a[3] &= ~(termios.ICANON | termios.ECHO)
termios.tcsetattr(s, termios.TCSANOW, a)
termios.tcflow(s, termios.TCOOFF)
print(os.ttyname(s), flush=True)
running = True
while running:
    r, _, _ = select.select([m, sys.stdin], [], [], 0.05)
    if sys.stdin in r:
        line = sys.stdin.readline()
        if line.strip() == 'resume':
            termios.tcflow(s, termios.TCOON)
            print('resumed', flush=True)
        else:
            running = False
    if m in r:
        out.write(os.read(m, 65536))
`;

const hasPython = process.platform === 'linux' && spawnSync('python3', ['-c', 'import pty, termios'], { stdio: 'ignore' }).status === 0;

let dir: string;
let db: Db;
let clock: ManualClock;
let helper: ChildProcessWithoutNullStreams | null = null;
let paperFile: string;
const workers: PrintWorker[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-printer-once-'));
  db = openDb(dir);
  clock = new ManualClock(Date.parse('2026-05-22T03:00:00Z'));
  paperFile = path.join(dir, 'paper.bin');
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  if (helper) {
    // Output on again so no write of ours stays blocked, then end the helper (our own child, by its handle).
    helper.stdin.write('resume\n');
    await new Promise((r) => setTimeout(r, 100));
    helper.stdin.end('quit\n');
    await new Promise((r) => helper?.once('exit', r));
    helper = null;
  }
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts the stopped pty printer; returns its device path and a way to load the paper. */
async function stoppedPtyPrinter(): Promise<{ device: string; resume: () => Promise<void> }> {
  const child = spawn('python3', ['-c', PTY_PRINTER, paperFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  helper = child;
  let said = '';
  child.stdout.on('data', (d: Buffer) => (said += d.toString()));
  const waitFor = async (re: RegExp) => {
    const until = Date.now() + 5000;
    while (!re.test(said)) {
      if (Date.now() > until) throw new Error(`pty helper said ${JSON.stringify(said)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitFor(/^\/dev\/\S+\n/);
  return {
    device: said.split('\n')[0]!.trim(),
    resume: async () => {
      child.stdin.write('resume\n');
      await waitFor(/resumed/);
    },
  };
}

function worker(device: string, owner: string): PrintWorker {
  const w = new PrintWorker({ db, clock, owner, printer: createPrinterTransport({ kind: 'device', path: device }, FAST), backoffBaseMs: 1000, leaseMs: LEASE });
  workers.push(w);
  return w;
}

const job = (id: number): PrintJob => getJob(db, id)!;

async function until<T>(what: string, fn: () => T | null | undefined | false): Promise<T> {
  const end = Date.now() + 5000;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What came out of the printer so far, decoded. */
const paper = () => decodeEscPos(fs.existsSync(paperFile) ? fs.readFileSync(paperFile) : Buffer.alloc(0));

describe.skipIf(!hasPython)('device printer whose write does not complete (pty with output stopped)', () => {
  it('3 passes, the lease lapsed twice over, a second transport: one write only; on resume the job is printed, one receipt on paper', async () => {
    const { device, resume } = await stoppedPtyPrinter();
    const id = createTestPrintJob(db, { terminal: null, settings: ZH58, now: clock.now() });
    const w = worker(device, 'A');

    const first = await w.drainOnce();
    expect(first).toMatchObject({ printed: 0, failed: 0, blockedBy: { state: 'unknown', busy: true } });
    expect(job(id)).toMatchObject({ state: 'pending', attempts: 1 });
    expect(job(id).lastError).toMatch(/still waiting for the printer.*not sent again/);
    expect(printerDeviceBusy(device)).toBe(true);

    // Another job queued meanwhile waits too, without spending attempts.
    const second = createTestPrintJob(db, { terminal: null, settings: ZH58, now: clock.now() });
    for (let i = 0; i < 3; i++) {
      clock.advance(LEASE);
      const r = await w.drainOnce();
      expect(r.printed + r.failed).toBe(0);
      expect(r.blockedBy).toMatchObject({ busy: true });
      expect(job(id)).toMatchObject({ state: 'pending', attempts: 1 });
      expect(job(second)).toMatchObject({ state: 'pending', attempts: 0 });
    }
    // Never more than one outstanding write per device, whichever transport asks.
    const other = createPrinterTransport({ kind: 'device', path: device }, FAST);
    await expect(other.send(Buffer.from('x'))).rejects.toMatchObject({ code: 'PRINTER_BUSY' });
    expect(await other.status()).toMatchObject({ state: 'unknown', busy: true });
    expect(paper().cuts).toBe(0);

    await resume(); // paper loaded: the one blocked write completes
    await until('job printed', () => job(id).state === 'printed');
    await until('the receipt on paper', () => paper().cuts >= 1);
    expect(printerDeviceBusy(device)).toBe(false);
    expect(job(second).state).toBe('pending');

    // The device is free again: the next job prints normally.
    expect(await w.drainOnce()).toMatchObject({ printed: 1, failed: 0 });
    expect(job(second).state).toBe('printed');
    await until('both receipts on paper', () => paper().cuts >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(await w.drainOnce()).toMatchObject({ printed: 0, failed: 0 });
    const out = paper();
    expect(out.cuts).toBe(2); // one per job: the stuck receipt was written once
    expect(out.qr).toEqual(['UPAY-POS-TEST', 'UPAY-POS-TEST']);
  });

  it('a hold its worker stopped renewing lapses into failed (check the paper), never re-sent; the late write still marks it printed', async () => {
    const { device, resume } = await stoppedPtyPrinter();
    const id = createTestPrintJob(db, { terminal: null, settings: ZH58, now: clock.now() });
    const a = worker(device, 'A');
    expect((await a.drainOnce()).blockedBy).toMatchObject({ busy: true });
    await a.stop(); // A renews no more (as if its process had gone)

    clock.advance(LEASE + 1);
    const b = worker(device, 'B');
    const r = await b.drainOnce();
    expect(r).toMatchObject({ printed: 0 });
    expect(job(id)).toMatchObject({ state: 'failed', lastError: UNCONFIRMED_LAPSED });
    expect(paper().cuts).toBe(0);

    await resume();
    await until('job printed', () => job(id).state === 'printed');
    await until('the receipt on paper', () => paper().cuts >= 1);
    await new Promise((r) => setTimeout(r, 300));
    await b.drainOnce();
    expect(paper().cuts).toBe(1);
  });
});
