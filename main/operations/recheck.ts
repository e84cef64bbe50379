/**
 * The re-check of money operations whose outcome nobody knows yet (a revoke
 * or refund left `needs_attention`, or `pending` past a network cut): the
 * money may have moved, so the gateway is asked again by itself, without a
 * person tapping "query again". It asks when connectivity returns and on a
 * slow schedule, never while the gateway is unreachable; while it is, a TCP
 * connect to the gateway (no request, nothing signed) tells when it is back.
 * Generic over the operation kind: each kind says which rows are unresolved
 * and how one is queried.
 */
import type { Clock } from '../common/time';
import type { RuntimeEvents } from '../events';

export interface RecheckKind {
  /** Rows whose outcome is unknown and that this re-check should ask about now. */
  unresolved(now: number): number[];
  /** Asks the gateway about one row (the kind's own query path, with its leases and transitions). */
  recheck(id: number): Promise<unknown>;
  /** Connectivity is back: rows the kind's own worker polls become due now. */
  wakePending?(now: number): void;
}

export interface RecheckOptions {
  clock: Clock;
  events: RuntimeEvents;
  isOnline(): boolean;
  /** Marks the gateway reachable again (the kinds' connectivity signal). */
  setOnline(online: boolean): void;
  /** Whether the gateway accepts a connection now: a reachability check that sends nothing. */
  reachable(): Promise<boolean>;
  /** Re-check every unresolved row this often while online (slow: minutes). */
  everyMs: number;
  /** While offline, look for the gateway this often. */
  probeEveryMs: number;
  log?: (line: string) => void;
}

export const DEFAULT_RECHECK = { everyMs: 5 * 60_000, probeEveryMs: 10_000 } as const;

export class Recheck {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private lastRunAt = -Infinity;
  private readonly onConnectivity = ({ online }: { online: boolean }) => {
    if (online) void this.run();
  };

  constructor(
    private readonly kinds: readonly RecheckKind[],
    private readonly options: RecheckOptions,
  ) {}

  start(): void {
    if (this.timer) return;
    this.options.events.on('connectivity.changed', this.onConnectivity);
    this.schedule();
  }

  stop(): void {
    this.options.events.off('connectivity.changed', this.onConnectivity);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One tick: offline, look for the gateway; online and the slow interval passed, re-check. */
  async tick(): Promise<void> {
    if (!this.options.isOnline()) {
      if (!this.hasUnresolved()) return;
      let back = false;
      try {
        back = await this.options.reachable();
      } catch {
        back = false;
      }
      // The connectivity event runs the re-check.
      if (back) this.options.setOnline(true);
      return;
    }
    if (this.options.clock.now() - this.lastRunAt >= this.options.everyMs) await this.run();
  }

  /** Queries every unresolved row once (one at a time: a slow background task); stops when the gateway is lost again. */
  run(): Promise<void> {
    this.running ??= this.queryAll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async queryAll(): Promise<void> {
    const now = this.options.clock.now();
    this.lastRunAt = now;
    for (const kind of this.kinds) {
      let ids: number[];
      // A store that cannot be read or written for a while (read-only, busy) skips this pass; the next tick retries.
      try {
        kind.wakePending?.(now);
        ids = kind.unresolved(now);
      } catch (err) {
        this.options.log?.(`re-check: ${(err as Error).message}`);
        continue;
      }
      for (const id of ids) {
        if (!this.options.isOnline()) return;
        try {
          await kind.recheck(id);
        } catch (err) {
          this.options.log?.(`re-check of ${id}: ${(err as Error).message}`);
        }
      }
    }
  }

  private hasUnresolved(): boolean {
    const now = this.options.clock.now();
    return this.kinds.some((k) => k.unresolved(now).length > 0);
  }

  private schedule(): void {
    const every = Math.min(this.options.everyMs, this.options.probeEveryMs);
    this.timer = setTimeout(() => {
      void this.tick()
        .catch((err: unknown) => this.options.log?.(`re-check: ${(err as Error).message}`))
        .finally(() => {
          if (this.timer) this.schedule();
        });
    }, every);
    this.timer.unref();
  }
}
