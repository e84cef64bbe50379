/**
 * The app's startup without Electron (main/electron/boot.ts): with no gateway
 * configured it runs the embedded sandbox with a ready terminal and paid
 * orders, and app.info says `sandbox`; with a gateway it is production and
 * takes vendor credentials from the environment only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { boot } from '../../main/electron/boot';
import { silentLogger } from '../../main/runtime';
import { createSandbox } from '../../main/sandbox';
import { openDb } from '../../main/store/db';
import { FileKeyVault } from '../../main/terminal/vault';
import { signedInHandlers, signIn } from '../support/operators';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'upay-boot-'));

describe('boot', () => {
  it('no gateway configured: sandbox mode, activated, with orders a cashier can revoke', async () => {
    const dataDir = tmp();
    const b = await boot({ dataDir, env: {}, logger: silentLogger, vault: (dir) => new FileKeyVault(dir), vendorFile: null, runtime: { timing: { firstQueryMs: 30, queryEveryMs: 60 } } });
    try {
      expect(b.mode).toBe('sandbox');
      expect(b.runtime.dataDir).toBe(path.join(dataDir, 'sandbox'));
      // The sandbox's operators: the cashier signs in with the PIN the docs print.
      expect(b.runtime.operators.list().map((o) => `${o.name}:${o.role}`).sort()).toEqual(['门店IT:store_it', '小王:cashier', '李主管:supervisor'].sort());
      const h = await signIn(b.runtime, { mode: b.mode, version: '1.0.0', vendor: b.vendor }, 'cashier', '小王');
      const info = await h['app.info']({});
      expect(info).toMatchObject({ ok: true, value: { mode: 'sandbox', apiDomain: b.sandbox!.gateway.url } });
      expect(await h['terminal.status']({})).toMatchObject({ ok: true, value: { activated: true } });
      const list = await h['orders.list']({});
      if (!list.ok) throw new Error(list.error.message);
      expect(list.value.orders).toHaveLength(3);
      const r = await h['revoke.request']({ sn: list.value.orders[0]!.sn });
      expect(r).toMatchObject({ ok: true, value: { outcome: 'revoked' } });
      expect(await h['printer.status']({})).toMatchObject({ ok: true, value: { uri: 'virtual' } });
      expect(b.secrets).toContain(b.vendor!.vendorKey);
    } finally {
      await b.close();
    }
    // The main data dir holds no sandbox terminal, and a restart starts a fresh sandbox dir.
    const db = openDb(dataDir);
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM terminal').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    const again = await boot({ dataDir, env: {}, logger: silentLogger, vault: (dir) => new FileKeyVault(dir), vendorFile: null, seedSandbox: false });
    try {
      expect(again.runtime.terminal.info()).toBeNull();
    } finally {
      await again.close();
    }
  });

  it('a configured gateway: production mode; without vendor credentials activation is VENDOR_NOT_CONFIGURED', async () => {
    const sb = await createSandbox({ host: '127.0.0.1' });
    const dataDir = tmp();
    const b = await boot({ dataDir, env: { UPAY_API_DOMAIN: sb.gateway.url }, logger: silentLogger, vault: (dir) => new FileKeyVault(dir), vendorFile: path.join(dataDir, 'nope.json') });
    try {
      expect(b.mode).toBe('production');
      expect(b.vendor).toBeNull();
      expect(b.runtime.dataDir).toBe(dataDir);
      const h = await signedInHandlers(b.runtime, { mode: b.mode, version: '1', vendor: b.vendor });
      expect(await h['app.info']({})).toMatchObject({ ok: true, value: { mode: 'production', apiDomain: sb.gateway.url } });
      const r = await h['terminal.activate']({ code: sb.gateway.activationCodes()[0]! });
      expect(r).toMatchObject({ ok: false, error: { code: 'VENDOR_NOT_CONFIGURED', messageZh: expect.stringMatching(/服务商/) } });
    } finally {
      await b.close();
      await sb.close();
    }
  });

  it('production vendor credentials from vendor.json', async () => {
    const sb = await createSandbox({ host: '127.0.0.1' });
    const dataDir = tmp();
    const vendorFile = path.join(dataDir, 'vendor.json');
    // Owner-only, as the app requires of a file holding the vendor key.
    fs.writeFileSync(vendorFile, JSON.stringify(sb.gateway.vendor), { mode: 0o600 });
    const b = await boot({ dataDir, env: { UPAY_API_DOMAIN: sb.gateway.url }, logger: silentLogger, vault: (dir) => new FileKeyVault(dir), vendorFile });
    try {
      const h = await signedInHandlers(b.runtime, { mode: b.mode, version: '1', vendor: b.vendor });
      expect(await h['terminal.activate']({ code: sb.gateway.activationCodes()[0]! })).toMatchObject({ ok: true, value: { activated: true } });
    } finally {
      await b.close();
      await sb.close();
    }
  });
});
