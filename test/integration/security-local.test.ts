/**
 * Attacks from this machine, performed as the attacker would and seen refused
 * with nothing written: renderer code calling the IPC handlers (printer
 * destinations, printer.status probing, bidi text on receipts and screens)
 * and another local user (a planted or shared data dir, readable database
 * files). Real runtime, real SQLite files, real TCP (virtual printer,
 * sandbox gateway on 127.0.0.1). "Another user" is uid 65534 (nobody),
 * which needs root to arrange: those tests are skipped otherwise.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, resultSchema, type Channel } from '../../main/ipc/contract';
import { type Handlers } from '../../main/ipc/handlers';
import { openPrinterDevice } from '../../main/printer';
import { createRuntime, databaseOf, type Runtime } from '../../main/runtime';
import { createSandbox, createVirtualPrinter, type Sandbox, type VirtualPrinter } from '../../main/sandbox';
import { DB_FILE, openDb } from '../../main/store/db';
import { FileKeyVault, VAULT_KEY_FILE } from '../../main/terminal/vault';
import { toPosError } from '../../main/errors';
import { signedInHandlers } from '../support/operators';

const FAST_PRINT = { backoffBaseMs: 20, backoffMaxMs: 100, pollMs: 50 };
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const CF = /[\p{Cf}\p{Cc}]/u;

const temp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `upay-sec-${name}-`));

async function call<C extends Channel>(handlers: Handlers, channel: C, input: unknown) {
  const r = await handlers[channel](input);
  expect(resultSchema(CHANNELS[channel].output).safeParse(r).success, channel).toBe(true);
  return r;
}

/** A TCP listener that counts connections: proof that nothing was sent to it. */
async function listener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = net.createServer((s) => {
    count++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('renderer code sets the printer (IPC handlers, production mode)', () => {
  let printer: VirtualPrinter;
  let rt: Runtime;
  let handlers: Handlers;
  let victims: string;
  let rc: string;
  const RC_TEXT = 'export PATH=/usr/bin\n';

  beforeAll(async () => {
    printer = await createVirtualPrinter();
    victims = temp('victim');
    rc = path.join(victims, '.bashrc');
    fs.writeFileSync(rc, RC_TEXT);
    // Store IT's printer (a flag/env: trusted); the renderer then tries to move it.
    rt = createRuntime({ dataDir: temp('data'), printer: printer.uri, virtualPrinterUri: null, printWorker: FAST_PRINT });
    handlers = await signedInHandlers(rt, { mode: 'production', version: '0.0.0', vendor: null, actor: 'renderer' });
  });

  afterAll(async () => {
    await rt?.close();
    await printer?.close();
  });

  const settingsChanges = () => (databaseOf(rt).prepare(`SELECT COUNT(*) FROM audit_log WHERE action = 'settings.changed'`).pluck().get() as number);

  /** Prints a test page and waits until the (unchanged) printer took it. */
  async function printTestPage(): Promise<void> {
    const before = printer.jobs().length;
    const job = await call(handlers, 'printer.test', {});
    if (!job.ok) throw new Error(job.error.message);
    expect((await rt.printing.waitForJob(job.value.id, 5000))?.state).toBe('printed');
    expect(printer.jobs().length).toBe(before + 1);
  }

  const link = () => {
    const l = path.join(victims, `lp-${Math.random().toString(36).slice(2)}`);
    fs.symlinkSync(rc, l);
    return l;
  };

  it.each([
    ['a regular file (a shell rc file)', () => rc, /files are never printer destinations/],
    ['a symlink to a regular file', link, /files are never printer destinations/],
    ['a UNC path \\\\host\\share', () => '\\\\fileserver\\share\\receipt.prn', /UNC/],
    ['a UNC path //host/share', () => '//fileserver/share/receipt.prn', /UNC/],
    ['a device path with .. in it', () => `/dev/usb/../..${rc}`, /not an allowed printer device/],
    ['"virtual" outside sandbox mode', () => 'virtual', /sandbox mode only/],
    ['a non-printer TCP port (a local database)', () => 'tcp://127.0.0.1:6379', /not a raw-print port/],
  ])('%s → refused (INVALID_INPUT, printer), nothing stored, 0 bytes appended after print jobs run', async (_what, target, reason) => {
    const changes = settingsChanges();
    const r = await call(handlers, 'settings.set', { printer: target(), paperWidth: 58 });
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field: 'printer' }, messageZh: expect.stringMatching(/打印机/) } });
    if (!r.ok) expect(r.error.message).toMatch(reason);
    // Nothing of the patch was stored, the printer did not move.
    expect(settingsChanges()).toBe(changes);
    expect(rt.settings().paperWidth).toBe(80);
    expect(await call(handlers, 'settings.get', {})).toMatchObject({ ok: true, value: { printer: null, paperWidth: 80 } });
    expect(rt.printing.printerUri).toBe(printer.uri);
    await printTestPage();
    expect(fs.readFileSync(rc, 'utf8')).toBe(RC_TEXT);
  });

  it('the attacker listening on a non-printer port sees no connection', async () => {
    const l = await listener();
    try {
      const r = await call(handlers, 'settings.set', { printer: `tcp://127.0.0.1:${l.port}` });
      expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      await printTestPage();
      await call(handlers, 'printer.status', {});
      expect(l.connections()).toBe(0);
    } finally {
      await l.close();
    }
  });

  it('a raw-print TCP printer and "none" are accepted (the rule is narrow, not a wall)', async () => {
    const ok = await call(handlers, 'settings.set', { printer: 'tcp://127.0.0.1:9109' });
    expect(ok).toMatchObject({ ok: true, value: { printer: 'tcp://127.0.0.1:9109' } });
    const none = await call(handlers, 'settings.set', { printer: 'none' });
    expect(none).toMatchObject({ ok: true, value: { printer: 'none' } });
    // Back to what the process started with.
    expect(await call(handlers, 'settings.set', { printer: null })).toMatchObject({ ok: true, value: { printer: null } });
    expect(rt.printing.printerUri).toBe(printer.uri);
  });

  it('printer.status takes no destination: a host:port or a path is INVALID_INPUT and nothing is probed', async () => {
    const l = await listener();
    try {
      for (const input of [{ uri: `tcp://127.0.0.1:${l.port}` }, { host: '127.0.0.1', port: l.port }, { path: rc }, { printer: '/etc/shadow' }]) {
        expect(await call(handlers, 'printer.status', input)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      }
      const s = await call(handlers, 'printer.status', {});
      expect(s).toMatchObject({ ok: true, value: { uri: printer.uri, state: 'ok' } });
      expect(l.connections()).toBe(0);
    } finally {
      await l.close();
    }
  });
});

describe('a refused destination already stored (older version, edited database)', () => {
  it('the runtime still starts; receipts wait, nothing is written to the file, and the status names the fix', async () => {
    const dataDir = temp('legacy');
    const victim = path.join(temp('victim'), '.profile');
    fs.writeFileSync(victim, '');
    const db = openDb(dataDir);
    db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0)').run('printer', JSON.stringify(victim));
    db.close();
    const warnings: string[] = [];
    const rt = createRuntime({ dataDir, printWorker: FAST_PRINT, logger: { info: () => {}, warn: (l) => warnings.push(l), error: () => {} } });
    try {
      const handlers = await signedInHandlers(rt, { mode: 'production', version: '0.0.0', vendor: null });
      const status = await call(handlers, 'printer.status', {});
      expect(status).toMatchObject({ ok: true, value: { state: 'none', detail: expect.stringMatching(/upay-pos settings set printer=/) } });
      const job = await call(handlers, 'printer.test', {});
      if (!job.ok) throw new Error(job.error.message);
      const after = await rt.printing.waitForJob(job.value.id, 600);
      expect(after).toMatchObject({ state: 'pending', attempts: 0 });
      expect(fs.statSync(victim).size).toBe(0);
      expect(warnings.join('\n')).toMatch(/printer refused/);
    } finally {
      await rt.close();
    }
  });
});

describe('the device is checked after it is opened (open without O_CREAT, O_NOFOLLOW, fstat)', () => {
  const dir = temp('dev');

  it('a character device opens', async () => {
    const h = await openPrinterDevice('/dev/null', 1000);
    await h.close();
  });

  it('a regular file where the device should be is refused, nothing written', async () => {
    const planted = path.join(dir, 'lp0');
    fs.writeFileSync(planted, 'keep');
    await expect(openPrinterDevice(planted, 1000)).rejects.toMatchObject({ code: 'PRINTER_NOT_CONFIGURED', message: expect.stringMatching(/regular file/) });
    expect(fs.readFileSync(planted, 'utf8')).toBe('keep');
  });

  it('a symlink (even to a real device) is refused: O_NOFOLLOW', async () => {
    const l = path.join(dir, 'lp1');
    fs.symlinkSync('/dev/null', l);
    await expect(openPrinterDevice(l, 1000)).rejects.toMatchObject({ code: 'PRINTER_NOT_CONFIGURED', message: expect.stringMatching(/symbolic link/) });
  });

  it('a missing device is offline and is not created', async () => {
    const missing = path.join(dir, 'lp2');
    await expect(openPrinterDevice(missing, 1000)).rejects.toMatchObject({ code: 'PRINTER_OFFLINE' });
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('a relative name is refused before any open', async () => {
    await expect(openPrinterDevice('COM3', 1000)).rejects.toMatchObject({ code: 'PRINTER_NOT_CONFIGURED' });
  });
});

describe('another local user and the data dir', () => {
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return toPosError(err);
    }
    throw new Error('expected a refusal');
  };

  it.skipIf(!asRoot)('a data dir planted by another user (uid 65534) is refused with the chown fix; nothing is created in it', () => {
    const dataDir = path.join(temp('planted'), 'pos');
    fs.mkdirSync(dataDir, { mode: 0o700 });
    fs.chownSync(dataDir, NOBODY, NOBODY);
    const e = refusal(() => createRuntime({ dataDir, startWorkers: false }));
    expect(e.code).toBe('DATA_DIR_INSECURE');
    expect(e.messageEn).toMatch(/belongs to another user \(uid 65534\).*Fix: sudo chown -R \S+ '.*pos' && chmod 700/);
    expect(e.messageZh).toMatch(/属于其他用户.*修复：sudo chown/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    expect(() => new FileKeyVault(dataDir)).toThrow(/belongs to another user/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it.each([
    ['0777', 0o777, /writable by every user \(mode 777\)/],
    ['1777', 0o1777, /writable by every user \(mode 1777\)/],
    ['0770', 0o770, /writable by its group \(mode 770\)/],
  ])('a data dir with mode %s is refused with the chmod fix; nothing is created in it', (_label, mode, says) => {
    const dataDir = path.join(temp('shared'), 'pos');
    fs.mkdirSync(dataDir);
    fs.chmodSync(dataDir, mode);
    const e = refusal(() => createRuntime({ dataDir, startWorkers: false }));
    expect(e.code).toBe('DATA_DIR_INSECURE');
    expect(e.messageEn).toMatch(says);
    expect(e.messageEn).toMatch(/Fix: chmod 700 '.*pos'$/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    expect(() => new FileKeyVault(dataDir)).toThrow(/chmod 700/);
  });

  it.skipIf(!asRoot)('a data dir path that is a symlink owned by another user is refused, even to a good dir', () => {
    const root = temp('link');
    const target = path.join(root, 'real');
    fs.mkdirSync(target, { mode: 0o700 });
    const dataDir = path.join(root, 'pos');
    fs.symlinkSync(target, dataDir);
    fs.lchownSync(dataDir, NOBODY, NOBODY);
    const e = refusal(() => openDb(dataDir));
    expect(e.code).toBe('DATA_DIR_INSECURE');
    expect(e.messageEn).toMatch(/symbolic link owned by another user \(uid 65534\).*Fix: rm '.*pos'/);
    expect(fs.readdirSync(target)).toEqual([]);
  });

  it('a symlink of our own to a dir of our own is followed', () => {
    const root = temp('ownlink');
    const target = path.join(root, 'real');
    fs.mkdirSync(target, { mode: 0o700 });
    fs.symlinkSync(target, path.join(root, 'pos'));
    openDb(path.join(root, 'pos')).close();
    expect(fs.existsSync(path.join(target, DB_FILE))).toBe(true);
  });

  it('the refusal reaches the CLI and the cashier as one clear error (code, zh and en, the fix)', () => {
    const dataDir = temp('cli');
    fs.chmodSync(dataDir, 0o777);
    const e = refusal(() => openDb(dataDir));
    expect(e.toInfo()).toMatchObject({ code: 'DATA_DIR_INSECURE', details: { dataDir, fix: `chmod 700 '${dataDir}'` } });
  });

  describe('with umask 000', () => {
    let umask: number;
    beforeAll(() => {
      umask = process.umask(0);
    });
    afterAll(() => {
      process.umask(umask);
    });
    const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

    it('a new data dir is 0700; database, WAL, SHM and vault key are 0600', async () => {
      const dataDir = path.join(temp('umask'), 'nested', 'pos');
      const rt = createRuntime({ dataDir, startWorkers: false });
      try {
        rt.updateSettings({ paperWidth: 58 }, 'test');
        expect(modeOf(dataDir)).toBe(0o700);
        const names = fs.readdirSync(dataDir).sort();
        expect(names).toEqual(expect.arrayContaining([DB_FILE, `${DB_FILE}-shm`, `${DB_FILE}-wal`, VAULT_KEY_FILE]));
        for (const name of names) expect([name, modeOf(path.join(dataDir, name))]).toEqual([name, 0o600]);
      } finally {
        await rt.close();
      }
    });

    it('files of an older install (0644) are made 0600 when opened', () => {
      const dataDir = temp('old');
      openDb(dataDir).close();
      for (const name of fs.readdirSync(dataDir)) fs.chmodSync(path.join(dataDir, name), 0o644);
      const db = openDb(dataDir);
      try {
        db.prepare('SELECT 1').get();
        for (const name of fs.readdirSync(dataDir)) expect([name, modeOf(path.join(dataDir, name))]).toEqual([name, 0o600]);
      } finally {
        db.close();
      }
    });
  });
});

describe('renderer code and a hostile gateway write bidi and format characters', () => {
  let sandbox: Sandbox;
  let rt: Runtime;
  let handlers: Handlers;
  beforeAll(async () => {
    sandbox = await createSandbox({ host: '127.0.0.1' });
    rt = createRuntime({
      dataDir: temp('bidi'),
      apiDomain: sandbox.gateway.url,
      printer: 'virtual',
      virtualPrinterUri: sandbox.printer.uri,
      timing: { firstQueryMs: 30, queryEveryMs: 60, pendingWindowMs: 1500, backoffBaseMs: 30, backoffCapMs: 200 },
      printWorker: FAST_PRINT,
    });
    handlers = await signedInHandlers(rt, { mode: 'sandbox', version: '0.0.0', vendor: { ...sandbox.gateway.vendor } });
  });

  afterAll(async () => {
    await rt?.close();
    await sandbox?.close();
  });

  it('receipt bytes, the HTML preview and the views carry none of U+202E, U+200B..U+200F, U+2066..U+2069, U+FEFF or control characters', async () => {
    const activated = await call(handlers, 'terminal.activate', { code: sandbox.gateway.activationCodes()[0]! });
    if (!activated.ok) throw new Error(activated.error.message);
    const terminalSn = activated.value.terminal!.terminalSn;
    // What a hostile gateway could have answered at activation.
    databaseOf(rt).prepare('UPDATE terminal SET store_name = ?').run('Shop\u202Eexe.gnp\u202C\u200B\u0007');
    const order = sandbox.gateway.seedOrder({
      terminalSn,
      totalCents: 1000,
      paywayName: '微信\u202E00.999\u2066',
      subject: 'tea\u200Dcup\u2067\u0000',
      operator: 'op\u2068x\u2069\u200E\u200F',
    });
    const imported = await call(handlers, 'orders.import', { sn: order.sn });
    expect(imported.ok).toBe(true);
    // The renderer (as store IT) chooses operator names: one with bidi or control characters is refused at the door.
    const named = await call(handlers, 'operators.add', { name: 'cash\u202Eier\uFEFF\u200C\u000a\u001b', role: 'cashier', pin: '1234' });
    expect(named).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field: 'name' } } });
    // Who voids is the signed-in operator, never a renderer field.
    const revoke = await call(handlers, 'revoke.request', { sn: order.sn });
    if (!revoke.ok) throw new Error(revoke.error.message);
    expect(revoke.value).toMatchObject({ outcome: 'revoked', operator: 'test-store_it' });

    const [printed] = await sandbox.printer.waitForJobs(1, 10_000);
    expect(printed!.decoded.text).toContain('test-store_it');
    expect(printed!.decoded.text).toContain('Shopexe.gnp');
    for (const line of printed!.decoded.lines) expect(line.text).not.toMatch(CF);
    expect(printed!.decoded.unknown).toEqual([]);

    const preview = await call(handlers, 'receipt.preview', { revokeId: revoke.value.id });
    if (!preview.ok || !preview.value) throw new Error('no preview');
    expect(preview.value.html).not.toMatch(CF);
    expect(preview.value.html).toContain('test-store_it');
    for (const line of preview.value.lines) expect(line).not.toMatch(CF);

    const list = await call(handlers, 'orders.list', {});
    const status = await call(handlers, 'terminal.status', {});
    const search = await call(handlers, 'orders.search', { text: order.sn.slice(0, 8) });
    for (const answer of [list, status, search, imported, revoke]) {
      const json = JSON.stringify(answer);
      expect(json).not.toMatch(/\p{Cf}/u);
      // JSON.stringify writes control characters as escapes.
      expect(json).not.toMatch(/\\u00[01][0-9a-f]|\\[nrtbf]/i);
    }
    if (list.ok) expect(list.value.orders.find((o) => o.sn === order.sn)).toMatchObject({ paywayName: '微信00.999', subject: 'teacup ', operator: 'opx' });
    if (status.ok) expect(status.value.terminal?.storeName).toBe('Shopexe.gnp ');
  });
});
