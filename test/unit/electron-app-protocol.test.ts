/** app://pos served from a directory: files inside only (symlinks too), CSP on every answer. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serveAppRequest } from '../../main/electron/app-protocol';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/policy';

let root: string;
let outside: string;

beforeAll(() => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-proto-'));
  root = path.join(base, 'renderer');
  outside = path.join(base, 'secret.txt');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>pos</title>');
  fs.writeFileSync(path.join(root, 'app.js'), 'console.log(1)');
  fs.writeFileSync(outside, 'terminal_key');
  fs.symlinkSync(outside, path.join(root, 'leak.txt'));
  fs.symlinkSync(base, path.join(root, 'up'));
});

const get = (url: string, method = 'GET') => serveAppRequest(root, { url, method });

describe('serveAppRequest', () => {
  it('serves index.html for / with the CSP and the right type', async () => {
    const r = await get('app://pos/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(await r.text()).toContain('<title>pos</title>');
    const js = await get('app://pos/app.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });

  it.each([
    ['app://pos/missing.html', 404],
    ['app://pos/sub', 404],
    ['app://pos/sub/', 404],
    ['app://pos/leak.txt', 404],
    ['app://pos/up/secret.txt', 404],
    ['app://pos/../secret.txt', 403],
    ['app://pos/%2e%2e/secret.txt', 403],
    ['app://pos/..%2fsecret.txt', 400],
    ['app://other/index.html', 403],
  ])('%s -> %d, with the CSP, leaking nothing', async (url, status) => {
    const r = await get(url);
    expect(r.status).toBe(status);
    expect(r.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await r.text()).not.toContain('terminal_key');
  });

  it('HEAD has no body; POST is refused', async () => {
    const h = await get('app://pos/index.html', 'HEAD');
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('');
    expect((await get('app://pos/index.html', 'POST')).status).toBe(405);
  });
});
