/**
 * The smaller holes: a world-readable vendor.json, app.info telling a page
 * with no session where the data and the gateway are, help and docs that
 * put secrets on argv or in the shell history, and the renderer pointing
 * the receipt printer at any host name.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { USAGE } from '../../main/cli/usage';
import { boot } from '../../main/electron/boot';
import { createHandlerSet, type HandlerSet } from '../../main/ipc/handlers';
import type { Logger } from '../../main/runtime';
import { createSandbox } from '../../main/sandbox';
import { getSettings, setSettings } from '../../main/store/settings';
import { databaseOf } from '../../main/runtime';
import { FileKeyVault } from '../../main/terminal/vault';
import { createHarness, type Harness } from '../support/harness';
import { newWindow, signIn } from '../support/operators';

const ROOT = path.resolve(__dirname, '../..');
const KEY = 'k'.repeat(32);

describe('vendor.json holds the vendor key: owner-only, like the CLI key file', () => {
  const run = async (mode: number) => {
    const sb = await createSandbox({ host: '127.0.0.1' });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-vendor-'));
    const vendorFile = path.join(dataDir, 'vendor.json');
    fs.writeFileSync(vendorFile, JSON.stringify({ appId: 'app', vendorSn: 'vsn', vendorKey: KEY }), { mode });
    fs.chmodSync(vendorFile, mode);
    const warnings: string[] = [];
    const logger: Logger = { info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} } as unknown as Logger;
    const b = await boot({ dataDir, env: { UPAY_API_DOMAIN: sb.gateway.url }, logger, vault: (dir) => new FileKeyVault(dir), vendorFile });
    try {
      return { vendor: b.vendor, warnings };
    } finally {
      await b.close();
      await sb.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  };

  it.skipIf(process.platform === 'win32')('mode 0644 or 0640: refused, with a message that names the fix and not the key', async () => {
    for (const mode of [0o644, 0o640]) {
      const r = await run(mode);
      expect(r.vendor).toBeNull();
      expect(r.warnings.join('\n')).toMatch(/vendor\.json.*readable by other users.*chmod 600/);
      expect(r.warnings.join('\n')).not.toContain(KEY);
    }
  });

  it.skipIf(process.platform === 'win32')('mode 0600: read', async () => {
    expect((await run(0o600)).vendor).toMatchObject({ appId: 'app', vendorSn: 'vsn' });
  });
});

describe('app.info before sign-in', () => {
  let h: Harness;
  let set: HandlerSet;
  beforeEach(async () => {
    h = await createHarness();
    set = createHandlerSet(h.rt, { mode: 'sandbox', version: '1.2.3', vendor: null });
  });
  afterEach(async () => {
    await h.close();
  });

  it('a window with no session learns only what the sign-in screen shows: no data dir, no gateway address', async () => {
    const r = await set.handlers['app.info']({}, newWindow());
    expect(r).toMatchObject({ ok: true, value: { version: '1.2.3', mode: 'sandbox', apiDomain: null, dataDir: null } });
    expect(JSON.stringify(r)).not.toContain(h.dataDir);
    const it_ = await signIn(h.rt, set, 'store_it');
    expect(await it_['app.info']({})).toMatchObject({ ok: true, value: { apiDomain: h.rt.apiDomain, dataDir: h.rt.dataDir } });
  });
});

describe('no help text or doc puts a secret on argv or in the shell history', () => {
  const SECRET_ON_ARGV: Array<[string, RegExp]> = [
    ['a PIN echoed into a pipe', /\b(echo|printf)\s+['"]?\d{4,8}/],
    ['a here-string', /<<<\s*['"]?\S/],
    ['a vendor key as a flag value', /--vendor-key(?!-)[ =](?!-|FILE)\S/],
    ['a fleet URL as a flag value', /--url[ =](?!-)\S/],
  ];
  const texts: Array<[string, string]> = [
    ['--help', USAGE],
    ...['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md')).map((f) => [f, fs.readFileSync(path.join(ROOT, f), 'utf8')] as [string, string]),
  ];
  for (const [name, text] of texts) {
    it(name, () => {
      for (const [what, re] of SECRET_ON_ARGV) {
        const line = text.split('\n').find((l) => re.test(l));
        expect(line, `${what} in ${name}`).toBeUndefined();
      }
    });
  }
});

describe('the receipt printer, set from the renderer', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('a host name or a public address is refused; a literal private-range or link-local IP is accepted; the CLI may still set anything', async () => {
    const it_ = await signIn(h.rt, { mode: 'production', version: '1', vendor: null }, 'store_it');
    for (const printer of ['tcp://printer.example.com:9100', 'tcp://receipts.attacker.example:9101', 'tcp://8.8.8.8:9100', 'tcp://[2001:db8::1]:9100', 'tcp://172.32.0.1:9100']) {
      const r = await it_['settings.set']({ printer });
      expect(r, printer).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', details: { field: 'printer' }, messageZh: expect.stringMatching(/内网/) } });
    }
    expect(h.rt.settings().printer).toBeUndefined();
    for (const printer of ['tcp://192.168.1.50:9100', 'tcp://10.0.0.7:9109', 'tcp://172.16.4.2:9100', 'tcp://169.254.10.2:9100', 'tcp://[fe80::1]:9100', 'tcp://[fd00::5]:9100']) {
      expect(await it_['settings.set']({ printer }), printer).toMatchObject({ ok: true, value: { printer } });
    }
    await it_['settings.set']({ printer: 'none' });
    // The CLI (store IT, trusted) writes settings directly: a host name stays possible there.
    setSettings(databaseOf(h.rt), { printer: 'tcp://printer.shop.lan:9100' }, 'cli:it', Date.now());
    expect(getSettings(databaseOf(h.rt)).printer).toBe('tcp://printer.shop.lan:9100');
  });
});
