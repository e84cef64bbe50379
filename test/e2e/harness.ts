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
import type { Handlers } from '../../main/ipc/handlers';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/policy';
import { createChaosProxy } from '../support/chaos-net';

export const ROOT = path.resolve(__dirname, '../..');
export const RENDERER_DIST = path.join(ROOT, 'dist/renderer');
export const PRELOAD_DIST = path.join(ROOT, 'dist/preload/index.js');
export const SCREENSHOTS = path.join(ROOT, 'test-output/screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// ------------------------------------------------------------------ build

const UI_SOURCES = ['renderer', 'preload', 'main/ipc/contract.ts', 'scripts/build-ui.mjs'];

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
  const lock = path.join(ROOT, 'dist/.build-ui.lock');
  const deadline = Date.now() + 60_000;
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
    if (!isFresh()) execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-ui.mjs')], { cwd: ROOT, stdio: 'inherit' });
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

export interface Browser {
  context: BrowserContext;
  page: Page;
  userDataDir: string;
  close(): Promise<void>;
}

export async function launch(viewport = { width: 1024, height: 768 }): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
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

/** Installs the test bridge in every page of `context`; `handlers` are the real IPC handlers. */
export async function installBridge(context: BrowserContext, page: Page, handlers: Handlers): Promise<InstalledBridge> {
  const calls: BridgeCall[] = [];
  await context.exposeBinding('__posInvoke', async (_source, channel: unknown, input: unknown) => {
    calls.push({ channel: String(channel), input });
    if (!isChannel(channel)) {
      return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: `Unknown channel ${String(channel)}`, messageZh: `未知通道 ${String(channel)}` } };
    }
    return handlers[channel](input);
  });
  await context.addInitScript({ content: bridgeInitScript() });
  return {
    calls,
    emit: async (event, payload) => {
      await page.evaluate(([e, p]) => (globalThis as unknown as PageGlobals).__posEmit(e, p), [event, payload] as const);
    },
  };
}
