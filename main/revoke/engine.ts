/**
 * The revoke engine: the durable state machine of ../shared/architecture.md.
 * Every transition is one SQLite transaction committed before the next I/O;
 * rows are worked under a lease so two processes sharing the data dir never
 * act on the same revoke at once. Uncertain answers are resolved by `query`,
 * never by re-sending, unless a query shows the order still PAID.
 */
import type { Order, Revoke } from '../domain';
import { FINAL_REVOKE_STATES } from '../domain';
import { PosError } from '../errors';
import type { QueueStatus, RuntimeEvents } from '../events';
import type { OrderRef, OrderService } from '../orders/service';
import { orderFromSnapshot } from '../orders/service';
import { audit } from '../store/audit';
import { prepared, tx, type Db } from '../store/db';
import { newOwnerId } from '../store/locks';
import { RevokesRepo, toRevoke, type RevokePatch, type RevokeRow } from '../store/revokes';
import type { Provisioning } from '../terminal/provisioning';
import type { UpayClient } from '../upay/client';
import type { OrderSnapshot } from '../upay/result';
import { businessDay, businessDayEnd, type Clock } from '../common/time';
import { interpretQuery, interpretRevoke, type Gateway, type RevokeVerdict } from './interpret';
import { REVOKE_MESSAGES, revokeError, type RevokeMessageCode } from './messages';

export interface RevokeTiming {
  /** First query after an uncertain answer (~2 s). */
  firstQueryMs: number;
  /** Later queries (≥ 5 s). */
  queryEveryMs: number;
  /** How long a pending revoke is polled before a person is asked (~1 min). */
  pendingWindowMs: number;
  /** Outbox backoff for "not sent" failures. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Lease on a row while this process works it; longer than any gateway call. */
  leaseMs: number;
  /** Re-sends allowed after a query showed the order still PAID; then a person decides. */
  maxResends: number;
}

export const DEFAULT_TIMING: RevokeTiming = {
  firstQueryMs: 2_000,
  queryEveryMs: 5_000,
  pendingWindowMs: 60_000,
  backoffBaseMs: 1_000,
  backoffCapMs: 60_000,
  leaseMs: 120_000,
  maxResends: 2,
};

export interface RevokeEngineDeps {
  db: Db;
  client: UpayClient;
  provisioning: Provisioning;
  orders: OrderService;
  clock: Clock;
  events: RuntimeEvents;
  /** Lead time before the business day ends at which the cashier is warned. */
  warningLeadMs: () => number;
  /** Called inside the transaction that records `revoked`: creates the receipt's print job. */
  /** Runs inside the transaction that records `revoked`, with the rows as stored in it. */
  onRevoked?: (db: Db, stored: { revoke: RevokeRow; order: Order }, now: number) => void;
  timing?: Partial<RevokeTiming>;
  /** Outbox concurrency (revokes in flight at once). */
  concurrency?: number;
  random?: () => number;
  log?: (line: string) => void;
  /** Crash-test hook: called at named points between durable steps (never set in production). */
  checkpoint?: (point: CrashPoint) => void;
}

export type CrashPoint = 'intent-committed' | 'answer-received' | 'revoked-committed' | 'send-committed';

const WORKABLE = ['queued', 'pending', 'sending'] as const;

/** Longest an answer waits for others in flight to share its commit (a queue drain; a lone revoke never waits). */
const GROUP_COMMIT_WINDOW_MS = 2;

export class RevokeEngine {
  readonly repo: RevokesRepo;
  readonly owner = newOwnerId('revoke');
  private readonly timing: RevokeTiming;
  private readonly concurrency: number;
  private readonly inflight = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private pumpQueued = false;
  private running = false;
  private online = true;
  private idleWaiters: Array<() => void> = [];
  private queueEventPending = false;
  private readonly commitQueue: Array<{ run: () => void; resolve: () => void; reject: (err: unknown) => void }> = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private deferring = false;
  private readonly deferred: Array<{ row: RevokeRow; checkpoint: boolean }> = [];
  /** Rows claimed ahead (leased, and queued ones already committed as `sending`), not started yet. */
  private ready: RevokeRow[] = [];
  /** Rows this process committed as `sending` in a batch claim and has yet to send. */
  private readonly markedForSend = new Set<number>();

  constructor(private readonly deps: RevokeEngineDeps) {
    this.repo = new RevokesRepo(deps.db);
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.concurrency = Math.max(1, deps.concurrency ?? 4);
  }

  // ---------- public API ----------

  /**
   * A cashier's revoke. Returns after the first attempt settles (revoked,
   * rejected, queued or pending); a second request for an order with an open
   * (or successful) revoke returns that one without any gateway call.
   */
  async request(ref: OrderRef, operator: string | null, actor: string): Promise<Revoke> {
    const order = await this.deps.orders.findOrImport(ref, actor);
    const existing = this.repo.live(order.sn);
    if (existing) return toRevoke(existing);
    const reason = ineligibility(order, this.deps.clock.now());
    const signer = reason ? undefined : await this.deps.provisioning.signerForToday(actor);

    const now = this.deps.clock.now();
    const created = tx(this.deps.db, () => {
      const live = this.repo.live(order.sn);
      if (live) return { row: live, fresh: false };
      const base = {
        order_sn: order.sn,
        client_sn: order.clientSn,
        operator,
        requested_at: now,
        updated_at: now,
        queries: 0,
        resends: 0,
        pending_since: null,
        deadline_day: order.businessDay,
        revoked_at: null,
        gateway_code: null,
        gateway_message: null,
        last_result_code: null,
        warned_at: null,
      };
      if (reason) {
        const err = revokeError(reason);
        const inserted = this.repo.insert({
          ...base,
          state: 'rejected',
          attempts: 0,
          next_attempt_at: null,
          error_code: err.code,
          error_zh: err.messageZh,
          error_en: err.messageEn,
          lease_owner: null,
          lease_until: null,
        });
        audit(this.deps.db, now, actor, 'revoke.requested', order.sn, { revokeId: inserted.id, operator });
        audit(this.deps.db, now, actor, 'revoke.resolved', order.sn, { revokeId: inserted.id, state: 'rejected', code: reason });
        return { row: inserted, fresh: true };
      }
      // Write-ahead: the intent (already marked as being sent, under our lease) commits before the request leaves.
      const inserted = this.repo.insert({
        ...base,
        state: 'sending',
        attempts: 1,
        next_attempt_at: null,
        error_code: null,
        error_zh: null,
        error_en: null,
        lease_owner: this.owner,
        lease_until: now + this.timing.leaseMs,
      });
      audit(this.deps.db, now, actor, 'revoke.requested', order.sn, { revokeId: inserted.id, operator });
      return { row: inserted, fresh: true };
    });
    if (!created.fresh || created.row.state === 'rejected') {
      if (created.fresh) this.emit(created.row);
      return toRevoke(created.row);
    }
    const row = created.row;
    this.deps.checkpoint?.('intent-committed');
    this.emit(row);
    this.inflight.add(row.id);
    try {
      const res = await this.deps.client.revoke(signer!, { sn: row.order_sn });
      this.deps.checkpoint?.('answer-received');
      await this.applyRevoke(row, interpretRevoke(res));
    } catch (err) {
      // Unexpected (vault, disk): the row stays `sending`, released; the worker resolves it by query.
      this.release(row.id);
      this.inflight.delete(row.id);
      this.kick();
      throw err;
    }
    this.inflight.delete(row.id);
    const after = this.repo.get(row.id)!;
    // A final answer leaves the worker nothing new to do; pending or queued rows need its timer.
    if (!isFinal(after.state) || this.idleWaiters.length > 0) this.kick();
    return toRevoke(after);
  }

  /** A person's "query again" on a pending or needs_attention revoke. */
  async queryAgain(id: number, actor: string): Promise<Revoke> {
    const row = this.repo.get(id);
    if (!row) throw new PosError('REVOKE_NOT_FOUND', `找不到撤销记录 ${id}。`, `Revoke ${id} was not found.`);
    if (isFinal(row.state) || row.state === 'queued') return toRevoke(row);
    const claimed = this.claim(id, ['pending', 'sending', 'needs_attention']);
    if (!claimed) return toRevoke(this.repo.get(id)!);
    this.inflight.add(id);
    try {
      audit(this.deps.db, this.deps.clock.now(), actor, 'revoke.query', claimed.order_sn, { revokeId: id });
      await this.resolveByQuery(claimed, true);
    } finally {
      this.inflight.delete(id);
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
    return pickPerOrder(this.repo.forOrders(sns));
  }

  /** The same for every order of a business day. */
  forDay(day: string): Map<string, Revoke> {
    return pickPerOrder(this.repo.forDay(day));
  }

  open(): Revoke[] {
    return this.repo.open().map(toRevoke);
  }

  queueStatus(): QueueStatus {
    const c = this.repo.counts();
    return {
      queued: c.queued,
      pending: c.pending,
      sending: c.sending,
      needsAttention: c.needsAttention,
      oldestAgeMs: c.oldestOpenAt === null ? null : Math.max(0, this.deps.clock.now() - c.oldestOpenAt),
      online: this.online,
    };
  }

  isOnline(): boolean {
    return this.online;
  }

  /** The app's connectivity signal: coming back online sends the queue at once. */
  setOnline(online: boolean): void {
    const now = this.deps.clock.now();
    if (online) prepared(this.deps.db, "UPDATE revokes SET next_attempt_at = ? WHERE state = 'queued'").run(now);
    this.noteConnectivity(online);
    if (online) this.kick();
  }

  /**
   * Starts the outbox worker. Rows left by a crashed process resume: `sending`
   * and `pending` are resolved by query first, `queued` is sent.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.deps.clock.now();
    tx(this.deps.db, () => {
      for (const row of this.repo.open()) {
        if (this.heldByOther(row, now)) continue;
        if (row.state === 'sending') {
          // We cannot know whether the request left: ask the gateway before anything else.
          this.repo.update(row.id, { state: 'pending', pending_since: now, next_attempt_at: now, lease_owner: null, lease_until: null, updated_at: now });
        } else if (row.state === 'pending' || row.state === 'queued') {
          this.repo.update(row.id, { next_attempt_at: now, lease_owner: null, lease_until: null });
        }
      }
    });
    this.kick();
  }

  stop(): void {
    this.running = false;
    // Rows claimed ahead but never started were not sent: they go back to the queue as they were.
    const unsent = this.ready.splice(0);
    if (unsent.length && this.deps.db.open) {
      tx(this.deps.db, () => {
        for (const row of unsent) {
          this.markedForSend.delete(row.id);
          prepared(
            this.deps.db,
            "UPDATE revokes SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, next_attempt_at = ? WHERE id = ? AND state = 'sending' AND lease_owner = ?",
          ).run(this.deps.clock.now(), row.id, this.owner);
        }
      });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Resolves when no gateway call of this process is in flight (after stop(), before closing the database). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  /** Resolves when nothing is in flight in this process and no open row is due now. */
  async idle(): Promise<void> {
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs the worker now (tests, "drain now", the online signal). */
  kick(): void {
    if (!this.running || this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  // ---------- worker ----------

  /** Nothing in flight or claimed here, and nothing due before `next` (the next wake-up). */
  private isIdle(next: number | null = this.nextWake()): boolean {
    if (this.inflight.size > 0 || this.ready.length > 0) return false;
    return next === null || next > this.deps.clock.now();
  }

  private pump(): void {
    if (!this.running) return;
    const now = this.deps.clock.now();
    this.sweepDeadlines(now);
    // Rows whose answer waits in the commit queue hold no network slot.
    const free = this.concurrency - (this.inflight.size - this.commitQueue.length);
    if (free > 0 && this.ready.length < free) {
      // Claim ahead (one commit for a batch): a slot freed by an answer starts the next revoke at once.
      const taken = new Set(this.ready.map((r) => r.id));
      const candidates = this.repo.due(now, this.concurrency * 4).filter((r) => !this.inflight.has(r.id) && !taken.has(r.id));
      this.ready.push(...this.claimBatch(candidates, this.concurrency * 2 - this.ready.length, now));
    }
    for (let n = Math.min(free, this.ready.length); n > 0; n--) {
      const row = this.ready.shift()!;
      this.inflight.add(row.id);
      void this.work(row)
        .catch((err: unknown) => {
          this.deps.log?.(`revoke ${row.id}: ${(err as Error).message}`);
          this.release(row.id, this.deps.clock.now() + this.timing.queryEveryMs);
        })
        .finally(() => {
          this.inflight.delete(row.id);
          this.kick();
        });
    }
    // While revokes are in flight or claimed, each one that ends runs this again: the wake-up timer
    // (a look at every open row's due time and deadline) is only needed once nothing is.
    if (this.inflight.size > 0 || this.ready.length > 0) return;
    if (this.isIdle(this.arm())) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Earliest time any row needs this process: due work, a deadline, or a warning. */
  private nextWake(): number | null {
    const t = this.repo.nextDue(this.owner);
    // Deadlines: only the earliest day can matter (the warning lead is under a day): its warning if a row
    // of that day is not warned yet, else its end (expiry).
    const day = prepared(this.deps.db, "SELECT min(deadline_day) FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending')").pluck().get() as string | null;
    if (day === null) return t;
    const unwarned = prepared(this.deps.db, "SELECT 1 FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending') AND deadline_day = ? AND warned_at IS NULL LIMIT 1").get(day);
    const deadline = businessDayEnd(day) - (unwarned ? this.deps.warningLeadMs() : 0);
    return t === null ? deadline : Math.min(t, deadline);
  }

  /** Sets the timer for the next wake-up; returns when that is (null: nothing to wake for). */
  private arm(): number | null {
    const next = this.nextWake();
    if (next === null) return null;
    const now = this.deps.clock.now();
    if (next >= this.timerAt && this.timer) return next;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    // Bounded so a changed clock (tests, NTP) is noticed; unref so a CLI can exit.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.kick();
    }, Math.min(Math.max(0, next - now), 30_000));
    this.timer.unref();
    return next;
  }

  /** Expires queued revokes whose business day is over; warns once when the end is near. */
  private sweepDeadlines(now: number): void {
    const today = businessDay(now);
    const lead = this.deps.warningLeadMs();
    // (By the open-revoke day index, migration 004: each query repeats its condition `state IN ('queued', 'pending')`.)
    const stale = prepared(
      this.deps.db,
      "SELECT * FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending') AND deadline_day < ? AND state = 'queued' AND (lease_owner IS NULL OR lease_until < ? OR lease_owner = ?)",
    ).all(today, now, this.owner) as RevokeRow[];
    for (const row of stale) this.expire(row, now);
    // Only rows whose day ends within the lead time (their day is before the day of now + lead):
    // the sweep runs on every pass of the worker and must not read the whole queue.
    const near = prepared(this.deps.db, "SELECT * FROM revokes INDEXED BY revokes_open_day WHERE state IN ('queued', 'pending') AND warned_at IS NULL AND deadline_day >= ? AND deadline_day < ?")
      .all(today, businessDay(now + lead)) as RevokeRow[];
    for (const row of near) {
      const end = businessDayEnd(row.deadline_day);
      if (end - now > lead) continue;
      const warned = tx(this.deps.db, () => {
        const changed = prepared(this.deps.db, 'UPDATE revokes SET warned_at = ? WHERE id = ? AND warned_at IS NULL').run(now, row.id).changes;
        if (changed) audit(this.deps.db, now, 'system', 'revoke.warning', row.order_sn, { revokeId: row.id, deadlineAt: end });
        return changed > 0;
      });
      if (warned) {
        this.deps.events.emit('revoke.warning', {
          revoke: toRevoke(this.repo.get(row.id)!),
          deadlineAt: end,
          messageZh: REVOKE_MESSAGES.DEADLINE_NEAR.zh,
          messageEn: REVOKE_MESSAGES.DEADLINE_NEAR.en,
        });
      }
    }
  }

  private async work(row: RevokeRow): Promise<void> {
    if (this.markedForSend.delete(row.id)) return this.sendMarked(row);
    if (row.state === 'queued') {
      // Claimed but not marked: its business day is over.
      if (businessDay(this.deps.clock.now()) > row.deadline_day) return this.expire(row, this.deps.clock.now());
      return this.send(row);
    }
    await this.resolveByQuery(row, false);
  }

  /** Re-sends the revoke for a claimed row (after a query showed the order still PAID). */
  private async send(row: RevokeRow): Promise<void> {
    const now = this.deps.clock.now();
    this.transition(row, { state: 'sending', attempts: row.attempts + 1, next_attempt_at: null, lease_until: now + this.timing.leaseMs }, 'revoke.sent');
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
    await this.applyRevoke(row, interpretRevoke(res));
  }

  /**
   * Records a revoke answer. Answers that arrive close together (a queue
   * drain has several in flight) commit in one transaction, each in its own
   * savepoint: one fsync for the group instead of one per revoke. The group
   * commits as soon as every row in flight has answered (nobody else can
   * join: a cashier's lone revoke commits at once), else after at most
   * GROUP_COMMIT_WINDOW_MS. The caller goes on (next I/O for that row,
   * events, printing) only after that commit.
   */
  private applyRevoke(row: RevokeRow, v: RevokeVerdict): Promise<void> {
    return new Promise((resolve, reject) => {
      this.commitQueue.push({ run: () => this.applyRevokeNow(row, v), resolve, reject });
      if (this.commitQueue.length >= this.inflight.size) this.flushCommits();
      else this.flushTimer ??= setTimeout(() => this.flushCommits(), GROUP_COMMIT_WINDOW_MS);
    });
  }

  private flushCommits(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const group = this.commitQueue.splice(0);
    if (group.length === 0) return;
    const failures = new Map<number, unknown>();
    this.deferring = true;
    let committed = false;
    try {
      tx(this.deps.db, () => {
        // A group of one needs no savepoint: its failure rolls back the transaction it is alone in.
        if (group.length === 1) return group[0]!.run();
        group.forEach((item, i) => {
          try {
            this.deps.db.transaction(item.run)();
          } catch (err) {
            failures.set(i, err);
          }
        });
      });
      committed = true;
    } catch (err) {
      group.forEach((_, i) => failures.set(i, err));
    } finally {
      this.deferring = false;
    }
    const emits = this.deferred.splice(0);
    if (committed) {
      if (emits.some((e) => e.checkpoint)) this.deps.checkpoint?.('revoked-committed');
      for (const e of emits) this.emit(e.row);
    }
    group.forEach((item, i) => (failures.has(i) ? item.reject(failures.get(i)) : item.resolve()));
  }

  private applyRevokeNow(row: RevokeRow, v: RevokeVerdict): void {
    const now = this.deps.clock.now();
    switch (v.to) {
      case 'revoked':
        this.noteConnectivity(true);
        return this.markRevoked(row, v.order, v.resultCode);
      case 'rejected':
        this.noteConnectivity(true);
        return this.markRejected(row, v.code, v.gateway, v.resultCode);
      case 'confirm_refusal': {
        this.noteConnectivity(true);
        const err = revokeError('GATEWAY_REFUSED', v.gateway);
        return this.toPending(row, now, v.resultCode, {
          error_code: err.code,
          error_zh: err.messageZh,
          error_en: err.messageEn,
          gateway_code: v.gateway.code,
          gateway_message: v.gateway.message,
        });
      }
      case 'pending':
        return this.toPending(row, now, v.resultCode, v.gateway ? { gateway_code: v.gateway.code, gateway_message: v.gateway.message } : {});
      case 'queued': {
        if (v.reason !== 'illegal_sign' && v.reason !== 'maintenance') this.noteConnectivity(false);
        const tries = Math.max(1, row.attempts);
        const delay = Math.min(this.timing.backoffCapMs, this.timing.backoffBaseMs * 2 ** Math.min(tries - 1, 20));
        const jittered = Math.round(delay / 2 + (this.deps.random ?? Math.random)() * (delay / 2));
        const err = v.code ? revokeError(v.code, v.gateway) : revokeError('QUEUED');
        this.transition(
          row,
          {
            state: 'queued',
            next_attempt_at: now + jittered,
            error_code: err.code,
            error_zh: err.messageZh,
            error_en: err.messageEn,
            gateway_code: v.gateway?.code ?? null,
            gateway_message: v.gateway?.message ?? null,
            lease_owner: null,
            lease_until: null,
          },
          null,
        );
        return;
      }
    }
  }

  private toPending(row: RevokeRow, now: number, resultCode: string | null, extra: RevokePatch): void {
    const err = extra.error_code ? null : revokeError('PENDING');
    this.transition(
      row,
      {
        state: 'pending',
        pending_since: row.pending_since ?? now,
        next_attempt_at: now + this.timing.firstQueryMs,
        last_result_code: resultCode ?? row.last_result_code,
        ...(err ? { error_code: err.code, error_zh: err.messageZh, error_en: err.messageEn } : {}),
        ...extra,
        lease_owner: null,
        lease_until: null,
      },
      null,
    );
  }

  /** Asks the gateway for the order's status: the truth for an uncertain revoke. */
  private async resolveByQuery(row: RevokeRow, byPerson: boolean): Promise<void> {
    const signer = this.deps.provisioning.signer();
    const res = await this.deps.client.query(signer, { sn: row.order_sn });
    const now = this.deps.clock.now();
    const verdict = interpretQuery(res);
    const queried = { ...row, queries: row.queries + 1 };
    if (res.ok || res.kind !== 'not_sent') this.noteConnectivity(true);
    else this.noteConnectivity(false);
    switch (verdict.to) {
      case 'revoked':
        return this.markRevoked(queried, verdict.order, row.last_result_code);
      case 'refunded':
        this.updateOrder(verdict.order, now);
        return this.markRejected(queried, 'REFUNDED', { code: null, message: null }, row.last_result_code);
      case 'still_paid': {
        // The revoke did not happen. A confirmed refusal ends here; otherwise re-sending is safe now.
        if (row.error_code === 'GATEWAY_REFUSED') {
          return this.markRejected(queried, 'GATEWAY_REFUSED', { code: row.gateway_code, message: row.gateway_message }, row.last_result_code);
        }
        if (businessDay(now) > row.deadline_day) return this.expire(queried, now);
        if (row.resends >= this.timing.maxResends) return this.needsAttention(queried, now);
        const resend = { ...queried, resends: row.resends + 1 };
        this.transition(resend, { queries: resend.queries, resends: resend.resends }, null);
        return this.send(resend);
      }
      case 'unknown': {
        const since = row.pending_since ?? now;
        if (byPerson || now - since >= this.timing.pendingWindowMs) return this.needsAttention(queried, now);
        this.transition(
          queried,
          {
            state: 'pending',
            queries: queried.queries,
            pending_since: since,
            next_attempt_at: now + this.timing.queryEveryMs,
            lease_owner: null,
            lease_until: null,
          },
          null,
        );
        return;
      }
    }
  }

  // ---------- transitions (one transaction each) ----------

  private markRevoked(row: RevokeRow, snapshot: OrderSnapshot | null, resultCode: string | null): void {
    const now = this.deps.clock.now();
    const stored = tx(this.deps.db, () => {
      const updated = this.repo.updateToRevoked(row.id, {
        state: 'revoked',
        attempts: row.attempts,
        queries: row.queries,
        revoked_at: now,
        updated_at: now,
        next_attempt_at: null,
        last_result_code: resultCode,
        error_code: null,
        error_zh: null,
        error_en: null,
        lease_owner: null,
        lease_until: null,
      });
      if (!updated) return undefined;
      // Details the host did not record (trade_no, payway name) come from the gateway's answer.
      const order = this.deps.orders.repo.markCanceled(row.order_sn, snapshot, now);
      audit(this.deps.db, now, 'system', 'revoke.resolved', row.order_sn, { revokeId: row.id, state: 'revoked', resultCode });
      if (order) this.deps.onRevoked?.(this.deps.db, { revoke: updated, order }, now);
      return updated;
    });
    if (!stored) return;
    if (this.deferring) {
      this.deferred.push({ row: stored, checkpoint: true });
      return;
    }
    this.deps.checkpoint?.('revoked-committed');
    this.emit(stored);
  }

  private markRejected(row: RevokeRow, code: RevokeMessageCode, gateway: Gateway, resultCode: string | null): void {
    const err = revokeError(code, gateway);
    this.transition(
      row,
      {
        state: 'rejected',
        attempts: row.attempts,
        queries: row.queries,
        next_attempt_at: null,
        error_code: err.code,
        error_zh: err.messageZh,
        error_en: err.messageEn,
        gateway_code: gateway.code,
        gateway_message: gateway.message,
        last_result_code: resultCode ?? row.last_result_code,
        lease_owner: null,
        lease_until: null,
      },
      'revoke.resolved',
    );
  }

  private needsAttention(row: RevokeRow, now: number): void {
    const err = revokeError('NEEDS_ATTENTION', row.gateway_code || row.gateway_message ? { code: row.gateway_code, message: row.gateway_message } : undefined);
    this.transition(
      row,
      {
        state: 'needs_attention',
        queries: row.queries,
        next_attempt_at: null,
        pending_since: row.pending_since ?? now,
        error_code: err.code,
        error_zh: err.messageZh,
        error_en: err.messageEn,
        lease_owner: null,
        lease_until: null,
      },
      'revoke.resolved',
    );
  }

  private expire(row: RevokeRow, now: number): void {
    const err = revokeError('EXPIRED');
    this.transition(
      row,
      {
        state: 'expired',
        queries: row.queries,
        next_attempt_at: null,
        error_code: err.code,
        error_zh: err.messageZh,
        error_en: err.messageEn,
        lease_owner: null,
        lease_until: null,
        updated_at: now,
      },
      'revoke.resolved',
    );
  }

  /** Applies a patch in one transaction, only if the row is still open and nobody else took it meanwhile. */
  private transition(row: RevokeRow, patch: RevokePatch, action: 'revoke.sent' | 'revoke.resolved' | null): void {
    const now = this.deps.clock.now();
    const stored = tx(this.deps.db, () => {
      const updated = this.repo.updateOpen(row.id, { updated_at: now, ...patch }, this.owner, now);
      if (updated && action) {
        audit(this.deps.db, now, 'system', action, row.order_sn, {
          revokeId: row.id,
          state: updated.state,
          ...(patch.error_code ? { code: patch.error_code } : {}),
          ...(patch.gateway_code ? { gatewayCode: patch.gateway_code } : {}),
        });
      }
      return updated;
    });
    if (stored && patch.state !== undefined) this.emit(stored);
  }

  /** True when another process that is still alive holds the row's lease. */
  private heldByOther(row: RevokeRow, now: number): boolean {
    return row.lease_owner !== null && row.lease_owner !== this.owner && (row.lease_until ?? 0) > now && !leaseOwnerDead(row.lease_owner);
  }

  /** Takes the row's lease if it is in one of `states` and nobody live holds it; returns the fresh row. */
  private claim(id: number, states: string[]): RevokeRow | undefined {
    const now = this.deps.clock.now();
    return tx(this.deps.db, () => {
      const row = this.repo.get(id);
      if (!row || !states.includes(row.state)) return undefined;
      if (this.heldByOther(row, now)) return undefined;
      this.repo.update(id, { lease_owner: this.owner, lease_until: now + this.timing.leaseMs });
      return this.repo.get(id);
    });
  }

  /**
   * Takes the leases of up to `max` due rows in ONE transaction and moves the
   * queued ones to `sending` in it (write-ahead for the whole batch): a queue
   * drain costs one commit per batch here instead of two per revoke.
   */
  private claimBatch(candidates: RevokeRow[], max: number, now: number): RevokeRow[] {
    if (candidates.length === 0) return [];
    const today = businessDay(now);
    const taken = tx(this.deps.db, () => {
      const out: RevokeRow[] = [];
      for (const c of candidates) {
        if (out.length >= max) break;
        const row = this.repo.get(c.id);
        if (!row || !(WORKABLE as readonly string[]).includes(row.state)) continue;
        if (this.heldByOther(row, now)) continue;
        const lease = { lease_owner: this.owner, lease_until: now + this.timing.leaseMs };
        if (row.state === 'queued' && row.deadline_day >= today) {
          // Queued rows are sent; the others (pending, or `sending` left by a crash) are resolved by query.
          this.repo.update(row.id, { ...lease, state: 'sending', attempts: row.attempts + 1, next_attempt_at: null, updated_at: now });
          audit(this.deps.db, now, 'system', 'revoke.sent', row.order_sn, { revokeId: row.id, state: 'sending' });
          this.markedForSend.add(row.id);
        } else {
          this.repo.update(row.id, lease);
        }
        out.push(this.repo.get(row.id)!);
      }
      return out;
    });
    for (const row of taken) if (this.markedForSend.has(row.id)) this.emit(row);
    return taken;
  }

  private release(id: number, nextAttemptAt?: number): void {
    prepared(this.deps.db, 'UPDATE revokes SET lease_owner = NULL, lease_until = NULL, next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ? AND lease_owner = ?')
      .run(nextAttemptAt ?? null, id, this.owner);
  }

  private updateOrder(snapshot: OrderSnapshot, now: number): void {
    const input = orderFromSnapshot(snapshot, now);
    if (!input) return;
    tx(this.deps.db, () => {
      const existing = this.deps.orders.repo.get(input.sn);
      // Keep our finish time: the day an order belongs to never moves.
      if (existing) this.deps.orders.repo.upsert({ ...input, finishedAt: existing.finishedAt }, now);
    });
  }

  private noteConnectivity(online: boolean): void {
    if (online === this.online) return;
    this.online = online;
    this.deps.events.emit('connectivity.changed', { online, at: this.deps.clock.now() });
    this.queueChanged();
  }

  /** One `queue.changed` per turn of the event loop, however many rows moved (counting is a scan). */
  private queueChanged(): void {
    if (this.queueEventPending || this.deps.events.listenerCount('queue.changed') === 0) return;
    this.queueEventPending = true;
    setImmediate(() => {
      this.queueEventPending = false;
      if (this.deps.db.open) this.deps.events.emit('queue.changed', this.queueStatus());
    });
  }

  private emit(row: RevokeRow): void {
    // Inside a group commit: tell the world after the commit, not before.
    if (this.deferring) {
      this.deferred.push({ row, checkpoint: false });
      return;
    }
    this.deps.events.emit('revoke.updated', toRevoke(row));
    this.queueChanged();
  }
}

function isFinal(state: string): boolean {
  return (FINAL_REVOKE_STATES as readonly string[]).includes(state);
}

/** Per order: its live revoke (open or revoked), else its latest; rows oldest first. */
function pickPerOrder(rows: RevokeRow[]): Map<string, Revoke> {
  const live = new Map<string, RevokeRow>();
  const latest = new Map<string, RevokeRow>();
  for (const row of rows) {
    latest.set(row.order_sn, row);
    if (row.state !== 'rejected' && row.state !== 'expired') live.set(row.order_sn, row);
  }
  const out = new Map<string, Revoke>();
  for (const [sn, row] of latest) out.set(sn, toRevoke(live.get(sn) ?? row));
  return out;
}

/** Why an order cannot be revoked, checked before any gateway call; undefined when it can. */
export function ineligibility(order: Order, now: number): RevokeMessageCode | undefined {
  if (order.status === 'CANCELED' || order.status === 'PAY_CANCELED') return 'ALREADY_VOIDED';
  if (order.status === 'REFUNDED' || order.status === 'PARTIAL_REFUNDED' || order.status === 'REFUND_INPROGRESS') return 'REFUNDED';
  if (order.status !== 'PAID') return 'NOT_PAID';
  if (order.netCents < order.totalCents) return 'REFUNDED';
  if (order.totalCents <= 0) return 'ZERO_AMOUNT';
  if (order.businessDay !== businessDay(now)) return 'NOT_TODAY';
  return undefined;
}

/** True when a lease owner id names a process on this machine that no longer runs. */
function leaseOwnerDead(owner: string): boolean {
  const pid = Number(owner.split(':')[1]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
