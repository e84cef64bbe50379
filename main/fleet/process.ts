/**
 * Runs the shipper in its own process (`upay-pos fleet ship`), supervised by
 * the runtime: whatever head office does (hangs, floods answers, crashes the
 * driver), the counter's event loop, its SQLite connection and its memory
 * are not involved. The child's heap is capped, and the bytes a PostgreSQL
 * answer may claim are capped on its socket (capped-socket.ts: pg buffers a
 * message outside the heap), so a hostile answer ends the call or the child,
 * not the counter; the child is restarted after a growing pause. Under plain
 * Node it is `child_process.fork`; the packaged app (whose RunAsNode fuse is
 * off) passes Electron's `utilityProcess.fork` as `fork`.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { backoff } from '../common/backoff';
import { FLEET_ALLOW_REQUIRE_ENV, FLEET_URL_ENV } from './config';
import { FOLD_MAX, foldLine } from './fold';

export const SHIPPER_HEAP_MB = 96;

/** What the supervisor needs of a child: child_process.ChildProcess and Electron's UtilityProcess both fit. */
export interface ShipperChild {
  readonly pid?: number | undefined;
  readonly stderr?: NodeJS.ReadableStream | null;
  kill(): boolean;
  once(event: 'exit', listener: (code: number | null, signal?: NodeJS.Signals | null) => void): unknown;
}

export type ForkShipper = (modulePath: string, args: string[], options: { env: NodeJS.ProcessEnv; execArgv: string[] }) => ShipperChild;

/**
 * All the shipper's process is given of the environment: what Node needs to
 * run (PATH, the home and temp dirs, Windows' SystemRoot; NODE_PATH where
 * the bin resolves its modules through it; NODE_EXTRA_CA_CERTS, the
 * machine's extra TLS trust), and what `upay-pos fleet ship` reads: the
 * counter's credential (UPAY_POS_FLEET_URL), the TLS opt-in and the timing
 * knobs (main/cli/fleet.ts, timingFromEnv). Nothing else: not the vendor key
 * (UPAY_VENDOR_KEY), not head office's admin address
 * (UPAY_POS_FLEET_ADMIN_URL), not PG* (the URL alone says where and as whom),
 * not NODE_OPTIONS (the heap cap is in execArgv). UPAY_POS_QUIET is set.
 */
export const SHIPPER_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USERPROFILE',
  'SYSTEMROOT',
  'TEMP',
  'TMP',
  'TMPDIR',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  FLEET_URL_ENV,
  FLEET_ALLOW_REQUIRE_ENV,
  'UPAY_POS_FLEET_POLL_MS',
  'UPAY_POS_FLEET_HEARTBEAT_MS',
  'UPAY_POS_FLEET_BACKOFF_MS',
  'UPAY_POS_FLEET_BACKOFF_MAX_MS',
  'UPAY_POS_FLEET_BATCH',
  'UPAY_POS_FLEET_TIMEOUT_MS',
];

/** The child's environment from the counter's (names compared as the platform does: Windows ignores case). */
export function shipperEnv(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): NodeJS.ProcessEnv {
  const fold = (name: string) => (platform === 'win32' ? name.toUpperCase() : name);
  const allowed = new Set(SHIPPER_ENV_NAMES.map(fold));
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && allowed.has(fold(name))) out[name] = value;
  out.UPAY_POS_QUIET = '1';
  return out;
}

/**
 * The child's stderr as log lines: split on newlines across chunks (UTF-8
 * decoded across them too), each line folded (control characters replaced,
 * at most FOLD_MAX characters); a line longer than that is logged once, cut,
 * and the rest of it until the next newline is dropped. Whatever the child
 * relays of head office's text, it cannot forge a log line or flood the log.
 */
function stderrLines(log: (line: string) => void): (chunk: Buffer | string) => void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let dropping = false;
  return (chunk) => {
    const parts = (pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk))).split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      if (!dropping && line.trim()) log(foldLine(line));
      dropping = false;
    }
    if (dropping) pending = '';
    else if (pending.length > FOLD_MAX) {
      log(foldLine(pending));
      pending = '';
      dropping = true;
    }
  };
}

const nodeFork: ForkShipper = (modulePath, args, options) =>
  fork(modulePath, args, { ...options, env: { ...options.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });

export interface ShipperProcessOptions {
  dataDir: string;
  fork?: ForkShipper;
  /** The built CLI (default: dist/main/cli.js next to this file). */
  cliPath?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  restartBaseMs?: number;
  restartMaxMs?: number;
}

export class ShipperProcess {
  private child: ShipperChild | null = null;
  private stopped = false;
  private restarts = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly cli: string;

  constructor(private readonly o: ShipperProcessOptions) {
    this.cli = o.cliPath ?? path.join(__dirname, '..', 'cli.js');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restartCount(): number {
    return this.restarts;
  }

  start(): void {
    if (this.stopped || this.child) return;
    const startedAt = Date.now();
    const child = (this.o.fork ?? nodeFork)(this.cli, ['fleet', 'ship', '--data-dir', this.o.dataDir], {
      execArgv: [`--max-old-space-size=${SHIPPER_HEAP_MB}`],
      env: shipperEnv(this.o.env ?? process.env),
    });
    this.child = child;
    const lines = stderrLines((line) => this.o.log?.(line));
    child.stderr?.on('data', lines);
    child.once('exit', (code, signal) => {
      this.child = null;
      if (this.stopped) return;
      // A child that ran a good while before dying starts the pause over.
      if (Date.now() - startedAt > 60_000) this.restarts = 0;
      const base = this.o.restartBaseMs ?? 1_000;
      const wait = backoff(++this.restarts, base, this.o.restartMaxMs ?? 60_000);
      this.o.log?.(`fleet: shipper exited (${signal ?? code}); restarting in ${Math.round(wait / 1000)} s`);
      this.timer = setTimeout(() => this.start(), wait);
      this.timer.unref();
    });
  }

  /** Stops the child (SIGTERM: it finishes or abandons its batch, which is safe either way); waits at most graceMs. */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    // Still there (a hung driver call): the pid is ours, and SIGKILL is safe for the outbox.
    if (this.child === child && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
