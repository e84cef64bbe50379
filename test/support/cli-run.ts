/**
 * Runs the built `upay-pos` bin (dist/main/cli.js) as a child process, the
 * way store IT run it from a shell.
 *
 * - `ensureCliBuilt()` runs `node scripts/build.mjs` when dist/main/cli.js is
 *   missing or older than any main/ source (one build at a time across test
 *   files, under a lock), then copies dist/main to a private snapshot: the
 *   build script deletes dist/ first, and other test files may rebuild while
 *   our children run. The snapshot resolves its dependencies from the repo's
 *   node_modules through NODE_PATH.
 * - `runCli()` is asynchronous on purpose: an in-process sandbox in the test
 *   process must keep serving HTTP while the child talks to it.
 * - `startSandboxProcess()` runs `upay-pos sandbox --json` in its own process
 *   and reads the one JSON document it prints before it serves.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createHarness, tempDir, type Harness } from './harness';

export const ROOT = path.resolve(__dirname, '../..');
const DIST_CLI = path.join(ROOT, 'dist/main/cli.js');
const NODE_MODULES = path.join(ROOT, 'node_modules');

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  try {
    return fs.statSync(DIST_CLI).mtimeMs >= newestSourceMtime(path.join(ROOT, 'main'));
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A cross-process lock (mkdir is atomic); a lock older than `staleMs` is taken over. */
function withLock<T>(name: string, fn: () => T, staleMs = 180_000): T {
  const dir = path.join(os.tmpdir(), name);
  const until = Date.now() + staleMs;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - fs.statSync(dir).mtimeMs > staleMs) fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // Someone else removed it: try again.
      }
      if (Date.now() > until) throw new Error(`could not take the lock ${dir}`);
      sleepSync(200);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let snapshot: { dir: string; cli: string } | undefined;

/**
 * Builds if needed and returns the path of a private copy of the built bin.
 * Call from beforeAll (it may take ~15 s); `removeCliSnapshot()` in afterAll.
 */
export function ensureCliBuilt(): string {
  if (snapshot) return snapshot.cli;
  withLock('upay-pos-cli-build.lock', () => {
    if (isFresh()) return;
    // A build started elsewhere (another test run, `npm test`) may delete dist/ under ours: retry.
    for (let attempt = 0; ; attempt++) {
      try {
        execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'pipe' });
        return;
      } catch (err) {
        // tsc emits even with type errors elsewhere in the tree (other people's work in progress).
        if (fs.existsSync(DIST_CLI)) {
          process.stderr.write(`cli-run: build reported errors; using the emitted dist/ anyway\n${String((err as { stderr?: Buffer }).stderr ?? '')}\n`);
          return;
        }
        if (attempt >= 2) throw err;
        sleepSync(2_000);
      }
    }
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-cli-bin-'));
  // Another file's build may be deleting dist/ right now: retry the copy for a while.
  for (let i = 0; ; i++) {
    try {
      fs.cpSync(path.join(ROOT, 'dist/main'), path.join(dir, 'main'), { recursive: true });
      if (!fs.existsSync(path.join(dir, 'main/cli.js'))) throw new Error('dist/main/cli.js missing');
      break;
    } catch (err) {
      if (i >= 100) throw err;
      fs.rmSync(path.join(dir, 'main'), { recursive: true, force: true });
      sleepSync(300);
    }
  }
  snapshot = { dir, cli: path.join(dir, 'main/cli.js') };
  return snapshot.cli;
}

export function removeCliSnapshot(): void {
  if (snapshot) fs.rmSync(snapshot.dir, { recursive: true, force: true });
  snapshot = undefined;
}

/**
 * The environment children get: the test process's, minus every upay-pos
 * variable (so the host's settings never leak in), with a private HOME and
 * XDG_CONFIG_HOME (the default data dir is never the real one).
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}, home?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('UPAY_') || k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k === 'NODE_ENV') continue;
    env[k] = v;
  }
  env.NODE_PATH = NODE_MODULES;
  if (home) {
    env.HOME = home;
    env.XDG_CONFIG_HOME = path.join(home, '.config');
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The argv, for assertion messages. */
  args: string[];
}

/** Runs the bin to completion; `input` is written to its stdin (else stdin is closed). */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const cli = ensureCliBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: opts.env ?? cliEnv(),
      cwd: opts.cwd ?? os.tmpdir(),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`upay-pos ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, args });
    });
  });
}

/**
 * Parses stdout as exactly one JSON document (one line, as `--json` promises);
 * throws with the whole output otherwise.
 */
export function oneJson<T = Record<string, unknown>>(r: CliResult): T {
  const text = r.stdout.trim();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected exactly one JSON line from upay-pos ${r.args.join(' ')}, got ${lines.length}:\n${r.stdout}\nstderr: ${r.stderr}`);
  try {
    return JSON.parse(lines[0]!) as T;
  } catch {
    throw new Error(`stdout of upay-pos ${r.args.join(' ')} is not JSON:\n${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** A readable summary for `expect(..., describeRun(r))`. */
export function describeRun(r: CliResult): string {
  return `upay-pos ${r.args.join(' ')} → exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

export interface SandboxDoc {
  gateway: string;
  printer: string;
  vendor: { vendorSn: string; vendorKey: string; appId: string };
  activationCodes: string[];
}

export interface SandboxProcess {
  doc: SandboxDoc;
  child: ChildProcess;
  /** What the sandbox wrote on stderr so far (the receipts its virtual printer took, as text). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

/** `upay-pos sandbox --json` in its own process; resolves once its JSON document is read. */
export function startSandboxProcess(extraArgs: string[] = [], env?: NodeJS.ProcessEnv): Promise<SandboxProcess> {
  const cli = ensureCliBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'sandbox', '--json', ...extraArgs], {
      env: env ?? cliEnv(),
      cwd: os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let done = false;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`upay-pos sandbox printed no JSON in 20 s\nstdout: ${out}\nstderr: ${err}`));
    }, 20_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (done || nl < 0) return;
      done = true;
      clearTimeout(timer);
      try {
        resolve({ doc: JSON.parse(out.slice(0, nl)) as SandboxDoc, child, stderr: () => err, stop });
      } catch (e) {
        child.kill('SIGKILL');
        reject(new Error(`upay-pos sandbox printed something that is not JSON: ${out} (${String(e)})`));
      }
    });
    child.once('exit', (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`upay-pos sandbox exited (${code}) before printing its JSON\nstderr: ${err}`));
    });
  });
}

/** A free loopback port nobody listens on (for "gateway down"). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A CLI test's world: a harness with no workers (the CLI does the work), a HOME of its own, and the global flags that point the CLI at them. */
export async function cliHarness(homePrefix: string): Promise<{ h: Harness; home: string; g: string[] }> {
  ensureCliBuilt();
  const home = tempDir(homePrefix);
  const h = await createHarness({ runtime: { startWorkers: false } });
  return { h, home, g: ['--data-dir', h.dataDir, '--api-domain', h.sandbox.gateway.url, '--printer', 'none'] };
}

/** Closes what cliHarness made. */
export async function closeCliHarness(h: Harness | undefined, home: string | undefined): Promise<void> {
  await h?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  removeCliSnapshot();
}
