/**
 * Payments, the third kind of money operation: barcode `pay` (B scans C) and
 * QR `precreate` (C scans B). The attempt's client_sn is committed before
 * the first send; an uncertain answer is resolved by query by client_sn on
 * the method's schedule (timing.ts); a payment still open when its window
 * ends is canceled (冲正) by the same client_sn, and the reversal is driven
 * durably (query, cancel again) until the order is final. A payment is never
 * queued and never sent twice: the only thing ever sent again is the cancel.
 */
import type { Accountable } from '../../common/accountable';
import { PosError } from '../../errors';
import { newOwnerId } from '../../store/locks';
import { FINAL_PAYMENT_STATES, PaymentsRepo, toPayment, type Payment, type PaymentRow } from '../../store/payments';
import { MoneyOperations, type OperationDeps } from '../operation';
import { interpretCancel, interpretQuery, interpretSend, type PayVerdict } from './interpret';
import { checkPaymentInput, gatewayOperator, newClientSn, type PaymentInput } from './request';
import { DEFAULT_PAY_TIMING, nextCancel, nextPoll, type PayTiming } from './timing';
import * as T from './transitions';

export type PayCrashPoint = 'intent-committed' | 'answer-received' | 'cancel-sent' | 'recorded';

export interface PaymentEngineDeps extends Omit<OperationDeps<PayCrashPoint>, 'timing'> {
  payTiming?: Partial<PayTiming>;
  /** How long a QR waits for the customer (the setting qrLifetimeSeconds). */
  qrLifetimeMs: () => number;
  receipts?: T.PaymentReceipts;
}

export class PaymentEngine extends MoneyOperations<PaymentRow, PaymentsRepo> {
  readonly owner = newOwnerId('payment');
  readonly timing: PayTiming;

  constructor(private readonly deps: PaymentEngineDeps) {
    super(deps, 'payment', new PaymentsRepo(deps.db));
    this.timing = { ...DEFAULT_PAY_TIMING, ...deps.payTiming };
  }

  /**
   * Takes a payment: checks the input (INVALID_INPUT, nothing stored or sent), commits the attempt as
   * `sending` with its own client_sn, sends it once, and records the answer. Returns after that first answer:
   * paid, failed, or pending (then the worker queries, and cancels at the end of the window).
   */
  async request(raw: PaymentInput, who: Accountable, actor: string): Promise<Payment> {
    const input = checkPaymentInput(raw);
    const signer = await this.deps.provisioning.signerForToday(actor);
    const now = this.deps.clock.now();
    const window = input.method === 'barcode' ? this.timing.payWindowMs : (this.timing.qrLifetimeMs ?? this.deps.qrLifetimeMs());
    const row = this.repo.insertSending(
      {
        client_sn: newClientSn(now),
        method: input.method,
        amount_cents: input.amountCents,
        payway: input.payway ?? null,
        subject: input.subject,
        window_until: now + window,
        operator_id: who.operatorId,
        operator: who.operatorName,
        approver_id: who.approverId,
        approver_name: who.approverName,
        requested_at: now,
        requested_day: T.dayOf(now),
      },
      this.owner,
      now + this.timing.leaseMs,
    );
    this.deps.checkpoint?.('intent-committed');
    this.emit(row);
    this.outbox.take(row.id);
    try {
      const base = { client_sn: row.client_sn, total_amount: String(row.amount_cents), subject: row.subject, operator: gatewayOperator(input.operator ?? who.operatorName) };
      const res =
        input.method === 'barcode'
          ? await this.deps.client.pay(signer, { ...base, dynamic_id: input.barcode!, ...(input.payway ? { payway: input.payway } : {}) })
          : await this.deps.client.precreate(signer, { ...base, payway: input.payway! });
      this.deps.checkpoint?.('answer-received');
      const v = interpretSend(res);
      this.signals.connectivity(res.ok || res.kind !== 'not_sent');
      // A QR goes to the customer; anything else uncertain is asked about at once (the vendor's flow).
      const first = v.to === 'open' && v.qrCode ? nextPoll(row, this.deps.clock.now(), this.timing) : this.deps.clock.now();
      this.settle(row, v, first);
    } finally {
      this.outbox.done(row.id);
      this.kick();
    }
    return toPayment(this.repo.get(row.id)!);
  }

  /** A person's "query again" (and `upay-pos pay query`): the row is worked now, as the worker would. */
  async queryAgain(id: number, actor: string): Promise<Payment> {
    const row = this.repo.get(id);
    if (!row) throw new PosError('PAYMENT_NOT_FOUND', `找不到收款记录 ${id}。`, `Payment ${id} was not found.`, { id });
    if (FINAL_PAYMENT_STATES.includes(row.state)) return toPayment(row);
    const now = this.deps.clock.now();
    const claimed = this.repo.claim(id, this.owner, now, now + this.timing.leaseMs);
    if (!claimed) return toPayment(this.repo.get(id)!);
    this.deps.log?.(`payment ${id}: queried by ${actor}`);
    this.outbox.take(id);
    try {
      await this.drive(claimed);
    } finally {
      this.outbox.done(id);
      this.kick();
    }
    return toPayment(this.repo.get(id)!);
  }

  get(id: number): Payment | undefined {
    const r = this.repo.get(id);
    return r && toPayment(r);
  }

  byClientSn(clientSn: string): Payment | undefined {
    const r = this.repo.byClientSn(clientSn);
    return r && toPayment(r);
  }

  open(): Payment[] {
    return this.repo.open().map(toPayment);
  }

  /** Open payments of this amount: the counter asks for a confirmation before charging it again. */
  openWithAmount(amountCents: number): Payment[] {
    return this.repo.openWithAmount(amountCents).map(toPayment);
  }

  forDay(day: string): Payment[] {
    return this.repo.forDay(day).map(toPayment);
  }

  /** Every open payment is asked about now (connectivity back, a drain). */
  wakeAll(): void {
    this.repo.dueOpenNow(this.deps.clock.now());
    this.kick();
  }

  // ---------- the outbox's view of a payment row ----------

  protected sweep(): void {}

  protected claim(candidates: PaymentRow[], max: number, now: number): PaymentRow[] {
    const out: PaymentRow[] = [];
    for (const c of candidates) {
      if (out.length >= max) break;
      const r = this.repo.claim(c.id, this.owner, now, now + this.timing.leaseMs);
      if (r) out.push(r);
    }
    return out;
  }

  protected work(row: PaymentRow): Promise<void> {
    return this.drive(row);
  }

  protected giveBack(row: PaymentRow): void {
    this.repo.release(row.id, this.owner, this.deps.clock.now() + this.timing.payQueryEveryMs);
  }

  protected unclaim(rows: PaymentRow[]): void {
    if (!this.deps.db.open) return;
    for (const r of rows) this.repo.release(r.id, this.owner, null);
  }

  protected nextWake(): number | null {
    return this.repo.nextDue();
  }

  protected resume(): void {
    T.resumeAfterCrash(this.repo, { owner: this.owner, now: this.deps.clock.now() });
  }

  // ---------- the flow ----------

  /** Query first (the truth); then, when the window is over or the order cannot become PAID, cancel. */
  private async drive(row: PaymentRow): Promise<void> {
    const res = await this.deps.client.query(this.deps.provisioning.signer(), { client_sn: row.client_sn });
    this.signals.connectivity(res.ok || res.kind !== 'not_sent');
    const v = interpretQuery(res);
    const queried = { ...row, queries: row.queries + 1, ...(v.to === 'open' && v.order?.orderStatus ? { order_status: v.order.orderStatus } : {}) };
    const now = this.deps.clock.now();
    if (v.to !== 'open') return this.settle(queried, v, now);
    const reversing = row.state === 'canceling' || row.state === 'needs_attention';
    if (!reversing && !v.cancelNow && now < row.window_until) return this.settle(queried, v, nextPoll(row, now, this.timing));
    if (v.wait) return this.settle({ ...queried, state: reversing ? row.state : 'canceling' }, v, now + nextCancel(1, this.timing));
    await this.cancel({ ...queried, state: reversing ? row.state : 'canceling' });
  }

  private async cancel(row: PaymentRow): Promise<void> {
    this.deps.checkpoint?.('cancel-sent');
    const res = await this.deps.client.cancel(this.deps.provisioning.signer(), { client_sn: row.client_sn });
    this.signals.connectivity(res.ok || res.kind !== 'not_sent');
    const v = interpretCancel(res, row.order_status === 'PAID');
    const cancels = row.cancels + 1;
    this.settle({ ...row, cancels }, v, this.deps.clock.now() + (cancels >= this.timing.maxCancels ? this.timing.attentionEveryMs : nextCancel(cancels, this.timing)));
  }

  /** Records a verdict; an open one keeps the row's state (sending becomes pending; canceling past its tries, needs_attention). */
  private settle(row: PaymentRow, v: PayVerdict, nextAt: number): void {
    const s = { owner: this.owner, now: this.deps.clock.now() };
    let stored: PaymentRow | undefined;
    if (v.to === 'paid') stored = T.toPaid(this.repo, row, v, s, this.deps.receipts);
    else if (v.to === 'failed') stored = T.toFailed(this.repo, row, v, s);
    else if (v.to === 'canceled') stored = T.toCanceled(this.repo, row, v, s, this.deps.receipts);
    else {
      const reversing = row.state === 'canceling' || row.state === 'needs_attention';
      const state = !reversing ? 'pending' : row.cancels >= this.timing.maxCancels ? 'needs_attention' : (row.state as 'canceling' | 'needs_attention');
      stored = T.stillOpen(this.repo, row, v, state, nextAt, s);
    }
    if (!stored) return;
    this.deps.checkpoint?.('recorded');
    if (v.to === 'paid' || v.to === 'canceled') this.deps.receipts?.wake();
    this.emit(stored);
  }

  private emit(row: PaymentRow): void {
    this.deps.events.emit('payment.updated', toPayment(row));
    this.signals.queueChanged();
  }
}
