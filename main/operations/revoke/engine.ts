/**
 * Revokes, the first kind of money operation: a cashier's request, a
 * person's "query again", and how the outbox works a revoke row (send it, or
 * resolve it by query). Every arrow is a transition (transitions.ts), one
 * SQLite transaction committed before the next I/O; rows are worked under a
 * lease so two processes sharing the data dir never act on the same revoke
 * at once. Uncertain answers are resolved by `query`, never by re-sending,
 * unless a query shows the order still PAID.
 */
import type { Accountable } from '../../common/accountable';
import { isFinalRevokeState } from '../../common/states';
import { businessDay } from '../../common/time';
import type { Order, Revoke } from '../../domain';
import { PosError } from '../../errors';
import type { OrderRef } from '../../orders/service';
import { audit } from '../../store/audit';
import { GroupCommit } from '../../store/group-commit';
import { newOwnerId } from '../../store/locks';
import { perOrder, RevokesRepo, toRevoke, type RevokeRow } from '../../store/revokes';
import { backoff } from '../outbox';
import { MoneyOperations, type OperationDeps } from '../operation';
import type { ReceiptPort } from '../receipts';
import { nextDeadline, sweepDeadlines } from './deadlines';
import { ineligibility } from './interpret';
import { interpretQuery, interpretRevoke, type RevokeVerdict } from './interpret';
import { REVOKE_MESSAGES } from './messages';
import { DEFAULT_TIMING, type RevokeTiming } from './timing';
import * as T from './transitions';

export { ineligibility } from './interpret';
export { DEFAULT_TIMING, type RevokeTiming } from './timing';

export type RevokedReceipt = ReceiptPort<{ revoke: RevokeRow; order: Order }>;

/**
 * Who voids: a name (or null) from a trusted caller, an Accountable, or a
 * decision made once the order is known (`eligible`: a revoke call would be made).
 */
export type RevokeAuthority = string | null | Accountable | ((order: Order, eligible: boolean) => Accountable | Promise<Accountable>);

async function accountableFor(who: RevokeAuthority, order: Order, eligible: boolean): Promise<Accountable | null> {
  if (typeof who === 'function') return who(order, eligible);
  if (typeof who === 'string') return { operatorId: null, operatorName: who, approverId: null, approverName: null };
  return who;
}

export interface RevokeEngineDeps extends OperationDeps<CrashPoint> {
  /** Lead time before the business day ends at which the cashier is warned. */
  warningLeadMs: () => number;
  /** The receipt of a revoke recorded `revoked`. */
  receipts?: RevokedReceipt;
}

export type CrashPoint = 'intent-committed' | 'answer-received' | 'revoked-committed' | 'send-committed';

/** Longest an answer waits for others in flight to share its commit (a queue drain; a lone revoke never waits). */
const GROUP_COMMIT_WINDOW_MS = 2;

export class RevokeEngine extends MoneyOperations<RevokeRow, RevokesRepo> {
  readonly owner = newOwnerId('revoke');
  private readonly timing: RevokeTiming;
  private readonly commits: GroupCommit;
  /** Rows this process committed as `sending` in a batch claim and has yet to send. */
  private readonly markedForSend = new Set<number>();

  constructor(private readonly deps: RevokeEngineDeps) {
    super(deps, 'revoke', new RevokesRepo(deps.db));
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.commits = new GroupCommit(deps.db, GROUP_COMMIT_WINDOW_MS);
  }

  // ---------- public API ----------

  /**
   * A cashier's revoke. Returns after the first attempt settles (revoked,
   * rejected, queued or pending); a second request for an order with an open
   * (or successful) revoke returns that one without any gateway call.
   *
   * `who` is who voids (and who approved): fixed (the CLI: a name, or an
   * Accountable), or decided once the order is known (the IPC policy needs
   * the amount); a refusal there ends the request before any revoke call.
   */
  async request(ref: OrderRef, who: RevokeAuthority, actor: string): Promise<Revoke> {
    const order = await this.deps.orders.findOrImport(ref, actor);
    const existing = this.repo.live(order.sn);
    if (existing) return toRevoke(existing);
    const reason = ineligibility(order, this.deps.clock.now());
    const accountable = await accountableFor(who, order, reason === undefined);
    const signer = reason ? undefined : await this.deps.provisioning.signerForToday(actor);

    const created = T.recordRequest(this.repo, order, accountable, actor, reason, this.stamp());
    if (!created.fresh || created.row.state === 'rejected') {
      if (created.fresh) this.emit(created.row);
      return toRevoke(created.row);
    }
    const row = created.row;
    this.deps.checkpoint?.('intent-committed');
    this.emit(row);
    this.outbox.take(row.id);
    try {
      const res = await this.deps.client.revoke(signer!, { sn: row.order_sn });
      this.deps.checkpoint?.('answer-received');
      await this.record(row, interpretRevoke(res));
    } catch (err) {
      // Unexpected (vault, disk): the row stays `sending`, released; the worker resolves it by query.
      this.repo.release(row.id, this.owner, null);
      this.outbox.done(row.id);
      this.kick();
      throw err;
    }
    this.outbox.done(row.id);
    const after = this.repo.get(row.id)!;
    // A final answer leaves the worker nothing new to do; pending or queued rows need its timer.
    if (!isFinalRevokeState(after.state) || this.outbox.hasIdleWaiters) this.kick();
    return toRevoke(after);
  }

  /** A person's "query again" on a pending or needs_attention revoke. */
  async queryAgain(id: number, actor: string): Promise<Revoke> {
    const row = this.repo.get(id);
    if (!row) throw new PosError('REVOKE_NOT_FOUND', `找不到撤销记录 ${id}。`, `Revoke ${id} was not found.`);
    if (isFinalRevokeState(row.state) || row.state === 'queued') return toRevoke(row);
    const claimed = T.claimOne(this.repo, id, ['pending', 'sending', 'needs_attention'], this.stamp());
    if (!claimed) return toRevoke(this.repo.get(id)!);
    this.outbox.take(id);
    try {
      audit(this.deps.db, this.deps.clock.now(), actor, 'revoke.query', claimed.order_sn, { revokeId: id });
      await this.resolveByQuery(claimed, true);
    } finally {
      this.outbox.done(id);
      this.kick();
    }
    return toRevoke(this.repo.get(id)!);
  }

  get(id: number): Revoke | undefined {
    const r = this.repo.get(id);
    return r && toRevoke(r);
  }

  forOrder(sn: string): Revoke | undefined {
    const r = this.repo.live(sn) ?? this.repo.latest(sn);
    return r && toRevoke(r);
  }

  /** Each order's revoke as `forOrder` picks it (the live one, else the latest), for many orders in one query. */
  forOrders(sns: readonly string[]): Map<string, Revoke> {
    return perOrder(this.repo.forOrders(sns));
  }

  /** The same for every order of a business day. */
  forDay(day: string): Map<string, Revoke> {
    return perOrder(this.repo.forDay(day));
  }

  open(): Revoke[] {
    return this.repo.open().map(toRevoke);
  }

  // ---------- the re-check's view of revokes (operations/recheck.ts) ----------

  /** Needs-attention revokes of the business day still running. */
  unresolved(now: number): number[] {
    return this.repo.needingAttention(businessDay(now));
  }

  /** The re-check asks about one row as a person's "query again" would. */
  recheck(id: number): Promise<Revoke> {
    return this.queryAgain(id, 'recheck');
  }

  /** Connectivity is back: pending rows are queried at once, not at their next poll. */
  wakePending(now: number): void {
    this.repo.duePendingNow(now);
    this.kick();
  }

  // ---------- the outbox's view of a revoke row ----------

  protected giveBack(row: RevokeRow): void {
    this.repo.release(row.id, this.owner, this.deps.clock.now() + this.timing.queryEveryMs);
  }

  /** Rows whose answer waits in the commit queue hold no network slot. */
  protected override answered(): number {
    return this.commits.waiting;
  }

  /** `sending` and `pending` rows a crashed process left are resolved by query first, `queued` ones are sent. */
  protected resume(): void {
    T.resumeAfterCrash(this.repo, this.stamp());
  }

  private stamp(): T.Stamp & { leaseMs: number } {
    return { owner: this.owner, now: this.deps.clock.now(), leaseMs: this.timing.leaseMs };
  }

  protected claim(candidates: RevokeRow[], max: number, now: number): RevokeRow[] {
    if (candidates.length === 0) return [];
    const { rows, toSend } = T.claimBatch(this.repo, candidates, max, businessDay(now), { owner: this.owner, now, leaseMs: this.timing.leaseMs });
    for (const row of toSend) {
      this.markedForSend.add(row.id);
      this.emit(row);
    }
    return rows;
  }

  /** Rows claimed ahead but never started were not sent: they go back to the queue as they were. */
  protected unclaim(rows: RevokeRow[]): void {
    for (const row of rows) this.markedForSend.delete(row.id);
    if (this.deps.db.open) T.unclaim(this.repo, rows, this.stamp());
  }

  /** Earliest time any row needs this process: due work, a deadline, or a warning. */
  protected nextWake(): number | null {
    const t = this.repo.nextDue(this.owner);
    const deadline = nextDeadline(this.repo, this.deps.warningLeadMs());
    if (deadline === null) return t;
    return t === null ? deadline : Math.min(t, deadline);
  }

  protected sweep(now: number): void {
    const { expired, warned } = sweepDeadlines(this.repo, this.deps.warningLeadMs(), { owner: this.owner, now });
    for (const row of expired) this.emit(row);
    for (const { row, deadlineAt } of warned) {
      this.deps.events.emit('revoke.warning', {
        revoke: toRevoke(row),
        deadlineAt,
        messageZh: REVOKE_MESSAGES.DEADLINE_NEAR.zh,
        messageEn: REVOKE_MESSAGES.DEADLINE_NEAR.en,
      });
    }
  }

  protected async work(row: RevokeRow): Promise<void> {
    if (this.markedForSend.delete(row.id)) return this.sendMarked(row);
    if (row.state === 'queued') {
      // Claimed but not marked: its business day is over.
      const now = this.deps.clock.now();
      if (businessDay(now) > row.deadline_day) return void this.moved(T.toExpired(this.repo, row, { owner: this.owner, now }));
      return this.send(row);
    }
    await this.resolveByQuery(row, false);
  }

  /** Sends the revoke again for a claimed row (after a query showed the order still PAID). */
  private async send(row: RevokeRow): Promise<void> {
    const s = this.stamp();
    this.moved(T.toSending(this.repo, row, s.now + s.leaseMs, s));
    await this.sendMarked({ ...row, attempts: row.attempts + 1, state: 'sending' });
  }

  /** Sends the revoke of a row already committed as `sending` under our lease. */
  private async sendMarked(row: RevokeRow): Promise<void> {
    this.deps.checkpoint?.('send-committed');
    const signer = await this.deps.provisioning.signerForToday('system');
    const res = await this.deps.client.revoke(signer, { sn: row.order_sn });
    this.deps.checkpoint?.('answer-received');
    // The answer is in: this row's network slot is free while its outcome waits for the group commit, so the
    // next claimed row (its `sending` already committed) goes out now instead of after that commit.
    this.kick();
    await this.record(row, interpretRevoke(res));
  }

  /**
   * Records a revoke answer. Answers that arrive close together (a queue
   * drain has several in flight) share one commit (store/group-commit.ts);
   * the group commits as soon as every row in flight has answered. The caller
   * goes on (next I/O for that row, events, printing) only after that commit.
   */
  private record(row: RevokeRow, v: RevokeVerdict): Promise<void> {
    return this.commits.write(() => this.recordNow(row, v), this.outbox.inFlight);
  }

  private recordNow(row: RevokeRow, v: RevokeVerdict): void {
    const s = this.stamp();
    switch (v.to) {
      case 'revoked':
        this.signals.connectivity(true);
        return this.revoked(row, v.order, v.resultCode);
      case 'rejected':
        this.signals.connectivity(true);
        return this.moved(T.toRejected(this.repo, row, v.code, v.gateway, v.resultCode, s));
      case 'confirm_refusal':
        this.signals.connectivity(true);
        return this.moved(T.toPending(this.repo, row, v.resultCode, v.gateway, true, s.now + this.timing.firstQueryMs, s));
      case 'pending':
        return this.moved(T.toPending(this.repo, row, v.resultCode, v.gateway, false, s.now + this.timing.firstQueryMs, s));
      case 'queued': {
        if (v.reason !== 'illegal_sign' && v.reason !== 'maintenance') this.signals.connectivity(false);
        const retryAt = s.now + backoff(row.attempts, this.timing.backoffBaseMs, this.timing.backoffCapMs, this.deps.random ?? Math.random);
        return this.moved(T.toQueued(this.repo, row, v.code ?? 'QUEUED', v.gateway, retryAt, s));
      }
    }
  }

  /** Asks the gateway for the order's status: the truth for an uncertain revoke. */
  private async resolveByQuery(row: RevokeRow, byPerson: boolean): Promise<void> {
    const signer = this.deps.provisioning.signer();
    const res = await this.deps.client.query(signer, { sn: row.order_sn });
    const s = this.stamp();
    const now = s.now;
    const verdict = interpretQuery(res);
    const queried = { ...row, queries: row.queries + 1 };
    this.signals.connectivity(res.ok || res.kind !== 'not_sent');
    switch (verdict.to) {
      case 'revoked':
        return this.revoked(queried, verdict.order, row.last_result_code);
      case 'refunded':
        this.deps.orders.refreshFromSnapshot(verdict.order, now);
        return this.moved(T.toRejected(this.repo, queried, 'REFUNDED', { code: null, message: null }, row.last_result_code, s));
      case 'still_paid': {
        // The revoke did not happen. A confirmed refusal ends here; otherwise re-sending is safe now.
        if (row.error_code === 'GATEWAY_REFUSED') {
          return this.moved(T.toRejected(this.repo, queried, 'GATEWAY_REFUSED', { code: row.gateway_code, message: row.gateway_message }, row.last_result_code, s));
        }
        if (businessDay(now) > row.deadline_day) return this.moved(T.toExpired(this.repo, queried, s));
        if (row.resends >= this.timing.maxResends) return this.moved(T.toNeedsAttention(this.repo, queried, s));
        return this.send(T.countResend(this.repo, queried, s));
      }
      case 'unknown': {
        const since = row.pending_since ?? now;
        if (byPerson || now - since >= this.timing.pendingWindowMs) return this.moved(T.toNeedsAttention(this.repo, queried, s));
        return this.moved(T.stillPending(this.repo, queried, since, now + this.timing.queryEveryMs, s));
      }
    }
  }

  /** --> revoked; the receipt is queued in the same transaction and the printer woken after the commit. */
  private revoked(row: RevokeRow, snapshot: Parameters<typeof T.toRevoked>[2], resultCode: string | null): void {
    const receipts = this.deps.receipts;
    const stored = T.toRevoked(this.repo, row, snapshot, resultCode, this.stamp(), {
      markCanceled: (sn, snap, now) => this.deps.orders.markCanceled(sn, snap, now),
      ...(receipts ? { queueReceipt: (s, now) => receipts.queue(s, now) } : {}),
    });
    if (!stored) return;
    this.commits.afterCommit(() => {
      this.deps.checkpoint?.('revoked-committed');
      this.emitNow(stored);
      receipts?.wake();
    });
  }

  /** Emits a row a transition stored (nothing when the guard refused). */
  private moved(stored: RevokeRow | undefined): void {
    if (stored) this.emit(stored);
  }

  /** Inside a group commit: tell the world after the commit, not before. */
  private emit(row: RevokeRow): void {
    this.commits.afterCommit(() => this.emitNow(row));
  }

  private emitNow(row: RevokeRow): void {
    this.deps.events.emit('revoke.updated', toRevoke(row));
    this.signals.queueChanged();
  }
}
