/**
 * The skeleton every kind of money operation runs on: write-ahead row ->
 * send -> interpret -> query -> bounded re-send, reversal or needs_attention
 * -> record -> receipt, plus the re-check, crash resume and group commit.
 * Every arrow is one SQLite transaction (transitions.ts) committed before the
 * next I/O; rows are worked under a lease so two processes sharing the data
 * dir never act on one row at once. An uncertain answer is resolved by query,
 * never by re-sending, unless the kind's table says the query proved the call
 * did not apply. A kind (kind.ts) supplies its request, interpretation table,
 * polling, messages and receipt; its engine adds only its public API.
 */
import { backoff } from '../common/backoff';
import { GroupCommit } from '../store/group-commit';
import { newOwnerId } from '../store/locks';
import type { OperationRepo } from '../store/operation-repo';
import type { OperationRow } from '../store/rows';
import type { CallResult, OrderResult, OrderSnapshot } from '../upay/result';
import type { OperationKind, Step } from './kind';
import { MoneyOperations, type OperationDeps } from './operation';
import { DEFAULT_TIMING, type OperationTiming } from './timing';
import * as T from './transitions';

/** Longest an answer waits for others in flight to share its commit (a queue drain; a lone call never waits). */
const GROUP_COMMIT_WINDOW_MS = 2;

export abstract class OperationEngine<Row extends OperationRow> extends MoneyOperations<Row, OperationRepo<Row>> {
  readonly owner: string;
  protected readonly timing: OperationTiming;
  private readonly commits: GroupCommit;
  /** Rows this process committed as `sending` in a batch claim and has yet to send. */
  private readonly markedForSend = new Set<number>();

  constructor(
    protected readonly deps: OperationDeps<string>,
    protected readonly kind: OperationKind<Row>,
  ) {
    super(deps, kind.name, kind.repo);
    this.owner = newOwnerId(kind.name);
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.commits = new GroupCommit(deps.db, GROUP_COMMIT_WINDOW_MS);
  }

  /** The first send of a row just committed as `sending` under our lease (the kind's request, after its eligibility). */
  protected async sendFresh(row: Row, call: () => Promise<CallResult<OrderResult>>): Promise<Row> {
    this.deps.checkpoint?.('intent-committed');
    this.emit(row);
    this.outbox.take(row.id);
    try {
      const res = await call();
      this.deps.checkpoint?.('answer-received');
      await this.record(row, this.kind.interpretSend(res, row, this.deps.clock.now()));
    } catch (err) {
      // Unexpected (vault, disk): the row stays `sending`, released; the worker resolves it by query.
      this.repo.release(row.id, this.owner, null);
      this.outbox.done(row.id);
      this.kick();
      throw err;
    } finally {
      this.outbox.done(row.id);
    }
    const after = this.repo.get(row.id)!;
    // A final answer leaves the worker nothing new to do; open rows need its timer.
    if (this.repo.isOpen(after.state) || this.outbox.hasIdleWaiters) this.kick();
    return after;
  }

  /** A person's "query again" (and the re-check's): asks the gateway about an open row that is not queued. */
  async queryRow(id: number, actor: string): Promise<Row | undefined> {
    const claimed = T.claimOne(this.kind, id, actor, this.stamp());
    if (!claimed) return this.repo.get(id);
    this.outbox.take(id);
    try {
      await this.resolveByQuery(claimed, true);
    } finally {
      this.outbox.done(id);
      this.kick();
    }
    return this.repo.get(id);
  }

  /** The re-check's rows: outcomes nobody knows yet, asked about again by themselves. */
  unresolved(): number[] {
    return this.repo.needingAttention();
  }

  /** Connectivity is back: polled rows are queried at once, not at their next poll. */
  wakePending(now: number): void {
    this.repo.duePendingNow(now);
    this.kick();
  }

  // ---------- the outbox's view of a row ----------

  protected giveBack(row: Row): void {
    this.repo.release(row.id, this.owner, this.deps.clock.now() + this.timing.queryEveryMs);
  }

  protected override answered(): number {
    return this.commits.waiting;
  }

  protected resume(): void {
    T.resumeAfterCrash(this.kind, this.stamp());
  }

  protected stamp(): T.LeaseStamp {
    return { owner: this.owner, now: this.deps.clock.now(), leaseMs: this.timing.leaseMs };
  }

  protected claim(candidates: Row[], max: number, now: number): Row[] {
    if (candidates.length === 0) return [];
    const sendable = (row: Row) => this.kind.beforeSend?.(row, now) === undefined;
    const { rows, toSend } = T.claimBatch(this.kind, candidates, max, sendable, { ...this.stamp(), now });
    for (const row of toSend) {
      this.markedForSend.add(row.id);
      this.emit(row);
    }
    return rows;
  }

  protected unclaim(rows: Row[]): void {
    const sent = (row: Row) => this.markedForSend.delete(row.id);
    if (this.deps.db.open) T.unclaim(this.kind, rows, sent, this.stamp());
    else for (const row of rows) sent(row);
  }

  protected nextWake(): number | null {
    const t = this.repo.nextDue(this.owner);
    const deadline = this.kind.nextDeadline?.() ?? null;
    if (deadline === null) return t;
    return t === null ? deadline : Math.min(t, deadline);
  }

  protected sweep(now: number): void {
    for (const row of this.kind.sweep?.(now, this.owner) ?? []) this.emit(row);
  }

  protected async work(row: Row): Promise<void> {
    if (this.markedForSend.delete(row.id)) return this.call(row, this.kind.send);
    if (row.state !== 'queued') return this.resolveByQuery(row, false);
    const now = this.deps.clock.now();
    const ends = this.kind.beforeSend?.(row, now);
    if (ends) return this.apply(row, ends, false);
    return this.again(row, 'sending', {});
  }

  /** Another call for a claimed row (a re-send, or the kind's reversal): committed first, then sent. */
  private async again(row: Row, state: string, patch: Partial<Row>): Promise<void> {
    const s = this.stamp();
    const stored = T.toCalling(this.kind, row, state, patch, s.now + s.leaseMs, s);
    if (!stored) return;
    this.emit(stored);
    const reverse = this.kind.reverse;
    if (reverse && state === reverse.state) return this.call(stored, reverse.call, reverse.interpret);
    return this.call(stored, this.kind.send);
  }

  /** Makes a call for a row committed in its calling state under our lease, and records the answer. */
  private async call(row: Row, send: OperationKind<Row>['send'], interpret = this.kind.interpretSend): Promise<void> {
    this.deps.checkpoint?.('send-committed');
    const signer = await this.deps.provisioning.signerForToday('system');
    const res = await send.call(this.kind, this.deps.client, signer, row);
    this.deps.checkpoint?.('answer-received');
    // The answer is in: this row's network slot is free while its outcome waits for the group commit.
    this.kick();
    await this.record(row, interpret.call(this.kind, res, row, this.deps.clock.now()));
  }

  /** Records an answer; answers close together share one commit, and the caller goes on only after it. */
  private async record(row: Row, step: Step<Row>): Promise<void> {
    // A step that may make another call commits on its own first (the call's write-ahead), outside any group.
    if (step.to === 'resend' || step.to === 'reverse' || step.to === 'unknown') return this.apply(row, step, false);
    return this.commits.write(() => void this.apply(row, step, false), this.outbox.inFlight);
  }

  /** Asks the gateway about the row: the truth for an uncertain outcome. */
  private async resolveByQuery(row: Row, byPerson: boolean): Promise<void> {
    const res = await this.kind.query(this.deps.client, this.deps.provisioning.signer(), row);
    this.signals.connectivity(res.ok || res.kind !== 'not_sent');
    const queried = { ...row, queries: row.queries + 1 };
    return this.apply(queried, this.kind.interpretQuery(res, queried, this.deps.clock.now()), byPerson);
  }

  /** One step of the interpretation table: the arrow it names, then (for a re-send or reversal) the next call. */
  private apply(row: Row, step: Step<Row>, byPerson: boolean): Promise<void> | undefined {
    const k = this.kind;
    const s = this.stamp();
    if (step.to !== 'queued' && step.to !== 'unknown' && step.to !== 'pending') this.signals.connectivity(true);
    switch (step.to) {
      case 'succeeded':
        return void this.succeed(row, step.order, step.resultCode);
      case 'failed':
        if (step.order) k.refreshOrder?.(step.order, s.now);
        return void this.moved(T.toFailed(k, row, step.state ?? k.failedState, step.code, step.gateway, step.resultCode ?? null, s));
      case 'pending':
        return void this.moved(T.toPending(k, row, step.code ?? 'PENDING', step.gateway, step.resultCode, k.polling.first(row, s.now), s));
      case 'queued': {
        if (!k.queueable) return void this.moved(T.toFailed(k, row, k.failedState, step.code ?? 'NOT_SENT', step.gateway, null, s));
        if (step.reason !== 'illegal_sign' && step.reason !== 'maintenance') this.signals.connectivity(false);
        const retryAt = s.now + backoff(row.attempts, this.timing.backoffBaseMs, this.timing.backoffCapMs, this.deps.random ?? Math.random);
        return void this.moved(T.toQueued(k, row, step.code ?? 'QUEUED', step.gateway, retryAt, s));
      }
      case 'resend':
        return this.again(row, 'sending', step.patch ?? {});
      case 'reverse':
        return k.reverse ? this.again(row, k.reverse.state, step.patch ?? {}) : void this.moved(T.toNeedsAttention(k, row, s, step.patch));
      case 'attention':
        return void this.moved(T.toNeedsAttention(k, row, s, step.patch));
      case 'unknown': {
        const since = row.pending_since ?? s.now;
        const next = k.polling.next(row, since, s.now, byPerson);
        if (next === 'attention') return void this.moved(T.toNeedsAttention(k, row, s));
        if (next === 'reverse') return this.apply(row, { to: 'reverse' }, byPerson);
        return void this.moved(T.stillPending(k, row, since, next, s));
      }
    }
  }

  /** --> the kind's success; the receipt is queued in the same transaction and the printer woken after the commit. */
  protected succeed(row: Row, snapshot: OrderSnapshot | null, resultCode: string | null): void {
    const stored = T.toSucceeded(this.kind, row, snapshot, resultCode ?? row.last_result_code, this.stamp());
    if (!stored) return;
    this.commits.afterCommit(() => {
      this.deps.checkpoint?.(`${String(this.kind.successState)}-committed`);
      this.publishNow(stored);
      this.kind.afterSuccess?.();
    });
  }

  protected moved(stored: Row | undefined): void {
    if (stored) this.emit(stored);
  }

  /** Inside a group commit: tell the world after the commit, not before. */
  protected emit(row: Row): void {
    this.commits.afterCommit(() => this.publishNow(row));
  }

  private publishNow(row: Row): void {
    this.kind.publish(row);
    this.signals.queueChanged();
  }
}
