/**
 * Print jobs end to end: a real SQLite file, the print worker, real TCP to
 * the virtual printer on 127.0.0.1. Round trip of a revoke receipt (every
 * field, Chinese, aligned at 32 and 48 columns, QR = sn), the failure modes
 * (port closed, paper out, hung printer) printing exactly once on recovery,
 * reprints, retries, leases across two connections, and a device file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ThermalPrinter, PrinterTypes } from 'node-thermal-printer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Order, PrintJob, Revoke, TerminalInfo } from '../../main/domain';
import {
  createPrinterTransport,
  createRevokeReceiptJob,
  createTestPrintJob,
  displayWidth,
  getJob,
  getReceiptForRevoke,
  listJobs,
  PrintWorker,
  reprintRevokeReceipt,
  retryJob,
  type PrinterStatusEvent,
  type PrinterTransport,
  type PrintSettings,
} from '../../main/printer';
import { createVirtualPrinter, type VirtualPrinter } from '../../main/sandbox/virtual-printer';
import { openDb, tx, type Db } from '../../main/store/db';
import { businessDayStart, ManualClock } from '../../main/common/time';

const HOUR = 3_600_000;
const PAID = businessDayStart('2026-05-22') + 10 * HOUR;
const REVOKED = PAID + 5 * 60_000;
const FAST = { connectTimeoutMs: 1000, writeTimeoutMs: 600, statusTimeoutMs: 300 };
const ZH58: PrintSettings = { paper: 58, chinese: true, printerType: 'EPSON' };

const terminal: TerminalInfo = {
  terminalSn: '100000330009876543',
  deviceId: 'pos-01',
  merchantSn: 'M001',
  merchantName: '收钱吧测试商户',
  storeSn: 'S0001',
  storeName: '上海徐汇旗舰店',
  activatedAt: PAID - 30 * 24 * HOUR,
  keyUpdatedAt: PAID - HOUR,
  lastCheckinDay: '2026-05-22',
};

let dir: string;
let db: Db;
let clock: ManualClock;
let printer: VirtualPrinter;
const cleanups: (() => unknown)[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-printer-'));
  db = openDb(dir);
  clock = new ManualClock(REVOKED);
  printer = await createVirtualPrinter();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await printer.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
/** An order and its revoke, as the revoke engine would have stored them. */
function seedRevoke(over: Partial<Order> = {}): { order: Order; revoke: Revoke } {
  seq++;
  const order: Order = {
    sn: `78952592449960${String(seq).padStart(2, '0')}`,
    clientSn: `POS-20260522-${String(seq).padStart(4, '0')}`,
    tradeNo: '4200002173202605222734561234',
    totalCents: 10000,
    netCents: 10000,
    payway: '3',
    paywayName: '微信',
    subject: '咖啡',
    operator: 'cashier-01',
    finishedAt: PAID,
    status: 'CANCELED',
    businessDay: '2026-05-22',
    updatedAt: REVOKED,
    ...over,
  };
  db.prepare(
    `INSERT INTO orders (sn, client_sn, trade_no, total_cents, net_cents, payway, payway_name, subject, operator, finished_at, status, business_day, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(order.sn, order.clientSn, order.tradeNo, order.totalCents, order.netCents, order.payway, order.paywayName, order.subject, order.operator, order.finishedAt, order.status, order.businessDay, order.updatedAt);
  const info = db
    .prepare(
      `INSERT INTO revokes (order_sn, client_sn, state, operator, requested_at, updated_at, deadline_day, revoked_at)
       VALUES (?, ?, 'revoked', ?, ?, ?, ?, ?)`,
    )
    .run(order.sn, order.clientSn, '张三', REVOKED - 1000, REVOKED, '2026-05-22', REVOKED);
  const revoke: Revoke = {
    id: Number(info.lastInsertRowid),
    orderSn: order.sn,
    clientSn: order.clientSn,
    state: 'revoked',
    operator: '张三',
    operatorId: null,
    approverId: null,
    approverName: null,
    requestedAt: REVOKED - 1000,
    updatedAt: REVOKED,
    attempts: 1,
    queries: 0,
    nextAttemptAt: null,
    deadlineDay: '2026-05-22',
    revokedAt: REVOKED,
    error: null,
    lastResultCode: 'CANCEL_SUCCESS',
  };
  return { order, revoke };
}

/** Creates the receipt job the way the revoke engine does: in the transaction that records the outcome. */
function queueReceipt(settings: PrintSettings = ZH58, over: Partial<Order> = {}): { jobId: number; order: Order; revoke: Revoke } {
  const { order, revoke } = seedRevoke(over);
  const jobId = tx(db, () => createRevokeReceiptJob(db, { terminal, order, revoke, settings, now: clock.now() }));
  return { jobId, order, revoke };
}

function worker(opts: { transport?: PrinterTransport; statusCheck?: boolean; maxAttempts?: number; db?: Db; owner?: string } = {}): PrintWorker {
  const w = new PrintWorker({
    db: opts.db ?? db,
    printer: opts.transport ?? createPrinterTransport(printer.uri, FAST),
    clock,
    statusCheck: opts.statusCheck ?? true,
    maxAttempts: opts.maxAttempts ?? 20,
    backoffBaseMs: 2000,
    ...(opts.owner ? { owner: opts.owner } : {}),
  });
  cleanups.push(() => w.stop());
  return w;
}

const job = (id: number): PrintJob => {
  const j = getJob(db, id);
  if (!j) throw new Error(`no job ${id}`);
  return j;
};

describe('revoke receipt round trip through the virtual printer', () => {
  for (const paper of [58, 80] as const) {
    it(`prints every field in Chinese, aligned at ${paper === 58 ? 32 : 48} columns, QR = sn`, async () => {
      const { jobId, order } = queueReceipt({ paper, chinese: true, printerType: 'EPSON' });
      const w = worker();
      const jobEvents: PrintJob[] = [];
      w.on('job', (j) => jobEvents.push(j));

      const result = await w.drainOnce();
      expect(result).toEqual({ printed: 1, failed: 0, blockedBy: null });
      expect(job(jobId)).toMatchObject({ state: 'printed', attempts: 0, lastError: null, printedAt: REVOKED, copy: false });
      expect(jobEvents.at(-1)).toMatchObject({ id: jobId, state: 'printed' });

      const [printed] = await printer.waitForJobs(1);
      const decoded = printed!.decoded;
      const cols = paper === 58 ? 32 : 48;
      for (const line of decoded.lines) {
        expect(displayWidth(line.text) * line.size, line.text).toBeLessThanOrEqual(cols);
      }
      // label/value rows: label at column 0, value ending exactly at the last column.
      const row = (label: string): string => {
        const line = decoded.lines.find((l) => l.text.startsWith(label));
        expect(line, label).toBeDefined();
        return line!.text;
      };
      for (const [label, value] of [
        ['终端号', terminal.terminalSn],
        ['收钱吧订单号', order.sn],
        ['商户订单号', order.clientSn],
        ['支付方式', '微信'],
        ['订单金额', '￥100.00'],
        ['支付时间', '2026-05-22 10:00:00'],
        ['撤销时间', '2026-05-22 10:05:00'],
        ['撤销人', '张三'],
        ['结果', '撤销成功'],
        ['打印时间', '2026-05-22 10:05:00'],
      ] as const) {
        const text = row(label);
        expect(displayWidth(text), text).toBe(cols);
        expect(text.endsWith(value), text).toBe(true);
      }
      expect(decoded.text).toContain(order.tradeNo);
      expect(decoded.lines[0]).toMatchObject({ text: '上海徐汇旗舰店', align: 'center', bold: true });
      expect(decoded.lines.find((l) => l.text === '撤销凭证')).toMatchObject({ align: 'center', bold: true, size: 2 });
      expect(decoded.lines.find((l) => l.text === 'REVOKE RECEIPT')).toMatchObject({ align: 'center' });
      expect(decoded.lines.find((l) => l.text.startsWith('订单金额'))?.bold).toBe(true);
      expect(decoded.qr).toEqual([order.sn]);
      expect(decoded.cuts).toBe(1);
      expect(decoded.strayHighBytes).toBe(0);
      expect(decoded.text).not.toMatch(/COPY|重打印/);

      // The stored receipt is what the preview shows, and the bytes sent are the stored bytes.
      const stored = getReceiptForRevoke(db, job(jobId).revokeId!);
      expect(stored?.job.id).toBe(jobId);
      expect(stored?.html).toContain('撤销凭证');
      const row2 = db.prepare('SELECT bytes FROM print_jobs WHERE id = ?').get(jobId) as { bytes: Buffer };
      expect(Buffer.compare(row2.bytes, printed!.bytes)).toBe(0);
    });
  }

  it('keeps one original per revoke, and a reprint is a COPY job', async () => {
    const { jobId, order, revoke } = queueReceipt();
    expect(tx(db, () => createRevokeReceiptJob(db, { terminal, order, revoke, settings: ZH58, now: clock.now() }))).toBe(jobId);
    expect(listJobs(db, { revokeId: revoke.id })).toHaveLength(1);

    clock.advance(HOUR);
    const copyId = reprintRevokeReceipt(db, { revokeId: revoke.id, now: clock.now() });
    expect(copyId).not.toBe(jobId);
    expect(job(copyId)).toMatchObject({ copy: true, kind: 'revoke', state: 'pending', orderSn: order.sn, revokeId: revoke.id });

    await worker().drainOnce();
    const [original, copy] = await printer.waitForJobs(2);
    expect(original!.decoded.text).not.toContain('COPY');
    expect(copy!.decoded.lines.find((l) => l.text === '重打印 COPY')).toMatchObject({ bold: true, size: 2, align: 'center' });
    expect(copy!.decoded.text).toContain('重打印凭证 / COPY');
    expect(copy!.decoded.text).toContain('2026-05-22 11:05:00');
    expect(copy!.decoded.qr).toEqual([order.sn]);
    expect(getReceiptForRevoke(db, revoke.id)?.job.id).toBe(jobId);
  });

  it('ASCII-only setting sends no byte >= 0x80', async () => {
    queueReceipt({ paper: 80, chinese: false, printerType: 'EPSON' });
    createTestPrintJob(db, { terminal, settings: { paper: 58, chinese: false, printerType: 'EPSON' }, now: clock.now() });
    await worker().drainOnce();
    const jobs = await printer.waitForJobs(2);
    for (const j of jobs) expect([...j.bytes].filter((b) => b >= 0x80)).toEqual([]);
    expect(jobs[0]!.decoded.text).toContain('REVOKE RECEIPT');
    expect(jobs[0]!.decoded.text).toMatch(/Order amount\s+CNY 100\.00/);
    expect(jobs[1]!.decoded.text).toContain('PRINTER TEST');
  });
});

describe('printer failures: the job waits, then prints exactly once', () => {
  it('printer off (port closed): blocked by status, no attempt spent', async () => {
    const { jobId } = queueReceipt();
    await printer.setOffline(true);
    const w = worker();
    const statuses: PrinterStatusEvent[] = [];
    w.on('status', (s) => statuses.push(s));

    const r = await w.drainOnce();
    expect(r.blockedBy?.state).toBe('offline');
    expect(job(jobId)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(job(jobId).lastError).toMatch(/printer offline: .*refused the connection/);
    expect(statuses.map((s) => s.state)).toEqual(['offline']);

    await printer.setOffline(false);
    expect((await w.drainOnce()).printed).toBe(1);
    await w.drainOnce();
    expect(printer.jobs()).toHaveLength(1);
    expect(job(jobId)).toMatchObject({ state: 'printed', lastError: null });
    expect(statuses.map((s) => s.state)).toEqual(['offline', 'ok']);
  });

  it('printer off without a status check: attempt recorded with backoff, printed once after', async () => {
    const { jobId } = queueReceipt();
    await printer.setOffline(true);
    const w = worker({ statusCheck: false });
    expect(await w.drainOnce()).toMatchObject({ printed: 0, failed: 1 });
    const failed = job(jobId);
    expect(failed).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: REVOKED + 2000 });
    expect(failed.lastError).toMatch(/refused the connection/);
    expect(w.status?.state).toBe('offline');

    await printer.setOffline(false);
    expect((await w.drainOnce()).printed).toBe(0); // not due yet
    clock.advance(2000);
    expect((await w.drainOnce()).printed).toBe(1);
    expect(printer.jobs()).toHaveLength(1);
  });

  it('paper out: the worker sees it in the status and does not send', async () => {
    const { jobId } = queueReceipt();
    printer.setPaperOut(true);
    const w = worker();
    const r = await w.drainOnce();
    expect(r.blockedBy).toMatchObject({ state: 'paper_out' });
    expect(job(jobId)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(job(jobId).lastError).toMatch(/paper_out/);
    expect(printer.jobs()).toHaveLength(0);

    printer.setCoverOpen(true);
    printer.setPaperOut(false);
    expect((await w.drainOnce()).blockedBy?.state).toBe('cover_open');

    printer.setCoverOpen(false);
    expect((await w.drainOnce()).printed).toBe(1);
    expect(printer.jobs()).toHaveLength(1);
  });

  it('paper out without a status check: the printer refuses, nothing is marked printed', async () => {
    const { jobId } = queueReceipt();
    printer.setPaperOut(true);
    const w = worker({ statusCheck: false });
    expect((await w.drainOnce()).failed).toBe(1);
    expect(job(jobId)).toMatchObject({ state: 'pending', attempts: 1 });
    expect(job(jobId).lastError).toMatch(/printer at 127\.0\.0\.1:\d+/);
    expect(printer.jobs()).toHaveLength(0);
    printer.setPaperOut(false);
    clock.advance(2000);
    expect((await w.drainOnce()).printed).toBe(1);
    expect(printer.jobs()).toHaveLength(1);
  });

  it('hung printer (accepts, never reads): status unknown, write times out, prints once after recovery', async () => {
    const { jobId } = queueReceipt();
    printer.setHang(true);
    const w = worker();
    const started = Date.now();
    const r = await w.drainOnce();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r).toMatchObject({ printed: 0, failed: 1 });
    expect(job(jobId)).toMatchObject({ state: 'pending', attempts: 1 });
    expect(job(jobId).lastError).toMatch(/did not take the receipt within 600 ms/);
    expect(w.status?.state).toBe('unknown');

    printer.setHang(false);
    clock.advance(2000);
    expect((await w.drainOnce()).printed).toBe(1);
    await w.drainOnce();
    expect(printer.jobs()).toHaveLength(1);
    expect(job(jobId).state).toBe('printed');
  });

  it('after maxAttempts the job is failed, visible with its error, and retryJob brings it back', async () => {
    const { jobId } = queueReceipt();
    await printer.setOffline(true);
    const w = worker({ statusCheck: false, maxAttempts: 3 });
    for (let i = 0; i < 3; i++) {
      await w.drainOnce();
      clock.advance(60_000);
    }
    expect(job(jobId)).toMatchObject({ state: 'failed', attempts: 3, nextAttemptAt: null });
    expect(listJobs(db, { state: 'failed' }).map((j) => j.id)).toEqual([jobId]);
    await w.drainOnce();
    await printer.setOffline(false);
    await w.drainOnce();
    expect(printer.jobs()).toHaveLength(0);

    expect(retryJob(db, jobId, clock.now())).toBe(true);
    expect(job(jobId)).toMatchObject({ state: 'pending', attempts: 0, lastError: null });
    expect((await w.drainOnce()).printed).toBe(1);
    expect(retryJob(db, jobId, clock.now())).toBe(false);
    expect(printer.jobs()).toHaveLength(1);
  });
});

describe('leases', () => {
  it('two workers on two connections to the same file print each job exactly once, in id order per worker', async () => {
    const ids = Array.from({ length: 8 }, () => queueReceipt().jobId);
    const db2 = openDb(dir);
    cleanups.push(() => db2.close());
    const a = worker({ owner: 'A' });
    const b = worker({ owner: 'B', db: db2 });
    await Promise.all([a.drainOnce(), b.drainOnce(), a.drainOnce(), b.drainOnce()]);
    const jobs = await printer.waitForJobs(8);
    expect(jobs).toHaveLength(8);
    expect(new Set(jobs.map((j) => j.decoded.qr[0])).size).toBe(8);
    expect(ids.map((id) => job(id).state)).toEqual(ids.map(() => 'printed'));
  });

  it('a job leased by a crashed process resumes after its lease expires', async () => {
    const { jobId } = queueReceipt();
    db.prepare('UPDATE print_jobs SET lease_owner = ?, lease_until = ? WHERE id = ?').run('crashed', clock.now() + 60_000, jobId);
    const w = worker();
    expect((await w.drainOnce()).printed).toBe(0);
    clock.advance(60_000);
    expect((await w.drainOnce()).printed).toBe(1);
    expect(printer.jobs()).toHaveLength(1);
  });

  it('start/kick/stop: prints in the background and lets the process exit', async () => {
    const w = worker();
    w.start();
    queueReceipt();
    w.kick();
    await printer.waitForJobs(1);
    await w.stop();
    queueReceipt();
    w.kick(); // stopped: no effect
    await new Promise((r) => setTimeout(r, 200));
    expect(printer.jobs()).toHaveLength(1);
  });
});

describe('virtual printer', () => {
  it("also takes jobs from node-thermal-printer's own network interface (drops the socket, no FIN)", async () => {
    const p = new ThermalPrinter({ type: PrinterTypes.EPSON, interface: printer.uri, options: { timeout: 1000 } });
    p.alignCenter();
    p.bold(true);
    p.println('HELLO');
    p.cut();
    await p.execute();
    const [j] = await printer.waitForJobs(1);
    expect(j!.decoded.lines).toEqual([{ text: 'HELLO', align: 'center', bold: true, size: 1, height: 1 }]);
    expect(j!.decoded.cuts).toBe(1);
  });

  it('answers GS r 1 and DLE EOT with the paper state', async () => {
    const net = await import('node:net');
    const ask = (query: number[]): Promise<number[]> =>
      new Promise((resolve, reject) => {
        const s = net.createConnection({ host: printer.host, port: printer.port }, () => s.write(Buffer.from(query)));
        const got: number[] = [];
        s.on('data', (d: Buffer) => {
          got.push(...d);
          if (got.length >= query.length / 3) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
      });
    expect(await ask([0x1d, 0x72, 0x01])).toEqual([0x00]);
    printer.setPaperOut(true);
    expect(await ask([0x1d, 0x72, 0x01, 0x10, 0x04, 0x04])).toEqual([0x0f, 0x7e]);
    await new Promise((r) => setTimeout(r, 50));
    expect(printer.jobs()).toHaveLength(0);
  });
});

describe('device file printer', () => {
  it('writes to a character device; a regular file in its place is refused with nothing written; a missing device is offline, never created', async () => {
    const { jobId } = queueReceipt();
    // /dev/null stands in for /dev/usb/lp0: the transport takes an already-parsed destination.
    const w = worker({ transport: createPrinterTransport({ kind: 'device', path: '/dev/null' }, FAST) });
    expect(await w.drainOnce()).toMatchObject({ printed: 1 });
    expect(job(jobId).state).toBe('printed');

    const planted = path.join(dir, 'lp0');
    fs.writeFileSync(planted, '');
    const second = queueReceipt();
    const refused = worker({ transport: createPrinterTransport({ kind: 'device', path: planted }, FAST) });
    expect((await refused.drainOnce()).blockedBy).toMatchObject({ state: 'none', detail: expect.stringMatching(/not a printer device \(a regular file\)/) });
    await expect(createPrinterTransport({ kind: 'device', path: planted }, FAST).send(Buffer.from('x'))).rejects.toMatchObject({ code: 'PRINTER_NOT_CONFIGURED' });
    expect(fs.statSync(planted).size).toBe(0);
    expect(job(second.jobId)).toMatchObject({ state: 'pending', attempts: 0 });

    const missing = createPrinterTransport({ kind: 'device', path: path.join(dir, 'nope') }, FAST);
    expect((await missing.status()).state).toBe('offline');
    await expect(missing.send(Buffer.from('x'))).rejects.toMatchObject({ code: 'PRINTER_OFFLINE' });
    expect(fs.existsSync(path.join(dir, 'nope'))).toBe(false);
  });

  it('"none" keeps jobs waiting without spending attempts', async () => {
    const { jobId } = queueReceipt();
    const w = worker({ transport: createPrinterTransport('none') });
    expect((await w.drainOnce()).blockedBy?.state).toBe('none');
    expect(job(jobId)).toMatchObject({ state: 'pending', attempts: 0, lastError: 'printer none: no printer configured' });
  });
});
