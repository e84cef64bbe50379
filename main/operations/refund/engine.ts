/**
 * Refunds, the second kind of money operation, on the same core as revokes
 * (outbox.ts worker, signals.ts, receipts.ts, leases): a cashier's request,
 * a person's "query again", and how the outbox works a refund row. The
 * refund row with its `refund_request_no` commits before the first send and
 * every re-send uses that number (the gateway's idempotency key), so a
 * refund never applies twice. No same-day deadline: a queued refund older
 * than the configured maximum age goes to a person (needs_attention).
 */
import type { Accountable } from '../../common/accountable';
import { formatCst } from '../../common/time';
import type { Order } from '../../domain';
import { PosError } from '../../errors';
import type { OrderRef } from '../../orders/service';
import { audit } from '../../store/audit';
import { tx } from '../../store/db';
import { heldByOther, newOwnerId, RELEASED } from '../../store/locks';
import { FINAL_REFUND_STATES, RefundsRepo, toRefund, type Refund, type RefundPatch, type RefundRow } from '../../store/refunds';
import type { OrderSnapshot } from '../../upay/result';
import { backoff } from '../outbox';
import { MoneyOperations, type OperationDeps } from '../operation';
import type { ReceiptPort } from '../receipts';
import { DEFAULT_TIMING, type RevokeTiming } from '../revoke/timing';
import type { Stamp } from '../revoke/transitions';
import { interpretRefund, interpretRefundQuery, refundRefusal, type RefundVerdict } from './interpret';
import { refundError, type RefundMessageCode } from './messages';
import { attentionPatch, errorPatch, move, toRefunded } from './transitions';

export type RefundedReceipt = ReceiptPort<{ refund: RefundRow; order: Order }>;

/** Default maximum age of a queued refund before a person is asked (a week: the refund window is months). */
export const DEFAULT_REFUND_MAX_AGE_MS = 7 * 86_400_000;

export type RefundCrashPoint = 'intent-committed' | 'answer-received' | 'refunded-committed' | 'send-committed';

export interface RefundEngineDeps extends OperationDeps<RefundCrashPoint> {
  /** Longest a queued refund waits for the network before needs_attention. */
  maxAgeMs: () => number;
  receipts?: RefundedReceipt;
}

export function refundRefused(code: RefundMessageCode, details: Record<string, unknown> = {}): PosError {
  const e = refundError(code);
  return new PosError(`REFUND_${code}`, e.messageZh, e.messageEn, details);
}

/** `refund_request_no`: String(20), unique per refund; the time of asking (UTC+8) and 8 random digits. */
export function newRequestNo(now: number, random: () => number): string {
  const stamp = formatCst(now).replace(/\D/g, '').slice(2, 14);
  return stamp + String(Math.floor(random() * 1e8)).padStart(8, '0');
}

export class RefundEngine extends MoneyOperations<RefundRow, RefundsRepo> {
  readonly owner = newOwnerId('refund');
  private readonly timing: RevokeTiming;
  private readonly markedForSend = new Set<number>();

  constructor(private readonly deps: RefundEngineDeps) {
    super(deps, 'refund', new RefundsRepo(deps.db));
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
  }

  // ---------- public API ----------

  /**
   * A refund of `amount` cents (or the whole refundable amount). Local checks
   * refuse it with a typed error and no gateway call; a second request for
   * the same amount while one is open returns the open one.
   */
  async request(ref: OrderRef, amount: number | 'full', who: Accountable, actor: string): Promise<Refund> {
    const order = await this.deps.orders.findOrImport(ref, actor);
    if (amount !== 'full') {
      const early = refundRefusal(order, amount, 0);
      if (early === 'AMOUNT_INVALID' || early === 'NOT_REFUNDABLE_STATE' || early === 'UNRESOLVED') throw refundRefused(early, { orderSn: order.sn });
    }
    const signer = await this.deps.provisioning.signerForToday(actor);
    const now = this.deps.clock.now();
    const created = tx(this.deps.db, () => {
      const open = this.repo.openFor(order.sn);
      if (open) {
        if (amount === 'full' || open.amount_cents === amount) return { row: open, fresh: false };
        throw refundRefused('REFUND_OPEN', { orderSn: order.sn, refundId: open.id });
      }
      const current = this.deps.orders.get(order.sn) ?? order;
      const cents = amount === 'full' ? current.netCents : amount;
      const refusal = refundRefusal(current, cents, 0);
      if (refusal) throw refundRefused(refusal, { orderSn: order.sn, refundableCents: current.netCents });
      const row = this.repo.insert({
        order_sn: order.sn,
        client_sn: order.clientSn,
        request_no: newRequestNo(now, this.deps.random ?? Math.random),
        amount_cents: cents,
        net_before_cents: current.netCents,
        state: 'sending',
        operator_id: who.operatorId,
        operator: who.operatorName,
        approver_id: who.approverId,
        approver_name: who.approverName,
        requested_at: now,
        updated_at: now,
        attempts: 1,
        queries: 0,
        next_attempt_at: null,
        pending_since: null,
        refunded_at: null,
        refunded_day: null,
        error_code: null,
        error_zh: null,
        error_en: null,
        gateway_code: null,
        gateway_message: null,
        last_result_code: null,
        lease_owner: this.owner,
        lease_until: now + this.timing.leaseMs,
      });
      audit(this.deps.db, now, actor, 'refund.requested', order.sn, {
        refundId: row.id,
        requestNo: row.request_no,
        amountCents: cents,
        operator: who.operatorName,
        operatorId: who.operatorId,
        approverId: who.approverId,
        approverName: who.approverName,
      });
      return { row, fresh: true };
    });
    if (!created.fresh) return toRefund(created.row);
    const row = created.row;
    this.deps.checkpoint?.('intent-committed');
    this.emit(row);
    this.outbox.take(row.id);
    try {
      const res = await this.deps.client.refund(signer, this.wire(row));
      this.deps.checkpoint?.('answer-received');
      this.record(row, interpretRefund(res));
    } catch (err) {
      this.repo.release(row.id, this.owner, null);
      throw err;
    } finally {
      this.outbox.done(row.id);
      this.kick();
    }
    return toRefund(this.repo.get(row.id)!);
  }

  /** A person's "query again" on a pending, queued-too-long or needs_attention refund. */
  async queryAgain(id: number, actor: string): Promise<Refund> {
    const row = this.repo.get(id);
    if (!row) throw new PosError('REFUND_NOT_FOUND', `找不到退款记录 ${id}。`, `Refund ${id} was not found.`, { refundId: id });
    if (FINAL_REFUND_STATES.includes(row.state) || row.state === 'queued') return toRefund(row);
    const now = this.deps.clock.now();
    const claimed = tx(this.deps.db, () => {
      const r = this.repo.get(id);
      if (!r || FINAL_REFUND_STATES.includes(r.state) || heldByOther(r, this.owner, now)) return undefined;
      this.repo.update(id, { lease_owner: this.owner, lease_until: now + this.timing.leaseMs });
      audit(this.deps.db, now, actor, 'refund.query', r.order_sn, { refundId: id });
      return this.repo.get(id);
    });
    if (!claimed) return toRefund(this.repo.get(id)!);
    this.outbox.take(id);
    try {
      await this.resolveByQuery(claimed, true);
    } finally {
      this.outbox.done(id);
      this.kick();
    }
    return toRefund(this.repo.get(id)!);
  }

  get(id: number): Refund | undefined {
    const r = this.repo.get(id);
    return r && toRefund(r);
  }

  forOrder(sn: string): Refund[] {
    return this.repo.forOrder(sn).map(toRefund);
  }

  /** What can still be refunded: the net amount less the open refund. */
  refundable(order: Pick<Order, 'sn' | 'netCents' | 'status'>): number {
    if (refundRefusal(order, 1, 0) === 'NOT_REFUNDABLE_STATE' || refundRefusal(order, 1, 0) === 'UNRESOLVED') return 0;
    return Math.max(0, order.netCents - this.repo.committedCents(order.sn).open);
  }

  open(): Refund[] {
    return this.repo.open().map(toRefund);
  }

  rowsForReport(day: string): RefundRow[] {
    return this.repo.forReport(day);
  }

  // ---------- the outbox's view of a refund row ----------

  protected giveBack(row: RefundRow): void {
    this.repo.release(row.id, this.owner, this.deps.clock.now() + this.timing.queryEveryMs);
  }

  /** Rows a crashed process left: `sending` may have gone out, so it is resolved by query (never re-sent blindly). */
  protected resume(): void {
    const now = this.deps.clock.now();
    tx(this.deps.db, () => {
      for (const row of this.repo.open()) {
        if (heldByOther(row, this.owner, now)) continue;
        if (row.state === 'sending') this.repo.update(row.id, { state: 'pending', pending_since: now, next_attempt_at: now, ...RELEASED, updated_at: now });
        else if (row.state === 'pending' || row.state === 'queued') this.repo.update(row.id, { next_attempt_at: now, ...RELEASED });
      }
    });
  }

  private wire(row: RefundRow) {
    return { sn: row.order_sn, refund_request_no: row.request_no, refund_amount: String(row.amount_cents), operator: row.operator.slice(0, 64) || 'pos' };
  }

  protected claim(candidates: RefundRow[], max: number, now: number): RefundRow[] {
    const out: RefundRow[] = [];
    tx(this.deps.db, () => {
      for (const c of candidates) {
        if (out.length >= max) break;
        const row = this.repo.get(c.id);
        if (!row || !['queued', 'pending', 'sending'].includes(row.state) || heldByOther(row, this.owner, now)) continue;
        const lease = { lease_owner: this.owner, lease_until: now + this.timing.leaseMs };
        if (row.state === 'queued') {
          // Write-ahead for the batch: committed as `sending` (same request number) before it leaves.
          this.repo.update(row.id, { ...lease, state: 'sending', attempts: row.attempts + 1, next_attempt_at: null, updated_at: now });
          audit(this.deps.db, now, 'system', 'refund.sent', row.order_sn, { refundId: row.id, requestNo: row.request_no });
          this.markedForSend.add(row.id);
        } else {
          this.repo.update(row.id, lease);
        }
        out.push(this.repo.get(row.id)!);
      }
    });
    for (const row of out) if (this.markedForSend.has(row.id)) this.emit(row);
    return out;
  }

  protected unclaim(rows: RefundRow[]): void {
    if (!this.deps.db.open) return;
    tx(this.deps.db, () => {
      for (const row of rows) {
        if (!this.markedForSend.delete(row.id)) {
          this.repo.release(row.id, this.owner, null);
          continue;
        }
        this.repo.update(row.id, { state: 'queued', attempts: row.attempts - 1, ...RELEASED, next_attempt_at: this.deps.clock.now() });
      }
    });
  }

  protected nextWake(): number | null {
    const t = this.repo.nextDue(this.owner);
    const oldest = this.repo.oldestQueuedAt();
    const ageOut = oldest === null ? null : oldest + this.deps.maxAgeMs();
    if (ageOut === null) return t;
    return t === null ? ageOut : Math.min(t, ageOut);
  }

  /** Queued refunds older than the maximum age go to a person: still certainly not applied, but nobody should wonder. */
  protected sweep(now: number): void {
    for (const row of this.repo.tooOld(now - this.deps.maxAgeMs(), this.owner, now)) {
      this.moved(this.move(row, errorPatch('needs_attention', 'TOO_OLD', undefined, { next_attempt_at: null }), 'refund.resolved'));
    }
  }

  protected async work(row: RefundRow): Promise<void> {
    if (this.markedForSend.delete(row.id)) return this.sendMarked(row);
    if (row.state === 'queued') {
      const now = this.deps.clock.now();
      this.moved(this.move(row, { state: 'sending', attempts: row.attempts + 1, next_attempt_at: null, lease_until: now + this.timing.leaseMs }, 'refund.sent'));
      return this.sendMarked({ ...row, attempts: row.attempts + 1, state: 'sending' });
    }
    await this.resolveByQuery(row, false);
  }

  private async sendMarked(row: RefundRow): Promise<void> {
    this.deps.checkpoint?.('send-committed');
    const signer = await this.deps.provisioning.signerForToday('system');
    const res = await this.deps.client.refund(signer, this.wire(row));
    this.deps.checkpoint?.('answer-received');
    this.record(row, interpretRefund(res));
  }

  private record(row: RefundRow, v: RefundVerdict): void {
    const now = this.deps.clock.now();
    switch (v.to) {
      case 'refunded':
        this.signals.connectivity(true);
        return this.refunded(row, v.order, v.resultCode);
      case 'rejected':
        this.signals.connectivity(true);
        return this.moved(
          this.move(row, errorPatch('rejected', v.code, v.gateway, { next_attempt_at: null, last_result_code: v.resultCode ?? row.last_result_code }), 'refund.resolved'),
        );
      case 'pending':
        return this.moved(
          this.move(
            row,
            errorPatch('pending', 'PENDING', v.gateway, {
              pending_since: row.pending_since ?? now,
              next_attempt_at: now + this.timing.firstQueryMs,
              last_result_code: v.resultCode ?? row.last_result_code,
            }),
            null,
          ),
        );
      case 'queued': {
        if (v.reason !== 'illegal_sign' && v.reason !== 'maintenance') this.signals.connectivity(false);
        const retryAt = now + backoff(row.attempts, this.timing.backoffBaseMs, this.timing.backoffCapMs, this.deps.random ?? Math.random);
        return this.moved(this.move(row, errorPatch('queued', v.code ?? 'QUEUED', v.gateway, { next_attempt_at: retryAt }), null));
      }
    }
  }

  /** The order's truth decides whether THIS refund applied. */
  private async resolveByQuery(row: RefundRow, byPerson: boolean): Promise<void> {
    const res = await this.deps.client.query(this.deps.provisioning.signer(), { sn: row.order_sn });
    const now = this.deps.clock.now();
    const verdict = interpretRefundQuery(res, row);
    const queried = { ...row, queries: row.queries + 1 };
    this.signals.connectivity(res.ok || res.kind !== 'not_sent');
    switch (verdict.to) {
      case 'applied':
        return this.refunded(queried, verdict.order, row.last_result_code);
      case 'not_applied': {
        // Safe to send again: the same refund_request_no can never apply twice. Bounded, then a person.
        if (queried.attempts > this.timing.maxResends + 1) return this.moved(this.move(queried, this.attention(queried), 'refund.resolved'));
        this.moved(this.move(queried, { queries: queried.queries, state: 'sending', attempts: queried.attempts + 1, next_attempt_at: null, lease_until: now + this.timing.leaseMs }, 'refund.sent'));
        return this.sendMarked({ ...queried, attempts: queried.attempts + 1, state: 'sending' });
      }
      case 'unknown': {
        const since = row.pending_since ?? now;
        if (byPerson || now - since >= this.timing.pendingWindowMs) return this.moved(this.move(queried, this.attention(queried), 'refund.resolved'));
        return this.moved(this.move(queried, { state: 'pending', queries: queried.queries, pending_since: since, next_attempt_at: now + this.timing.queryEveryMs, ...RELEASED }, null));
      }
    }
  }

  /** One arrow, as this engine's owner, now. */
  private move(row: RefundRow, patch: RefundPatch, action: 'refund.resolved' | 'refund.sent' | null): RefundRow | undefined {
    return move(this.repo, row, patch, this.stamp(), action);
  }

  private attention(row: RefundRow): RefundPatch {
    return attentionPatch(row, this.deps.clock.now());
  }

  private refunded(row: RefundRow, snapshot: OrderSnapshot | null, resultCode: string | null): void {
    const receipts = this.deps.receipts;
    const orders = this.deps.orders;
    const stored = toRefunded(this.repo, row, snapshot, resultCode, this.stamp(), {
      markRefunded: (sn, snap, cents, now) => orders.markRefunded(sn, snap, cents, now),
      ...(receipts ? { queueReceipt: (s, now) => receipts.queue(s, now) } : {}),
    });
    if (!stored) return;
    this.deps.checkpoint?.('refunded-committed');
    this.emit(stored);
    receipts?.wake();
  }

  private stamp(): Stamp {
    return { owner: this.owner, now: this.deps.clock.now() };
  }

  private moved(stored: RefundRow | undefined): void {
    if (stored) this.emit(stored);
  }

  private emit(row: RefundRow): void {
    this.deps.events.emit('refund.updated', toRefund(row));
    this.signals.queueChanged();
  }
}

