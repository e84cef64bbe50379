/**
 * The e2e harness: the renderer bundle served over loopback HTTP with the
 * app's CSP, Chromium driven by playwright-core, and a test `window.pos`
 * that forwards every bridge call to the real IPC handlers in this process
 * (the same shape the preload gives, minus Electron). Events flow back
 * through `forwardEvents`. Also: a TCP proxy in front of the sandbox gateway
 * that can be switched off (connection refused) and on again on its port.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { BRIDGE_FUNCTIONS, isChannel, type EventName, type EventPayload } from '../../main/ipc/contract';
import { admits, EVENT_ACCESS } from '../../main/ipc/access';
import { createHandlerSet, forwardEvents, type Handlers } from '../../main/ipc/handlers';
import type { RuntimeEvents } from '../../main/events';
import type { Caller } from '../../main/operators/sessions';
import type { Role } from '../../main/operators/service';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../main/runtime';
import { createSandbox, type Sandbox } from '../../main/sandbox';
import { ensureOperator, TEST_PINS } from '../support/operators';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/policy';
import { createChaosProxy } from '../support/chaos-net';

/** The repository (this file also runs compiled, from dist/test/e2e, when the bench uses it). */
function repositoryRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

export const ROOT = repositoryRoot(__dirname);
const NPM_BROWSER_PKG = path.join(ROOT, 'node_modules/@sparticuz/chromium/package.json');
export const RENDERER_DIST = path.join(ROOT, 'dist/renderer');
export const PRELOAD_DIST = path.join(ROOT, 'dist/preload/index.js');
export const SCREENSHOTS = path.join(ROOT, 'test-output/screenshots');

// ------------------------------------------------------------------ build

const UI_SOURCES = ['renderer', 'preload', 'main/ipc', 'main/common', 'scripts/build-ui.mjs'];

function newestMtime(p: string): number {
  const abs = path.join(ROOT, p);
  if (!fs.existsSync(abs)) return 0;
  const st = fs.statSync(abs);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of fs.readdirSync(abs)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

function builtAt(): number {
  const files = [path.join(RENDERER_DIST, 'app.js'), path.join(RENDERER_DIST, 'index.html'), PRELOAD_DIST];
  if (!files.every((f) => fs.existsSync(f))) return 0;
  return Math.min(...files.map((f) => fs.statSync(f).mtimeMs));
}

const isFresh = () => {
  const at = builtAt();
  return at > 0 && at >= Math.max(...UI_SOURCES.map(newestMtime));
};

/**
 * Builds the renderer and preload bundles when they are missing or older
 * than their sources (only scripts/build-ui.mjs: the tsc part of the full
 * build is not needed here and would delete dist/ under concurrent tests).
 * A lock directory keeps two test files from building at once.
 */
export async function ensureUiBuilt(): Promise<void> {
  if (isFresh()) return;
  fs.mkdirSync(path.join(ROOT, 'dist'), { recursive: true });
  await withDirLock(path.join(ROOT, 'dist/.build-ui.lock'), 60_000, () => {
    if (!isFresh()) execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-ui.mjs')], { cwd: ROOT, stdio: 'inherit' });
  });
}

/** Runs `fn` holding a lock directory (test files run in parallel processes); a lock older than `staleMs` is broken. */
async function withDirLock<T>(lock: string, staleMs: number, fn: () => T): Promise<T> {
  const deadline = Date.now() + staleMs;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) fs.rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

// ----------------------------------------------------------- static server

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 with the app's Content-Security-Policy on every response. */
export async function serveStatic(root: string): Promise<StaticServer> {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.resolve(base, '.' + (pathname === '/' ? '/index.html' : pathname));
    if (!file.startsWith(base + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// --------------------------------------------------------------- TCP proxy

export interface SwitchableProxy {
  readonly url: string;
  readonly up: boolean;
  /** Closes the port and drops every connection: the gateway becomes unreachable (connection refused). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` (http://host:port) that can be switched off and on (the suite's one proxy). */
export async function createProxy(target: string): Promise<SwitchableProxy> {
  const t = new URL(target);
  const p = await createChaosProxy(Number(t.port), t.hostname);
  return {
    url: p.url,
    get up() {
      return p.isUp;
    },
    stop: () => p.down(),
    start: () => p.up(),
    close: () => p.close(),
  };
}

// ------------------------------------------------------------------ browser

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** Where the browser comes from: an explicit path, the npm package, or an installed Chrome/Chromium/Edge. */
export type BrowserSource = 'env' | 'npm' | 'system';

export interface FoundBrowser {
  executablePath: string;
  source: BrowserSource;
  /** Extra environment for the browser process (the npm browser's own fontconfig). */
  env: Record<string, string>;
}

/** Installed browsers, in the order tried, per platform. */
export function systemBrowserPaths(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string[] {
  if (platform === 'darwin') {
    return [
      '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      '/Applications/Chromium.app/Contents/MacOS/Chromium',
      '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
    ];
  }
  if (platform === 'win32') {
    const roots = [env.PROGRAMFILES, env['PROGRAMFILES(X86)'], env.LOCALAPPDATA].filter((r): r is string => !!r);
    return roots.flatMap((r) => [
      path.win32.join(r, 'Google', 'Chrome', 'Application', 'chrome.exe'),
      path.win32.join(r, 'Chromium', 'Application', 'chrome.exe'),
      path.win32.join(r, 'Microsoft', 'Edge', 'Application', 'msedge.exe'),
    ]);
  }
  return [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/opt/google/chrome/chrome',
    '/usr/bin/microsoft-edge',
    '/snap/bin/chromium',
  ];
}

/** The npm browser ships for Linux x64 only. */
function npmBrowserAvailable(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  return fs.existsSync(NPM_BROWSER_PKG);
}

/**
 * Unpacks `@sparticuz/chromium` once per version into a private folder under
 * the temp dir (the package unpacks into `os.tmpdir()`, so a child process
 * gets that folder as its TMPDIR; a lock keeps parallel test files from
 * launching a half-written binary). The browser gets a fontconfig of its own
 * that lists only the package's fonts: no system font, CJK or other, can
 * render a page, so the tests see exactly what a bare machine shows.
 */
export async function unpackNpmBrowser(): Promise<FoundBrowser> {
  const version = (JSON.parse(fs.readFileSync(NPM_BROWSER_PKG, 'utf8')) as { version: string }).version;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = path.join(os.tmpdir(), `upay-pos-e2e-chromium-${version}-${uid}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) throw new Error(`${dir} is not a private directory of this user: remove it`);
  const done = path.join(dir, 'unpacked.json');
  if (!fs.existsSync(done)) {
    await withDirLock(path.join(dir, 'lock'), 120_000, () => {
      if (fs.existsSync(done)) return;
      const out = execFileSync(process.execPath, ['-e', "require('@sparticuz/chromium').executablePath().then((p) => process.stdout.write(p))"], {
        cwd: ROOT,
        env: { ...process.env, TMPDIR: dir, TMP: dir, TEMP: dir },
        encoding: 'utf8',
        timeout: 120_000,
      });
      const fontsDir = path.join(dir, 'fonts');
      fs.writeFileSync(
        path.join(dir, 'fonts.conf'),
        `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${fontsDir}</dir>\n  <cachedir>${path.join(dir, 'fontconfig-cache')}</cachedir>\n</fontconfig>\n`,
      );
      fs.writeFileSync(done, JSON.stringify({ executablePath: out.trim() }));
    });
  }
  const { executablePath } = JSON.parse(fs.readFileSync(done, 'utf8')) as { executablePath: string };
  return { executablePath, source: 'npm', env: { FONTCONFIG_FILE: path.join(dir, 'fonts.conf') } };
}

/**
 * The browser the e2e tests drive. UPAY_E2E_BROWSER: a path to a browser,
 * `npm` (the npm package only) or `system` (installed browsers only); unset,
 * the npm package where it runs, else the first installed browser found.
 */
export async function findBrowser(env: NodeJS.ProcessEnv = process.env): Promise<FoundBrowser> {
  const wanted = env.UPAY_E2E_BROWSER?.trim() || '';
  if (wanted && wanted !== 'npm' && wanted !== 'system') {
    if (!fs.existsSync(wanted)) throw new Error(`UPAY_E2E_BROWSER=${wanted}: no such file`);
    return { executablePath: wanted, source: 'env', env: {} };
  }
  if (wanted !== 'system' && npmBrowserAvailable()) return unpackNpmBrowser();
  if (wanted === 'npm') throw new Error('UPAY_E2E_BROWSER=npm: @sparticuz/chromium is not installed or does not run on this platform (Linux x64 only)');
  const found = systemBrowserPaths().find((p) => fs.existsSync(p));
  if (!found) throw new Error('no browser for the e2e tests: run `npm ci` (it installs @sparticuz/chromium on Linux x64), install Chrome/Chromium/Edge, or set UPAY_E2E_BROWSER to a browser path');
  return { executablePath: found, source: 'system', env: {} };
}

let browserFound: FoundBrowser | undefined;

export interface Browser {
  /** Which browser runs the page (the bare-machine proof reports it). */
  found: FoundBrowser;
  context: BrowserContext;
  page: Page;
  userDataDir: string;
  close(): Promise<void>;
}

export async function launch(viewport = { width: 1024, height: 768 }): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-e2e-chromium-'));
  browserFound ??= await findBrowser();
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: browserFound.executablePath,
    env: { ...process.env, ...browserFound.env },
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    found: browserFound,
    context,
    page,
    userDataDir,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// -------------------------------------------------------------- test bridge

export interface BridgeCall {
  channel: string;
  input: unknown;
}

/**
 * The page-side half of the test bridge: `window.pos` with one function per
 * BRIDGE_FUNCTIONS entry (forwarding to the `__posInvoke` binding) and
 * `on(event, cb)`, fed by `__posEmit`. Frozen, like the preload's object.
 * It also records CSP violations, which the tests require to be none.
 */
export function bridgeInitScript(): string {
  return `(() => {
  const functions = ${JSON.stringify(BRIDGE_FUNCTIONS)};
  const listeners = new Map();
  const bridge = {};
  for (const [channel, name] of Object.entries(functions)) {
    bridge[name] = (input) => window.__posInvoke(channel, input === undefined ? {} : input);
  }
  bridge.on = (event, callback) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const listener = (payload) => callback(payload);
    set.add(listener);
    return () => set.delete(listener);
  };
  Object.defineProperty(window, 'pos', { value: Object.freeze(bridge) });
  Object.defineProperty(window, '__posEmit', {
    value: (event, payload) => {
      for (const listener of listeners.get(event) ?? []) {
        try { listener(structuredClone(payload)); } catch (err) { console.error(err); }
      }
    },
  });
  const violations = [];
  Object.defineProperty(window, '__cspViolations', { value: violations });
  document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
})();`;
}

export interface InstalledBridge {
  calls: BridgeCall[];
  /** Pushes an event to the page exactly as forwardEvents would (for payloads the runtime cannot produce on demand). */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): Promise<void>;
}

type PageGlobals = { __posEmit(event: string, payload: unknown): void };

/** Installs the test bridge in every page of `context`; `handlers` are the real IPC handlers; the pages are one window (`caller`). */
export async function installBridge(context: BrowserContext, page: Page, handlers: Handlers, caller: Caller = { windowId: 1 }): Promise<InstalledBridge> {
  const calls: BridgeCall[] = [];
  await context.exposeBinding('__posInvoke', async (_source, channel: unknown, input: unknown) => {
    calls.push({ channel: String(channel), input });
    if (!isChannel(channel)) {
      return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: `Unknown channel ${String(channel)}`, messageZh: `未知通道 ${String(channel)}` } };
    }
    return handlers[channel](input, caller);
  });
  await context.addInitScript({ content: bridgeInitScript() });
  return {
    calls,
    emit: async (event, payload) => {
      await page.evaluate(([e, p]) => (globalThis as unknown as PageGlobals).__posEmit(e, p), [event, payload] as const);
    },
  };
}

// ------------------------------------------------------------ whole app

export interface AppEnv {
  sandbox: Sandbox;
  /** In front of the sandbox gateway: stop() is a network cut. */
  proxy: SwitchableProxy;
  rt: Runtime;
  handlers: Handlers;
  server: StaticServer;
  browser: Browser;
  page: Page;
  bridge: InstalledBridge;
  /** Uncaught errors and console errors of the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** The window the whole-app suites drive (a webContents id in the app). */
export const APP_WINDOW: Caller = { windowId: 1 };

/**
 * The app as the e2e suites drive it: the sandbox behind a switchable proxy,
 * a runtime on a temp data dir (virtual printer), the real handlers behind
 * the test bridge, events forwarded, Chromium on the served bundle (not yet
 * navigated), and the window signed in as `role` (default store IT) the way
 * the sign-in screen does it (operators.test.ts drives that screen itself).
 */
export async function startApp(options: { viewport: { width: number; height: number }; runtime?: Partial<RuntimeOptions>; deviceId: string; role?: Role }): Promise<AppEnv> {
  await ensureUiBuilt();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const sandbox = await createSandbox();
  const proxy = await createProxy(sandbox.gateway.url);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-e2e-data-'));
  const rt = createRuntime({
    dataDir,
    apiDomain: proxy.url,
    printer: 'virtual',
    virtualPrinterUri: sandbox.printer.uri,
    printWorker: { backoffBaseMs: 100, pollMs: 200 },
    timeoutMs: 5_000,
    // Short clocks: a pending revoke is queried within 200 ms and needs a person after 3 s.
    timing: { firstQueryMs: 200, queryEveryMs: 300, pendingWindowMs: 3000, backoffBaseMs: 100, backoffCapMs: 500 },
    ...options.runtime,
  });
  const { handlers, orderRow, policy } = createHandlerSet(rt, { mode: 'sandbox', version: '0.1.0-e2e', vendor: sandbox.gateway.vendor, actor: 'e2e', deviceId: options.deviceId });
  const role = options.role ?? 'store_it';
  const signedIn = await handlers['session.signIn']({ operatorId: await ensureOperator(rt, role), pin: TEST_PINS[role] }, APP_WINDOW);
  if (!signedIn.ok) throw new Error(`e2e sign-in failed: ${signedIn.error.code}`);
  const server = await serveStatic(RENDERER_DIST);
  const browser = await launch(options.viewport);
  const page = browser.page;
  const pageErrors: string[] = [];
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  const bridge = await installBridge(browser.context, page, handlers, APP_WINDOW);
  // The app's rule (main/ipc/register.ts): an event reaches the window only while its session may read that data.
  const unforward = forwardEvents(
    rt.events,
    (event, payload) => {
      if (admits(EVENT_ACCESS[event], policy.current(APP_WINDOW))) bridge.emit(event, payload).catch(() => {});
    },
    orderRow,
  );
  return {
    sandbox,
    proxy,
    rt,
    handlers,
    server,
    browser,
    page,
    bridge,
    pageErrors,
    async close() {
      unforward();
      await browser.close();
      await server.close();
      await rt.close();
      await proxy.close();
      await sandbox.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------- the app page

export interface AppPage {
  browser: Browser;
  page: Page;
  bridge: InstalledBridge;
  server: StaticServer;
  /** Page errors and console errors (tests require none). */
  errors: string[];
  close(): Promise<void>;
}

/**
 * The renderer bundle served on loopback, opened in Chromium as one window
 * (`caller`) of the real handlers, with the runtime's events forwarded.
 */
export async function openApp(events: RuntimeEvents, handlers: Handlers, caller: Caller, viewport = { width: 1024, height: 768 }): Promise<AppPage> {
  const server = await serveStatic(RENDERER_DIST);
  const browser = await launch(viewport);
  const page = browser.page;
  const errors: string[] = [];
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  const bridge = await installBridge(browser.context, page, handlers, caller);
  const unforward = forwardEvents(events, (event, payload) => {
    bridge.emit(event, payload).catch(() => {});
  });
  await page.goto(server.url);
  return {
    browser,
    page,
    bridge,
    server,
    errors,
    async close() {
      unforward();
      await browser.close();
      await server.close();
    },
  };
}
