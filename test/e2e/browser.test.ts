/**
 * Which browser the e2e tests drive: UPAY_E2E_BROWSER (a path, `npm`,
 * `system`), else the npm package's Chromium where it runs, else an
 * installed Chrome/Chromium/Edge. The npm browser gets a fontconfig that
 * lists only its own fonts: no system font (CJK or other) reaches a page.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBrowser, systemBrowserPaths } from './harness';

describe('e2e browser', () => {
  it('an explicit path wins; a wrong one is a clear error', async () => {
    expect(await findBrowser({ UPAY_E2E_BROWSER: process.execPath })).toEqual({ executablePath: process.execPath, source: 'env', env: {} });
    await expect(findBrowser({ UPAY_E2E_BROWSER: '/nonexistent/chrome' })).rejects.toThrow(/UPAY_E2E_BROWSER=\/nonexistent\/chrome: no such file/);
  });

  it('installed browsers are looked for on Linux, macOS and Windows: Chrome, Chromium and Edge', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const paths = systemBrowserPaths(platform, { PROGRAMFILES: 'C:\\Program Files', LOCALAPPDATA: 'C:\\Users\\it\\AppData\\Local' }).join('\n');
      expect(paths, platform).toMatch(/chrome/i);
      expect(paths, platform).toMatch(/chromium/i);
      expect(paths, platform).toMatch(/edge/i);
    }
  });

  it.runIf(process.platform === 'linux' && process.arch === 'x64')('on Linux x64 the default is the npm Chromium, with no system font', async () => {
    const found = await findBrowser({});
    expect(found.source).toBe('npm');
    expect(await findBrowser({ UPAY_E2E_BROWSER: 'npm' })).toEqual(found);
    expect(fs.statSync(found.executablePath).mode & 0o100).toBeTruthy();
    const conf = fs.readFileSync(found.env.FONTCONFIG_FILE!, 'utf8');
    const dirs = [...conf.matchAll(/<dir>([^<]+)<\/dir>/g)].map((m) => m[1]!);
    expect(dirs).toEqual([path.join(path.dirname(found.env.FONTCONFIG_FILE!), 'fonts')]);
    expect(conf).not.toMatch(/include|\/usr\/share\/fonts|\/etc\/fonts/);
  });
});
