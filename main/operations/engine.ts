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
import { openOperationOn } from '../store/open-operations';
import type { OperationRow } from '../store/rows';
import type { Signer } from '../upay/client';
import type { CallResult, OrderResult, OrderSnapshot } from '../upay/result';
import type { OperationKind, Step } from './kind';
import { OperationSteps } from './steps';
import * as T from './transitions';

/**
 * A person's "query again" asks the gateway about a row at most once in this long (per row, in this process: every
 * window's taps); within it the row is answered as stored, with no gateway call and no audit entry.
 */
export const PERSON_QUERY_EVERY_MS = 2_000;

/** The re-check's and a queue drain's actor (each kind's `recheck`): the system's own pace, not a person's taps. */
const RECHECK_ACTOR = 'recheck';

/**
 * A person's query of a row whose reversal is under way (the kind's reversal state, or needs_attention with the
 * reversal still tried): the next reversal call stays when the kind's pacing put it (the row's next_attempt_at:
 * nextCancel after the last cancel, attentionEveryMs once a person was told). A tap neither brings it forward (a
 * cancel per tap) nor pushes it back (tapping would hold the reversal off). That time, when the step would move
 * it; else undefined (the step applies as it is: a final answer, the first reversal, a row already due).
 */
function pacedUntil<Row extends OperationRow>(kind: OperationKind<Row>, row: Row, step: Step<Row>, now: number): number | undefined {
  const due = row.next_attempt_at;
  if (!kind.reverse || due === null || due <= now) return undefined;
  if (row.state !== kind.reverse.state && row.state !== 'needs_attention') return undefined;
  const keeps = step.to === 'reverse' || step.to === 'unknown' || (step.to === 'attention' && row.state === 'needs_attention');
  return keeps ? due : undefined;
}

export abstract class OperationEngine<Row extends OperationRow> extends OperationSteps<Row> {
  /** Rows this process committed as `sending` in a batch claim and has yet to send. */
  private readonly markedForSend = new Set<number>();

  /**
   * The first send of a row just committed as `sending` under our lease (the kind's request, after its
   * eligibility), signed with the request's `signer` (opened before the row was written). Anything failing from
   * here on leaves the row to the worker (steps.ts `callCommitted`): queued or failed if it never left, else asked
   * about now; the error goes on to the caller.
   */
  protected async sendFresh(row: Row, signer: Signer, send: (signer: Signer) => Promise<CallResult<OrderResult>>): Promise<Row> {
    // Crash point: a throw here is the process dying right after the commit (the row stays as committed, ours).
    this.deps.checkpoint?.('intent-committed');
    this.emit(row);
    this.outbox.take(row.id);
    this.watchPublished(row.id);
    let last: Row | null = null;
    let failed = false;
    try {
      await this.callCommitted(row, send, this.kind.interpretSend, signer);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // Out of this flow's hands before the worker is woken (here after an error, or below for an open row).
      this.outbox.done(row.id);
      last = this.takePublished(row.id);
      if (failed) this.kick();
    }
    // The row as its last arrow committed it, when that arrow ended it (a final row never changes again); else as stored now.
    const after = last && !this.repo.isOpen(last.state) ? last : this.repo.get(row.id)!;
    // A final answer leaves the worker nothing new to do; open rows need its timer.
    if (this.repo.isOpen(after.state) || this.outbox.hasIdleWaiters) this.kick();
    return after;
  }

  /**
   * A person's "query again" (and the re-check's, and another kind's request's): asks the gateway about an
   * open row that is not queued. While this process already works the row (the worker mid-call, a cashier's
   * send, another query), no second flow starts: the caller gets the row once that work is done. A person's
   * query is paced: once per row per PERSON_QUERY_EVERY_MS, and the reversal it drives keeps the kind's pacing.
   */
  async queryRow(id: number, actor: string, byPerson = true): Promise<Row | undefined> {
    // A person's taps (any window, any rate) ask at most once per PERSON_QUERY_EVERY_MS; the re-check keeps its own pace.
    const person = byPerson && actor !== RECHECK_ACTOR;
    if (person && !this.mayAsk(id)) return this.repo.get(id);
    if (!this.outbox.tryTake(id)) {
      await this.outbox.released(id);
      return this.repo.get(id);
    }
    if (person) this.askedByPerson.add(id);
    try {
      const claimed = T.claimOne(this.kind, id, actor, this.stamp());
      if (claimed) await this.resolveByQuery(claimed, byPerson);
    } catch (err) {
      // The query itself failed (the key vault, the store): the row is given back, due as it was, not kept ours.
      this.giveBackQuietly(id);
      throw err;
    } finally {
      this.askedByPerson.delete(id);
      this.outbox.done(id);
      this.kick();
    }
    return this.repo.get(id);
  }

  /** When a person last had each row asked about (checked and set before any await: concurrent taps see it). */
  private readonly personAsked = new Map<number, number>();
  /** Rows a person's query is resolving now: their reversal keeps the kind's pacing (`apply`). */
  private readonly askedByPerson = new Set<number>();

  private mayAsk(id: number): boolean {
    const now = this.deps.clock.now();
    const recent = (at: number) => at <= now && now - at < PERSON_QUERY_EVERY_MS;
    if (recent(this.personAsked.get(id) ?? -Infinity)) return false;
    for (const [other, at] of this.personAsked) if (!recent(at)) this.personAsked.delete(other);
    this.personAsked.set(id, now);
    return true;
  }

  /** Every Step as the skeleton applies it, except that a person's query keeps a reversal's pacing (`pacedUntil`). */
  protected override apply(row: Row, step: Step<Row>, byPerson: boolean, heard = true): Promise<void> | undefined {
    const now = this.deps.clock.now();
    const keep = this.askedByPerson.has(row.id) ? pacedUntil(this.kind, row, step, now) : undefined;
    if (keep === undefined) return super.apply(row, step, byPerson, heard);
    if (heard && step.to !== 'unknown') this.signals.connectivity(true);
    return void this.moved(T.stillPending(this.kind, row, row.pending_since ?? now, keep, this.stamp()));
  }

  /**
   * Before a request: another kind's operation open on the order is asked
   * about first (its answer may settle it); returns the order as stored then.
   * The order lock itself is SQLite's (the write-ahead insert), not this.
   */
  protected async askAboutBlocker<O extends { sn: string; clientSn: string }>(order: O, reread: (sn: string) => O | undefined): Promise<O> {
    const open = openOperationOn(this.deps.db, order.clientSn);
    if (!open || open.kind === this.kind.name || open.state === 'queued' || !this.deps.askAbout) return order;
    await this.deps.askAbout(open.kind, open.opId).catch(() => undefined);
    return reread(order.sn) ?? order;
  }

  /**
   * Another kind's answer showed the order's status: settle our open row of that order when it decides it. Only
   * answers about the order that kind asked about are heard (steps.ts `heard`), and this one must name our row's.
   */
  settleFrom(snapshot: OrderSnapshot): void {
    if (!snapshot.sn || !this.kind.settles || this.kind.mightSettle?.(snapshot) === false) return;
    const row = this.repo.openForOrder(snapshot.sn);
    if (row && this.otherOrderOf(snapshot, row) !== undefined) return;
    const step = row && this.kind.settles(snapshot, row);
    if (!row || !step) return;
    if (step.to === 'succeeded') this.succeed(row, step.order, step.resultCode);
    else if (step.to === 'failed') this.moved(T.toFailed(this.kind, row, step.state ?? this.kind.failedState, step.code, step.gateway, step.resultCode ?? null, this.stamp()));
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

  /** Our lease on the row ends now (when the store takes it; else it lapses by itself). */
  private giveBackQuietly(id: number): void {
    try {
      if (this.deps.db.open) this.repo.release(id, this.owner, null);
    } catch {
      // The store refuses writes just now: the lease runs out on its own.
    }
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
}
