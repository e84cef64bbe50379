/**
 * Payments on the skeleton (../engine.ts): barcode `pay` (B scans C) and QR
 * `precreate` (C scans B). The request checks its input (nothing stored or
 * sent when invalid), commits the attempt as `sending` with its own
 * client_sn, and sends it once; the skeleton resolves an uncertain answer by
 * query by client_sn on the kind's schedule (kind.ts) and, when the window
 * ends with the order still open, runs the reversal (cancel / 冲正 by the same
 * client_sn) until the order is final. A payment is never queued and never
 * sent twice: the only call ever made again is the cancel.
 */
import type { Accountable } from '../../common/accountable';
import { PosError } from '../../errors';
import { tx } from '../../store/db';
import { toPayment, type Payment, type PaymentRow, type PaymentsRepo } from '../../store/payments';
import { OperationEngine } from '../engine';
import type { OperationDeps } from '../operation';
import { underOrderLock } from '../order-lock';
import { DEFAULT_TIMING } from '../timing';
import { duplicateAmount, tooManyOpen } from './messages';
import { dayOf, payKind, type PaymentReceipts } from './kind';
import { checkPaymentInput, gatewayOperator, newClientSn, type PaymentInput } from './request';
import { DEFAULT_PAY_TIMING, type PayTiming } from './timing';

export type PayCrashPoint = 'intent-committed' | 'send-committed' | 'answer-received' | 'paid-committed' | 'canceled-committed';
export type { PaymentReceipts } from './kind';

export interface PaymentEngineDeps extends OperationDeps<PayCrashPoint> {
  payTiming?: Partial<PayTiming>;
  /** How long a QR waits for the customer (the setting qrLifetimeSeconds). */
  qrLifetimeMs: () => number;
  receipts?: PaymentReceipts;
}

/** The counter's rule on a second charge of an amount already open (the CLI, store IT's, leaves it off). */
export interface SameAmountRule {
  /** An open payment of the same amount refuses the request (PAYMENT_SAME_AMOUNT_OPEN, naming it) ... */
  refuseSameAmountOpen?: boolean;
  /** ... unless it is this one, and the only one: the open payment the cashier's confirmation showed. */
  confirmedDuplicateOf?: number | undefined;
}

export class PaymentEngine extends OperationEngine<PaymentRow> {
  readonly payTiming: PayTiming;
  private readonly payments: PaymentsRepo;

  constructor(deps: PaymentEngineDeps) {
    const payTiming = { ...DEFAULT_PAY_TIMING, ...deps.payTiming };
    const kind = payKind({
      db: deps.db,
      events: deps.events,
      timing: payTiming,
      ...(deps.receipts ? { receipts: deps.receipts } : {}),
    });
    // The skeleton's lease covers a pay call plus a query; its other clocks are the kind's (payTiming).
    super({ ...deps, timing: { ...DEFAULT_TIMING, ...deps.timing, leaseMs: payTiming.leaseMs } } as OperationDeps<string>, kind);
    this.payTiming = payTiming;
    this.payments = kind.repo;
  }

  /**
   * Takes a payment: checks the input (INVALID_INPUT, nothing stored or sent), commits the attempt as
   * `sending` with its own client_sn, sends it once and records the answer. Returns after that first
   * answer: paid, failed, or pending (the worker queries, and cancels at the end of the window).
   * Refused first (`refusal`), inside the write-ahead insert's IMMEDIATE transaction, so neither a burst
   * nor a second process can slip between the check and the row: the counter's cap on open payments, and
   * (the counter: `refuseSameAmountOpen`) an open payment of the same amount the cashier's confirmation
   * did not name.
   */
  async request(raw: PaymentInput, who: Accountable, actor: string, rule: SameAmountRule = {}): Promise<Payment> {
    const input = checkPaymentInput(raw);
    const signer = await this.deps.provisioning.signerForToday(actor);
    const now = this.deps.clock.now();
    const window = input.method === 'barcode' ? this.payTiming.payWindowMs : (this.payTiming.qrLifetimeMs ?? (this.deps as PaymentEngineDeps).qrLifetimeMs());
    const clientSn = input.clientSn ?? newClientSn(now);
    const row = underOrderLock(this.deps.db, { clientSn, sn: null }, () =>
      tx(this.deps.db, () => {
        const refused = this.refusal(input.amountCents, rule);
        if (refused) throw refused;
        return this.payments.insertSending(
          {
            client_sn: clientSn,
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
            requested_day: dayOf(now),
          },
          this.owner,
          now + this.payTiming.leaseMs,
        );
      }),
    );
    const base = { client_sn: row.client_sn, total_amount: String(row.amount_cents), subject: row.subject, operator: gatewayOperator(input.operator ?? who.operatorName) };
    // The answer's facts (the order sn, the QR) are kept by the kind once the skeleton has found the answer to be
    // about this payment (kind.keep); a success writes them in its own transaction, so the hot path stays at two commits.
    const stored = await this.sendFresh(row, signer, async (s) => {
      const res =
        input.method === 'barcode'
          ? await this.deps.client.pay(s, { ...base, dynamic_id: input.barcode!, ...(input.payway ? { payway: input.payway } : {}) })
          : await this.deps.client.precreate(s, { ...base, payway: input.payway! });
      this.signals.connectivity(res.ok || res.kind !== 'not_sent');
      return res;
    });
    // As stored after the outcome's commit (sendFresh reads it back): no second read.
    return toPayment(stored);
  }

  /** Crash point `canceled-committed`: right after the commit that records a payment canceled, before it is published. */
  protected override moved(stored: PaymentRow | undefined): void {
    if (stored?.state !== 'canceled') return super.moved(stored);
    this.commits.afterCommit(() => {
      this.deps.checkpoint?.('canceled-committed');
      super.moved(stored);
    });
  }

  /** A person's "query again" (and `upay-pos pay query`): asked now, as the worker would. */
  async queryAgain(id: number, actor: string): Promise<Payment> {
    const row = this.repo.get(id);
    if (!row) throw new PosError('PAYMENT_NOT_FOUND', `找不到收款记录 ${id}。`, `Payment ${id} was not found.`, { id });
    return toPayment((await this.queryRow(id, actor)) ?? row);
  }

  /** The re-check asks about a needs_attention payment (and so drives its reversal on). */
  recheck(id: number): Promise<Payment> {
    return this.queryAgain(id, 'recheck');
  }

  get(id: number): Payment | undefined {
    const r = this.repo.get(id);
    return r && toPayment(r);
  }

  byClientSn(clientSn: string): Payment | undefined {
    const r = this.payments.byClientSn(clientSn);
    return r && toPayment(r);
  }

  open(): Payment[] {
    return this.repo.open().map(toPayment);
  }

  /**
   * Why a new payment of `amountCents` may not start now, or undefined. With `refuseSameAmountOpen`: an open
   * payment of that amount other than the one the cashier's confirmation named (`confirmedDuplicateOf`: the one
   * the dialog showed), named in the refusal (the newest such), so one confirmation starts one payment and a
   * payment of that amount opened after the dialog appeared is refused by name. Then the counter's cap on open
   * payments (`maxOpen`, every window and process). A read: `request` runs it inside its insert's transaction.
   */
  refusal(amountCents: number, rule: SameAmountRule = {}): PosError | undefined {
    if (rule.refuseSameAmountOpen) {
      const others = this.payments.openWithAmount(amountCents).filter((p) => p.id !== rule.confirmedDuplicateOf);
      if (others.length > 0) return duplicateAmount(others[others.length - 1]!);
    }
    const open = this.payments.openCount();
    return open >= this.payTiming.maxOpen ? tooManyOpen(open, this.payTiming.maxOpen) : undefined;
  }

  forDay(day: string): Payment[] {
    return this.payments.forDay(day).map(toPayment);
  }

  /** A drain: every polled payment is asked about now, and every needs_attention one is re-checked (its reversal goes on). */
  async wakeAll(): Promise<void> {
    this.wakePending(this.deps.clock.now());
    for (const id of this.unresolved()) await this.recheck(id).catch(() => undefined);
  }
}
