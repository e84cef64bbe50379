/**
 * Group commit: writes that arrive close together commit in one transaction,
 * each in its own savepoint, so a burst pays one fsync instead of one per
 * write. A writer's promise settles only after the commit that holds it, and
 * work registered with `afterCommit` during the group runs after that commit
 * (never for a group that rolled back). It knows nothing of what it writes.
 * Every writer of a group settles and every after-commit function runs, even
 * when one of them throws: such a failure is logged, and a committed write
 * still resolves (it IS committed).
 */
import { tx, type Db } from './db';

interface Pending {
  run: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private grouping = false;
  private readonly after: Array<() => void> = [];

  /** `windowMs`: the longest a write waits for others to share its commit. */
  constructor(
    private readonly db: Db,
    private readonly windowMs: number,
    private readonly log: (message: string) => void = (message) => console.error(message),
  ) {}

  /** Writes waiting for their commit. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Runs `write` in the next group. The group commits as soon as `expected`
   * writes have joined (nobody else can: a lone writer commits at once), else
   * after the window.
   */
  write(write: () => void, expected: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ run: write, resolve, reject });
      if (this.queue.length >= expected) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /** Inside a group: runs `fn` after its commit. Outside one: runs it now. */
  afterCommit(fn: () => void): void {
    if (this.grouping) this.after.push(fn);
    else fn();
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.queue.splice(0);
    if (group.length === 0) return;
    const failures = new Map<number, unknown>();
    this.grouping = true;
    let committed = false;
    try {
      tx(this.db, () => {
        // A group of one needs no savepoint: its failure rolls back the transaction it is alone in.
        if (group.length === 1) return group[0]!.run();
        group.forEach((item, i) => {
          try {
            tx(this.db, item.run);
          } catch (err) {
            failures.set(i, err);
          }
        });
      });
      committed = true;
    } catch (err) {
      group.forEach((_, i) => failures.set(i, err));
    } finally {
      this.grouping = false;
    }
    const after = this.after.splice(0);
    try {
      if (committed) for (const fn of after) this.runAfter(fn);
    } finally {
      group.forEach((item, i) => (failures.has(i) ? item.reject(failures.get(i)) : item.resolve()));
    }
  }

  /** One after-commit function: its failure is logged, never thrown (the group is committed; the others still run). */
  private runAfter(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log(`group commit: after-commit work failed (the write is committed): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
}
