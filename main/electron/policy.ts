/**
 * The Electron shell's decisions, as pure functions (no Electron import, so
 * they are unit-tested under plain Node): the CSP, which app:// paths are
 * served, where a window may navigate, how a crashed renderer is recovered,
 * whether the OS key store is good enough, and sandbox vs production mode.
 */
import path from 'node:path';
import { z } from 'zod';
import { APP_ORIGIN, isAppUrl } from '../ipc/sender';
import { checkGatewayUrl } from '../upay/gateway-url';
import { PrivateFileError } from '../util/private-file';
import { backoff } from '../common/backoff';

export { APP_ORIGIN, APP_SCHEME, APP_HOST, isAppUrl } from '../ipc/sender';

// ---------------------------------------------------------------------- CSP

/** Sent on every app:// response. The renderer is self-contained: no remote anything, no inline script or style. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Headers for every app:// response (CSP included). */
export function securityHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeType(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

// ------------------------------------------------------------ app:// paths

export type AppPathDecision = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404 | 405 };

/**
 * Maps an app://pos request to a file under `root`, or refuses it. Refused:
 * another host, any `.`/`..` segment (plain or percent-encoded), an encoded
 * slash or backslash, NUL, a drive letter or absolute Windows path, and
 * anything that resolves outside `root`. `/` serves index.html. Existence
 * (and symlinks) are checked by the caller, which answers 404.
 */
export function resolveAppPath(root: string, requestUrl: string, method = 'GET'): AppPathDecision {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, status: 405 };
  if (!isAppUrl(requestUrl)) return { ok: false, status: 403 };
  // Read the raw path ourselves: the WHATWG parser already folds `..`, which would hide an attempt.
  const raw = rawPath(requestUrl);
  if (raw === null) return { ok: false, status: 400 };
  if (/%2f|%5c|%00/i.test(raw)) return { ok: false, status: 400 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { ok: false, status: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { ok: false, status: 400 };
  const segments = decoded.split('/').filter((s, i) => !(i === 0 && s === ''));
  if (segments.some((s) => s === '.' || s === '..' || s.includes(':'))) return { ok: false, status: 403 };
  if (segments.slice(0, -1).some((s) => s === '')) return { ok: false, status: 403 };
  const rel = segments.length === 0 || (segments.length === 1 && segments[0] === '') ? 'index.html' : segments.join('/');
  const base = path.resolve(root);
  const file = path.resolve(base, rel);
  if (file !== base && !file.startsWith(base + path.sep)) return { ok: false, status: 403 };
  if (file === base) return { ok: false, status: 404 };
  return { ok: true, file };
}

/** The path part of a URL exactly as written (before the parser normalises it), without query or fragment. */
function rawPath(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url);
  if (!m) return null;
  return m[1] === '' ? '/' : (m[1] ?? '/');
}

/** True when `real` (a realpath) is `root` or inside it: a symlink must not lead out of the renderer. */
export function isInside(root: string, real: string): boolean {
  const base = path.resolve(root);
  const file = path.resolve(real);
  return file === base || file.startsWith(base + path.sep);
}

// --------------------------------------------------------------- navigation

/** A window may only ever show the app's own origin. */
export function isAllowedNavigation(url: string): boolean {
  return isAppUrl(url, APP_ORIGIN);
}

/** window.open and target=_blank: the app opens no other windows. */
export function windowOpenDecision(_url: string): { action: 'deny' } {
  return { action: 'deny' };
}

/** Permission requests (camera, notifications, ...): the cashier UI needs none. */
export function permissionDecision(_permission: string): boolean {
  return false;
}

// ------------------------------------------------------------ crash policy

export interface CrashPolicy {
  /** Crashes within this window count together. */
  windowMs: number;
  /** At this many crashes in the window, stop reloading and show the error page. */
  maxCrashes: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_CRASH_POLICY: CrashPolicy = { windowMs: 5 * 60_000, maxCrashes: 4, baseDelayMs: 500, maxDelayMs: 15_000 };

export type CrashDecision = { action: 'reload'; delayMs: number; recent: number[] } | { action: 'error-page'; recent: number[] };

/**
 * After a renderer crash at `now`, given earlier crash times: reload with an
 * exponential back-off, or, after `maxCrashes` in the window, load the local
 * error page (a crash loop must not hammer the machine or hide the problem).
 */
export function onRendererGone(previous: readonly number[], now: number, policy: CrashPolicy = DEFAULT_CRASH_POLICY): CrashDecision {
  const recent = [...previous.filter((t) => now - t < policy.windowMs && t <= now), now];
  if (recent.length >= policy.maxCrashes) return { action: 'error-page', recent };
  const delayMs = backoff(recent.length, policy.baseDelayMs, policy.maxDelayMs);
  return { action: 'reload', delayMs, recent };
}

// ------------------------------------------------------------ vault policy

export interface VaultEnvironment {
  platform: NodeJS.Platform;
  encryptionAvailable: boolean;
  /** Linux only: safeStorage.getSelectedStorageBackend(). */
  backend?: string | undefined;
  /** Setting `allowBasicTextVault`: the operator accepts the basic_text backend. */
  allowBasicText: boolean;
}

export type VaultDecision = { ok: true; backend: string } | { ok: false; code: 'VAULT_UNAVAILABLE' | 'VAULT_INSECURE'; message: string };

/**
 * Whether the OS key store may hold the terminal key. Refused when
 * encryption is unavailable, and on Linux when Chromium fell back to
 * `basic_text` (a hard-coded password: no protection) unless the operator
 * allowed it in the settings.
 */
export function vaultDecision(env: VaultEnvironment): VaultDecision {
  if (!env.encryptionAvailable) {
    return { ok: false, code: 'VAULT_UNAVAILABLE', message: 'the OS key store is not available (safeStorage.isEncryptionAvailable() is false)' };
  }
  if (env.platform === 'linux') {
    const backend = env.backend ?? 'unknown';
    if (backend === 'basic_text' && !env.allowBasicText) {
      return {
        ok: false,
        code: 'VAULT_INSECURE',
        message: 'the Linux key store fell back to basic_text (no real protection); install a keyring (gnome-libsecret or kwallet) or set allowBasicTextVault',
      };
    }
    if (backend === 'unknown' && !env.allowBasicText) {
      return { ok: false, code: 'VAULT_UNAVAILABLE', message: 'the Linux key store backend is unknown' };
    }
    return { ok: true, backend };
  }
  return { ok: true, backend: env.platform === 'darwin' ? 'keychain' : env.platform === 'win32' ? 'dpapi' : env.platform };
}

// ---------------------------------------------------------------- gateway

export type GatewayConfig = { mode: 'sandbox' } | { mode: 'production'; apiDomain: string };

/**
 * The gateway is store IT's decision, never the renderer's: UPAY_API_DOMAIN,
 * else the `apiDomain` stored with `upay-pos settings set`; neither: the
 * embedded sandbox. Either one must pass the https rule (checkGatewayUrl), or
 * the app does not start.
 */
export function resolveGateway(env: NodeJS.ProcessEnv, storedApiDomain: string | undefined | null): GatewayConfig {
  const fromEnv = env.UPAY_API_DOMAIN?.trim();
  if (fromEnv) return { mode: 'production', apiDomain: checkGatewayUrl(fromEnv, 'UPAY_API_DOMAIN') };
  if (storedApiDomain) return { mode: 'production', apiDomain: checkGatewayUrl(storedApiDomain, 'apiDomain') };
  return { mode: 'sandbox' };
}

const vendorSchema = z.strictObject({
  appId: z.string().min(1).max(64),
  vendorSn: z.string().min(1).max(64),
  vendorKey: z.string().min(16).max(256),
});
export type VendorConfig = z.output<typeof vendorSchema>;

export type VendorSource = { vendor: VendorConfig; source: 'env' | 'file' } | { vendor: null; source: 'none'; problem?: string };

/**
 * Production vendor credentials: UPAY_VENDOR_APP_ID / UPAY_VENDOR_SN /
 * UPAY_VENDOR_KEY (all three), else a vendor.json ({ appId, vendorSn,
 * vendorKey }) read by `readVendorFile` (the app's resources directory).
 * A problem is described without the key.
 */
export function resolveVendor(env: NodeJS.ProcessEnv, readVendorFile: () => string | null): VendorSource {
  const fromEnv = { appId: env.UPAY_VENDOR_APP_ID, vendorSn: env.UPAY_VENDOR_SN, vendorKey: env.UPAY_VENDOR_KEY };
  const given = Object.values(fromEnv).filter((v) => v !== undefined && v !== '').length;
  if (given === 3) {
    const r = vendorSchema.safeParse(fromEnv);
    if (r.success) return { vendor: r.data, source: 'env' };
    return { vendor: null, source: 'none', problem: `UPAY_VENDOR_* invalid: ${r.error.issues.map((i) => i.path.join('.')).join(', ')}` };
  }
  if (given > 0) return { vendor: null, source: 'none', problem: 'UPAY_VENDOR_APP_ID, UPAY_VENDOR_SN and UPAY_VENDOR_KEY must be set together' };
  let text: string | null;
  try {
    text = readVendorFile();
  } catch (err) {
    if (err instanceof PrivateFileError && err.problem === 'readable-by-others') {
      return { vendor: null, source: 'none', problem: `vendor.json refused: it is readable by other users (mode ${err.mode.toString(8)}); run chmod 600 on it (owner only), then restart` };
    }
    if (err instanceof PrivateFileError) return { vendor: null, source: 'none', problem: `vendor.json refused: it ${err.message}` };
    return { vendor: null, source: 'none', problem: `vendor.json cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  if (text === null) return { vendor: null, source: 'none' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { vendor: null, source: 'none', problem: 'vendor.json is not valid JSON' };
  }
  const r = vendorSchema.safeParse(json);
  if (r.success) return { vendor: r.data, source: 'file' };
  return { vendor: null, source: 'none', problem: `vendor.json invalid: ${r.error.issues.map((i) => i.path.join('.') || i.code).join(', ')}` };
}

// ----------------------------------------------------------- connectivity

/** How often the shell polls net.isOnline() (the 'online'/'offline' events are not reliable on every OS). */
export const CONNECTIVITY_POLL_MS = 5_000;
