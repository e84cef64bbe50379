/** The shell's pure decisions: CSP, app:// path containment, navigation, crash back-off, vault backend, gateway mode, vendor credentials. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  isAllowedNavigation,
  isInside,
  mimeType,
  onRendererGone,
  permissionDecision,
  resolveAppPath,
  resolveGateway,
  resolveVendor,
  securityHeaders,
  vaultDecision,
  windowOpenDecision,
} from '../../main/electron/policy';

const ROOT = path.resolve('/opt/upay/resources/app.asar/dist/renderer');

describe('CSP', () => {
  it('is the strict policy, with every directive', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
    );
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*|http:|https:/);
    expect(securityHeaders('text/html')).toMatchObject({ 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' });
  });

  it('maps types', () => {
    expect(mimeType('a/index.html')).toMatch(/text\/html/);
    expect(mimeType('app.js')).toMatch(/javascript/);
    expect(mimeType('x.exe')).toBe('application/octet-stream');
  });
});

describe('resolveAppPath', () => {
  it('serves files under the renderer root; / is index.html', () => {
    expect(resolveAppPath(ROOT, 'app://pos/')).toEqual({ ok: true, file: path.join(ROOT, 'index.html') });
    expect(resolveAppPath(ROOT, 'app://pos')).toEqual({ ok: true, file: path.join(ROOT, 'index.html') });
    expect(resolveAppPath(ROOT, 'app://pos/app.js?v=1#x')).toEqual({ ok: true, file: path.join(ROOT, 'app.js') });
    expect(resolveAppPath(ROOT, 'app://pos/assets/logo%20big.png')).toEqual({ ok: true, file: path.join(ROOT, 'assets', 'logo big.png') });
    expect(resolveAppPath(ROOT, 'app://pos/error.html', 'HEAD')).toEqual({ ok: true, file: path.join(ROOT, 'error.html') });
  });

  it.each([
    ['app://pos/../package.json', 403],
    ['app://pos/a/../../package.json', 403],
    ['app://pos/./index.html', 403],
    ['app://pos/%2e%2e/package.json', 403],
    ['app://pos/%2E%2E/%2E%2E/etc/passwd', 403],
    ['app://pos/.%2e/x', 403],
    ['app://pos/%252e%252e/x', 200],
    ['app://pos/..%2fpackage.json', 400],
    ['app://pos/%2fetc%2fpasswd', 400],
    ['app://pos/..%5cpackage.json', 400],
    ['app://pos/a%5c..%5c..%5cx', 400],
    ['app://pos/index.html%00.png', 400],
    ['app://pos/%E0%A4%A', 400],
    ['app://pos//etc/passwd', 403],
    ['app://pos/C:/Windows/win.ini', 403],
    ['app://pos/c:%5cwindows', 400],
    ['app://evil/index.html', 403],
    ['app://pos:81/index.html', 403],
    ['file:///etc/passwd', 403],
    ['https://pos/index.html', 403],
  ])('%s -> %d', (url, status) => {
    const d = resolveAppPath(ROOT, url);
    if (status === 200) {
      // A doubly encoded name is just a strange file name inside the root.
      expect(d.ok).toBe(true);
      if (d.ok) expect(isInside(ROOT, d.file)).toBe(true);
    } else {
      expect(d).toEqual({ ok: false, status });
    }
  });

  it('refuses methods other than GET/HEAD', () => {
    expect(resolveAppPath(ROOT, 'app://pos/index.html', 'POST')).toEqual({ ok: false, status: 405 });
  });

  it('whatever it accepts stays inside the root (fuzz)', () => {
    const parts = ['..', '.', '%2e', '%2E%2e', 'a', '%2f', '%5c', '', 'b.js', '%00', '~', 'C:', '%', '%25'];
    for (let i = 0; i < 3000; i++) {
      const n = 1 + (i % 5);
      const segs = Array.from({ length: n }, (_, j) => parts[(i * 7 + j * 13 + (i >> 3)) % parts.length]);
      const d = resolveAppPath(ROOT, `app://pos/${segs.join('/')}`);
      if (d.ok) expect(isInside(ROOT, d.file) && d.file !== ROOT).toBe(true);
    }
  });

  it('isInside', () => {
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
  });
});

describe('navigation', () => {
  it('allows only app://pos', () => {
    expect(isAllowedNavigation('app://pos/index.html')).toBe(true);
    expect(isAllowedNavigation('app://pos/error.html')).toBe(true);
    for (const url of [
      'https://vsi-api.shouqianba.com/',
      'http://localhost:5173/',
      'file:///etc/passwd',
      'app://evil/',
      'app://pos.evil.com/',
      'javascript:alert(1)',
      'data:text/html,hi',
      'about:blank',
      'chrome://settings',
      'devtools://devtools/',
      '',
    ]) {
      expect(isAllowedNavigation(url), url).toBe(false);
    }
  });

  it('opens no windows and grants no permissions', () => {
    expect(windowOpenDecision('app://pos/index.html')).toEqual({ action: 'deny' });
    expect(windowOpenDecision('https://x')).toEqual({ action: 'deny' });
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'hid', 'serial']) expect(permissionDecision(p)).toBe(false);
  });
});

describe('renderer crash policy', () => {
  const policy = { windowMs: 60_000, maxCrashes: 4, baseDelayMs: 500, maxDelayMs: 3000 };
  it('reloads with a growing delay, then shows the error page', () => {
    let hist: number[] = [];
    const decisions = [0, 1000, 2000, 3000].map((t) => {
      const d = onRendererGone(hist, t, policy);
      hist = d.recent;
      return d;
    });
    expect(decisions.map((d) => d.action)).toEqual(['reload', 'reload', 'reload', 'error-page']);
    expect(decisions.slice(0, 3).map((d) => (d.action === 'reload' ? d.delayMs : -1))).toEqual([500, 1000, 2000]);
  });

  it('forgets crashes older than the window', () => {
    const d = onRendererGone([0, 1, 2], 120_000, policy);
    expect(d).toEqual({ action: 'reload', delayMs: 500, recent: [120_000] });
  });

  it('caps the delay', () => {
    const d = onRendererGone([1, 2], 3, { ...policy, maxCrashes: 10, baseDelayMs: 2000 });
    expect(d).toMatchObject({ action: 'reload', delayMs: 3000 });
  });
});

describe('vault backend policy', () => {
  it('refuses when encryption is unavailable', () => {
    expect(vaultDecision({ platform: 'win32', encryptionAvailable: false, allowBasicText: true })).toMatchObject({ ok: false, code: 'VAULT_UNAVAILABLE' });
  });
  it('refuses basic_text on Linux unless allowed', () => {
    expect(vaultDecision({ platform: 'linux', encryptionAvailable: true, backend: 'basic_text', allowBasicText: false })).toMatchObject({ ok: false, code: 'VAULT_INSECURE' });
    expect(vaultDecision({ platform: 'linux', encryptionAvailable: true, backend: 'basic_text', allowBasicText: true })).toEqual({ ok: true, backend: 'basic_text' });
  });
  it('accepts a real keyring, Keychain and DPAPI', () => {
    expect(vaultDecision({ platform: 'linux', encryptionAvailable: true, backend: 'gnome_libsecret', allowBasicText: false })).toEqual({ ok: true, backend: 'gnome_libsecret' });
    expect(vaultDecision({ platform: 'linux', encryptionAvailable: true, backend: 'kwallet5', allowBasicText: false }).ok).toBe(true);
    expect(vaultDecision({ platform: 'darwin', encryptionAvailable: true, allowBasicText: false })).toEqual({ ok: true, backend: 'keychain' });
    expect(vaultDecision({ platform: 'win32', encryptionAvailable: true, allowBasicText: false })).toEqual({ ok: true, backend: 'dpapi' });
  });
  it('refuses an unknown Linux backend unless allowed', () => {
    expect(vaultDecision({ platform: 'linux', encryptionAvailable: true, backend: 'unknown', allowBasicText: false }).ok).toBe(false);
  });
});

describe('gateway mode and vendor credentials', () => {
  it('no gateway configured -> sandbox', () => {
    expect(resolveGateway({}, undefined)).toEqual({ mode: 'sandbox' });
    expect(resolveGateway({ UPAY_API_DOMAIN: ' ' }, null)).toEqual({ mode: 'sandbox' });
  });
  it('env wins over the stored setting', () => {
    expect(resolveGateway({ UPAY_API_DOMAIN: 'https://a.example' }, 'https://b.example')).toEqual({ mode: 'production', apiDomain: 'https://a.example' });
    expect(resolveGateway({}, 'https://vsi-api.shouqianba.com')).toEqual({ mode: 'production', apiDomain: 'https://vsi-api.shouqianba.com' });
  });

  const KEY = '0123456789abcdef0123456789abcdef';
  it('reads all three env vars, or vendor.json, never mixes', () => {
    expect(resolveVendor({ UPAY_VENDOR_APP_ID: 'app', UPAY_VENDOR_SN: 'sn', UPAY_VENDOR_KEY: KEY }, () => null)).toEqual({
      vendor: { appId: 'app', vendorSn: 'sn', vendorKey: KEY },
      source: 'env',
    });
    const partial = resolveVendor({ UPAY_VENDOR_SN: 'sn' }, () => JSON.stringify({ appId: 'a', vendorSn: 's', vendorKey: KEY }));
    expect(partial).toMatchObject({ vendor: null, problem: expect.stringMatching(/together/) });
    expect(resolveVendor({}, () => JSON.stringify({ appId: 'a', vendorSn: 's', vendorKey: KEY }))).toMatchObject({ source: 'file', vendor: { appId: 'a' } });
    expect(resolveVendor({}, () => null)).toEqual({ vendor: null, source: 'none' });
  });
  it('describes a bad vendor.json without echoing the key', () => {
    const bad = resolveVendor({}, () => JSON.stringify({ appId: 'a', vendorSn: 's', vendorKey: 'short' }));
    expect(bad.vendor).toBeNull();
    expect(JSON.stringify(bad)).not.toContain('short');
    expect(resolveVendor({}, () => '{not json')).toMatchObject({ vendor: null, problem: expect.stringMatching(/JSON/) });
    const eacces = resolveVendor({}, () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    });
    expect(eacces).toMatchObject({ vendor: null, problem: expect.stringMatching(/EACCES/) });
  });
});
