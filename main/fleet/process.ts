/**
 * Runs the shipper in its own process (`upay-pos fleet ship`), supervised by
 * the runtime: whatever head office does (hangs, floods answers, crashes the
 * driver), the counter's event loop, its SQLite connection and its memory
 * are not involved. The child's heap is capped, so a hostile answer ends the
 * child, not the counter; it is restarted after a growing pause. Under plain
 * Node it is `child_process.fork`; the packaged app (whose RunAsNode fuse is
 * off) passes Electron's `utilityProcess.fork` as `fork`.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { backoff } from '../common/backoff';

export const SHIPPER_HEAP_MB = 96;

/** What the supervisor needs of a child: child_process.ChildProcess and Electron's UtilityProcess both fit. */
export interface ShipperChild {
  readonly pid?: number | undefined;
  readonly stderr?: NodeJS.ReadableStream | null;
  kill(): boolean;
  once(event: 'exit', listener: (code: number | null, signal?: NodeJS.Signals | null) => void): unknown;
}

export type ForkShipper = (modulePath: string, args: string[], options: { env: NodeJS.ProcessEnv; execArgv: string[] }) => ShipperChild;

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
      env: { ...(this.o.env ?? process.env), UPAY_POS_QUIET: '1' },
    });
    this.child = child;
    child.stderr?.on('data', (b: Buffer | string) => {
      for (const line of String(b).split('\n')) if (line.trim()) this.o.log?.(line.slice(0, 500));
    });
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
