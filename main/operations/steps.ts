/**
 * The skeleton's step machine (engine.ts is the rest): makes a call for a row
 * already committed as calling, records the answer through the kind's
 * interpretation table, asks the query, and applies every Step as its arrow
 * (transitions.ts), one SQLite transaction each, answers close together in
 * one group commit. Events go out only after the commit that holds them.
 * Whatever fails between a calling row's commit and its recorded answer is
 * resolved in one place (`callCommitted`): the row is never left calling
 * under our lease with nobody to resolve it.
 */
import { backoff } from '../common/backoff';
import { GroupCommit } from '../store/group-commit';
import { newOwnerId } from '../store/locks';
import type { OperationRepo } from '../store/operation-repo';
import type { OperationRow } from '../store/rows';
import type { Signer } from '../upay/client';
import { refusesKey, type CallFailure, type CallResult, type OrderResult, type OrderSnapshot } from '../upay/result';
import { otherOrder, OTHER_ORDER, OTHER_ORDER_ATTENTION, type OperationKind, type Step } from './kind';
import { MoneyOperations, type OperationDeps } from './operation';
import { DEFAULT_TIMING, type OperationTiming } from './timing';
import * as T from './transitions';

/** Longest an answer waits for others in flight to share its commit (a queue drain; a lone call never waits). */
const GROUP_COMMIT_WINDOW_MS = 2;

/** An answer about another order, as the kinds' tables read it: one that said nothing (a malformed answer). */
const SAID_NOTHING: CallFailure = { ok: false, kind: 'maybe_sent', reason: 'malformed', message: 'the answer names another order' };

/** A request that certainly never left this process (a local failure before it), as the kinds' tables read it. */
const NOT_SENT_HERE: CallFailure = { ok: false, kind: 'not_sent', reason: 'refused', message: 'not sent: a local failure before the request left' };

/** What the crash-test hook threw: the process "died" there (`lost` leaves the row as a crash leaves it). */
const crashes = new WeakSet<object>();

type Table<Row extends OperationRow> = (res: CallResult<OrderResult>, row: Row, now: number) => Step<Row>;
type Send = (signer: Signer) => Promise<CallResult<OrderResult>>;

/** The step machine: an answer interpreted, every Step applied as its arrow, and told after its commit. */
export abstract class StepMachine<Row extends OperationRow> extends MoneyOperations<Row, OperationRepo<Row>> {
  readonly owner: string;
  protected readonly timing: OperationTiming;
  protected readonly commits: GroupCommit;

  constructor(
    protected readonly deps: OperationDeps<string>,
    protected readonly kind: OperationKind<Row>,
  ) {
    super(deps, kind.name, kind.repo);
    this.owner = newOwnerId(kind.name);
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.commits = new GroupCommit(deps.db, GROUP_COMMIT_WINDOW_MS);
  }

  /**
   * Tells the other kinds what an answer about the row's order said of it (one about another order settles
   * nothing: it answered no question we asked); a refused signature has the next call check in first.
   */
  protected heard(res: CallResult<OrderResult>, row: Row): void {
    if (res.ok && res.value.order && this.otherOrderIn(res, row) === undefined) this.deps.heard?.(this.kind.name, res.value.order);
    if (refusesKey(res)) this.deps.provisioning.keyRefused();
  }

  /**
   * An answer (a call's, a query's, a reversal's) as a Step through the kind's `table`, once it is known to be
   * about the row's own order (kind.namedBy). One naming another order is no result about this operation: the
   * table reads it as an answer that said nothing, so a query by the row's own identifiers resolves it, and a
   * person is told why if the answers stay wrong. Never a success, a refusal, or another order's facts kept.
   */
  protected interpret(res: CallResult<OrderResult>, row: Row, table: Table<Row>): Step<Row> {
    const now = this.deps.clock.now();
    const other = this.otherOrderIn(res, row);
    if (other === undefined) {
      // About this row: only now does the kind keep what it says of the order (a payment's sn, status, QR).
      this.kind.keep?.(row, res);
      return table.call(this.kind, res, row, now);
    }
    this.deps.log?.(`${this.kind.name} ${row.id}: an answer about another order (${other}) was not applied`);
    const step = table.call(this.kind, SAID_NOTHING, row, now);
    if (step.to === 'pending') return { to: 'pending', resultCode: null, code: OTHER_ORDER };
    if (step.to === 'unknown' || step.to === 'attention') return { ...step, code: OTHER_ORDER_ATTENTION };
    if (step.to === 'reverse') return step;
    // No table ends a row on an answer that said nothing; were one to, it stays uncertain all the same.
    return row.state === 'sending' ? { to: 'pending', resultCode: null, code: OTHER_ORDER } : { to: 'unknown', reason: 'other_order', code: OTHER_ORDER_ATTENTION };
  }

  /** What the answer's order names that is not the row's order (kind.ts `otherOrder`), or undefined. */
  protected otherOrderIn(res: CallResult<OrderResult>, row: Row): string | undefined {
    return res.ok ? this.otherOrderOf(res.value.order, row) : undefined;
  }

  /** What an order snapshot (an answer's, or another kind's) names that is not the row's order, or undefined. */
  protected otherOrderOf(order: OrderSnapshot | null, row: Row): string | undefined {
    return otherOrder(order, row, this.kind.namedBy, () => this.deps.provisioning.info()?.terminalSn);
  }

  protected stamp(): T.LeaseStamp {
    return { owner: this.owner, now: this.deps.clock.now(), leaseMs: this.timing.leaseMs };
  }

  /** Another call for a claimed row (a re-send, or the kind's reversal): committed first, then sent (OperationSteps). */
  protected abstract again(row: Row, state: string, patch: Partial<Row>): Promise<void>;

  /** Records an answer; answers close together share one commit, and the caller goes on only after it. */
  protected async record(row: Row, step: Step<Row>): Promise<void> {
    // A step that may make another call commits on its own first (the call's write-ahead), outside any group.
    if (step.to === 'resend' || step.to === 'reverse' || step.to === 'unknown') return this.apply(row, step, false);
    return this.commits.write(() => void this.apply(row, step, false), this.outbox.inFlight);
  }

  /**
   * One step of the interpretation table: the arrow it names, then (for a re-send or reversal) the next call.
   * `heard`: the step reads a gateway's answer (false: a local failure's, which tells nothing of connectivity).
   */
  protected apply(row: Row, step: Step<Row>, byPerson: boolean, heard = true): Promise<void> | undefined {
    const k = this.kind;
    const s = this.stamp();
    if (heard && step.to !== 'queued' && step.to !== 'unknown' && step.to !== 'pending') this.signals.connectivity(true);
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
        if (heard && step.reason !== 'illegal_sign' && step.reason !== 'maintenance') this.signals.connectivity(false);
        const retryAt = s.now + backoff(row.attempts, this.timing.backoffBaseMs, this.timing.backoffCapMs, this.deps.random ?? Math.random);
        return void this.moved(T.toQueued(k, row, step.code ?? 'QUEUED', step.gateway, retryAt, s));
      }
      case 'resend':
        return this.again(row, 'sending', step.patch ?? {});
      case 'reverse':
        return k.reverse ? this.again(row, k.reverse.state, step.patch ?? {}) : void this.moved(T.toNeedsAttention(k, row, s, { ...this.saying(row), ...step.patch }));
      case 'attention':
        return void this.moved(T.toNeedsAttention(k, row, s, { ...this.saying(row, step.code), ...step.patch }));
      case 'unknown': {
        const since = row.pending_since ?? s.now;
        const next = k.polling.next(row, since, s.now, byPerson);
        if (next === 'attention') return void this.moved(T.toNeedsAttention(k, row, s, this.saying(row, step.code)));
        if (next === 'reverse') return this.apply(row, { to: 'reverse' }, byPerson, heard);
        return void this.moved(T.stillPending(k, row, since, next, s));
      }
    }
  }

  /**
   * The words of a row handed to a person: the step's own; else, while the row still shows the words of an
   * answer about another order (OTHER_ORDER), why it stays unknown; else the skeleton's NEEDS_ATTENTION.
   */
  private saying(row: Row, code?: string): Partial<Row> {
    const words = code ?? (row.error_code === OTHER_ORDER ? OTHER_ORDER_ATTENTION : undefined);
    return words ? T.errorPatch(this.kind, 'needs_attention', words, undefined) : {};
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

  /** Inside a group commit: tell the world after the commit, not before. A listener's failure is logged: the row is stored. */
  protected emit(row: Row): void {
    this.commits.afterCommit(() => {
      try {
        this.publishNow(row);
      } catch (err) {
        this.deps.log?.(`${this.kind.name} ${row.id}: telling of it failed (it is stored): ${(err as Error).message}`);
      }
    });
  }

  /** Rows whose next published version a caller waits for (a fresh send's answer: no read after its commit). */
  private readonly watched = new Map<number, Row | null>();

  protected watchPublished(id: number): void {
    this.watched.set(id, null);
  }

  /** The last version of a watched row published since `watchPublished`, and the watch ends. */
  protected takePublished(id: number): Row | null {
    const row = this.watched.get(id) ?? null;
    this.watched.delete(id);
    return row;
  }

  private publishNow(row: Row): void {
    if (this.watched.has(row.id)) this.watched.set(row.id, row);
    this.kind.publish(row);
    this.signals.queueChanged();
  }
}

/** The calls: a row committed as calling is sent and its answer recorded, whatever fails between; the query. */
export abstract class OperationSteps<Row extends OperationRow> extends StepMachine<Row> {
  /** Another call for a claimed row (a re-send, or the kind's reversal): committed first, then sent. */
  protected async again(row: Row, state: string, patch: Partial<Row>): Promise<void> {
    const s = this.stamp();
    const stored = T.toCalling(this.kind, row, state, patch, s.now + s.leaseMs, s);
    if (!stored) return;
    this.emit(stored);
    const reverse = this.kind.reverse;
    if (reverse && state === reverse.state) return this.call(stored, reverse.call, reverse.interpret);
    return this.call(stored, this.kind.send);
  }

  /** A later call for a row committed in its calling state under our lease (a batch's send, a re-send, the reversal). */
  protected call(row: Row, send: OperationKind<Row>['send'], table = this.kind.interpretSend): Promise<void> {
    return this.callCommitted(row, (signer) => send.call(this.kind, this.deps.client, signer, row), table);
  }

  /**
   * Makes a call for a row committed in its calling state (`sending`, or the kind's reversal) under our lease, and
   * records its answer. Whatever throws before that answer is recorded (the key vault, the store, a bug) is
   * resolved by `lost`, then goes on to the caller. `signer`: a cashier's first send, signed by its request (its
   * crash point was `intent-committed`); else a later call: today's signer, crash point `send-committed`, and the
   * worker woken once the answer is in (its network slot is free while the outcome waits for the group commit).
   */
  protected async callCommitted(row: Row, send: Send, table: Table<Row>, signer?: Signer): Promise<void> {
    const later = signer === undefined;
    let left = false;
    let recorded = false;
    try {
      if (later) this.crashPoint('send-committed');
      const s = signer ?? (await this.deps.provisioning.signerForToday('system'));
      left = true;
      const res = await send(s);
      this.crashPoint('answer-received');
      if (later) this.kick();
      await this.record(row, this.interpret(res, row, table));
      recorded = true;
      this.heard(res, row);
    } catch (err) {
      if (!recorded) this.lost(row, err instanceof Object && crashes.has(err) ? 'crashed' : left ? 'maybe_sent' : 'not_sent', table);
      throw err;
    }
  }

  /**
   * A calling row whose answer was never recorded, left as the worker resolves it at once and correctly: certainly
   * not sent → what the kind's table makes of "not sent" (a revoke or refund queued, a payment failed NOT_SENT, a
   * cancel tried again); may have left → asked about now (T.toAskNow, as a restart would); a crash (the test hook)
   * → only released, as the process that crashed left it. A store that refuses the write now is asked again.
   */
  private lost(row: Row, how: 'not_sent' | 'maybe_sent' | 'crashed', table: Table<Row>, tries = 0): void {
    if (!this.deps.db.open) return;
    const said = (err: unknown) => `${this.kind.name} ${row.id}: ${(err as Error).message}`;
    try {
      const now = this.repo.get(row.id);
      // Recorded or moved on meanwhile (a call it led to resolved itself), or another's: nothing is left to do.
      if (!now || now.state !== row.state || now.attempts !== row.attempts || (now.lease_owner !== null && now.lease_owner !== this.owner)) return;
      if (how === 'crashed') this.repo.release(row.id, this.owner, null);
      else if (how === 'maybe_sent') this.moved(T.toAskNow(this.kind, now, this.stamp()));
      else void this.apply(now, table.call(this.kind, NOT_SENT_HERE, now, this.deps.clock.now()), false, false)?.catch((err) => this.deps.log?.(said(err)));
      this.kick();
    } catch (err) {
      if (tries === 0) this.deps.log?.(`${said(err)}: the call's outcome cannot be stored yet; tried again every ${this.timing.queryEveryMs} ms`);
      setTimeout(() => this.lost(row, how, table, tries + 1), this.timing.queryEveryMs).unref();
    }
  }

  /** The crash-test hook at `point`: what it throws stands for the process dying there (see `lost`). */
  private crashPoint(point: string): void {
    try {
      this.deps.checkpoint?.(point);
    } catch (err) {
      if (err instanceof Object) crashes.add(err);
      throw err;
    }
  }

  /** Asks the gateway about the row: the truth for an uncertain outcome. */
  protected async resolveByQuery(row: Row, byPerson: boolean): Promise<void> {
    // Today's key (checking in first on a new business day): a revoke sent at 23:59:55 is asked about after midnight.
    const res = await this.kind.query(this.deps.client, await this.deps.provisioning.signerForToday('system'), row);
    this.signals.connectivity(res.ok || res.kind !== 'not_sent');
    const queried = { ...row, queries: row.queries + 1 };
    await this.apply(queried, this.interpret(res, queried, this.kind.interpretQuery), byPerson);
    this.heard(res, queried);
  }
}
