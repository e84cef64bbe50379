/**
 * Where `upay-pos activate` takes the vendor key: UPAY_VENDOR_KEY, a file
 * only its owner can read (--vendor-key-file), or stdin (--vendor-key-stdin,
 * --vendor-key -); --vendor-key KEY still works. A file other users can read
 * is refused before anything is sent. The built bin runs as a child process
 * against an in-process sandbox on loopback.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import { cliEnv, describeRun, ensureCliBuilt, oneJson, removeCliSnapshot, runCli } from '../support/cli-run';
import { tempDir } from '../support/harness';

describe('upay-pos activate: vendor key sources', () => {
  let sandbox: Sandbox;
  let work: string;
  beforeAll(async () => {
    ensureCliBuilt();
    sandbox = await createSandbox();
    work = tempDir('upay-pos-vkey-');
  }, 180_000);
  afterAll(async () => {
    await sandbox.close();
    removeCliSnapshot();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const base = () => {
    const v = sandbox.gateway.vendor;
    return ['activate', '--json', '--data-dir', tempDir(), '--api-domain', sandbox.gateway.url, '--app-id', v.appId, '--vendor-sn', v.vendorSn, '--device-id', 'vk', '--code', sandbox.gateway.addActivationCode()];
  };
  const activated = (r: Awaited<ReturnType<typeof runCli>>) => {
    expect(r.code, describeRun(r)).toBe(0);
    expect(oneJson<{ terminal: { terminalSn: string } }>(r).terminal.terminalSn).toMatch(/^\d+$/);
  };

  it('--help leads with UPAY_VENDOR_KEY, --vendor-key-file and --vendor-key-stdin, and says why never the key itself on the command line', async () => {
    const r = await runCli(['--help'], { env: cliEnv() });
    const text = r.stdout;
    const at = (s: string) => text.indexOf(s);
    expect(at('UPAY_VENDOR_KEY')).toBeGreaterThan(0);
    expect(at('UPAY_VENDOR_KEY')).toBeLessThan(at('--vendor-key-file'));
    expect(at('--vendor-key-file')).toBeLessThan(at('--vendor-key-stdin'));
    expect(text).not.toContain('--vendor-key KEY');
    expect(text).toMatch(/never the key itself on the\s+command line \(every local user sees it in ps/);
  });

  it('from the environment (UPAY_VENDOR_KEY; app id and vendor sn may come from UPAY_VENDOR_APP_ID / UPAY_VENDOR_SN too)', async () => {
    const v = sandbox.gateway.vendor;
    const r = await runCli(['activate', '--json', '--data-dir', tempDir(), '--api-domain', sandbox.gateway.url, '--device-id', 'vk', '--code', sandbox.gateway.addActivationCode()], {
      env: cliEnv({ UPAY_VENDOR_KEY: v.vendorKey, UPAY_VENDOR_SN: v.vendorSn, UPAY_VENDOR_APP_ID: v.appId }),
    });
    activated(r);
  });

  it('from a 0600 file; a file other users can read (0644, 0640) is refused (exit 2) with nothing sent or stored', async () => {
    const file = path.join(work, 'vendor.key');
    fs.writeFileSync(file, `${sandbox.gateway.vendor.vendorKey}\n`, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    activated(await runCli([...base(), '--vendor-key-file', file], { env: cliEnv() }));

    for (const mode of [0o644, 0o640]) {
      fs.chmodSync(file, mode);
      sandbox.gateway.clearLog();
      const args = base();
      const dir = args[3]!;
      const r = await runCli([...args, '--vendor-key-file', file], { env: cliEnv() });
      expect(r.code, describeRun(r)).toBe(2);
      const err = oneJson<{ error: { code: string; message: string } }>(r).error;
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toMatch(/--vendor-key-file.*readable by other users.*chmod 600/);
      expect(err.message).not.toContain(sandbox.gateway.vendor.vendorKey);
      expect(sandbox.gateway.log()).toEqual([]);
      expect(fs.readdirSync(dir)).toEqual([]);
    }
  });

  it('from stdin (--vendor-key-stdin, or --vendor-key -)', async () => {
    activated(await runCli([...base(), '--vendor-key-stdin'], { env: cliEnv(), input: `${sandbox.gateway.vendor.vendorKey}\n` }));
    activated(await runCli([...base(), '--vendor-key', '-'], { env: cliEnv(), input: sandbox.gateway.vendor.vendorKey }));
  });

  it('--vendor-key KEY keeps working; two sources at once, or none, are refused (exit 2)', async () => {
    activated(await runCli([...base(), '--vendor-key', sandbox.gateway.vendor.vendorKey], { env: cliEnv() }));
    const file = path.join(work, 'vendor2.key');
    fs.writeFileSync(file, sandbox.gateway.vendor.vendorKey, { mode: 0o600 });
    const both = await runCli([...base(), '--vendor-key-file', file, '--vendor-key-stdin'], { env: cliEnv(), input: 'x' });
    expect(both.code, describeRun(both)).toBe(2);
    expect(oneJson<{ error: { message: string } }>(both).error.message).toMatch(/one way only/);
    const none = await runCli(base(), { env: cliEnv() });
    expect(none.code, describeRun(none)).toBe(2);
    expect(oneJson<{ error: { message: string } }>(none).error.message).toMatch(/UPAY_VENDOR_KEY/);
  });
});
