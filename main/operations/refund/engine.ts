/**
 * Refunds on the skeleton (../engine.ts): a cashier's request (local checks,
 * then the refund row with its `refund_request_no` written ahead, then the
 * call), a person's "query again", and what callers read. Every re-send uses
 * the same number (the gateway's idempotency key), so a refund never applies
 * twice. No same-day deadline: a queued refund older than the configured
 * maximum age goes to a person (needs_attention).
 */
import type { Accountable } from '../../common/accountable';
import type { Order } from '../../domain';
import { PosError } from '../../errors';
import type { OrderRef } from '../../orders/service';
import { toRefund, type Refund, type RefundRow, type RefundsRepo } from '../../store/refunds';
import { OperationEngine } from '../engine';
import type { OperationDeps } from '../operation';
import { underOrderLock } from '../order-lock';
import { refundRefusal } from './interpret';
import { refundBody, refundKind, type RefundedReceipt } from './kind';
import { recordRequest, refundRefused } from './transitions';

export { newRequestNo, refundRefused } from './transitions';
export type { RefundedReceipt } from './kind';

/** Default maximum age of a queued refund before a person is asked (a week: the refund window is months). */
export const DEFAULT_REFUND_MAX_AGE_MS = 7 * 86_400_000;

export type RefundCrashPoint = 'intent-committed' | 'answer-received' | 'refunded-committed' | 'send-committed';

export interface RefundEngineDeps extends OperationDeps<RefundCrashPoint> {
  /** Longest a queued refund waits for the network before needs_attention. */
  maxAgeMs: () => number;
  receipts?: RefundedReceipt;
}

export class RefundEngine extends OperationEngine<RefundRow> {
  constructor(deps: RefundEngineDeps) {
    super(deps as OperationDeps<string>, refundKind(deps));
  }

  private get refunds(): RefundsRepo {
    return this.repo as RefundsRepo;
  }

  /**
   * A refund of `amount` cents (or the whole refundable amount). Local checks
   * refuse it with a typed error and no gateway call; a second request for
   * the same amount while one is open returns the open one; while another
   * money operation of the order is open, it is refused (OPERATION_OPEN).
   */
  async request(ref: OrderRef, amount: number | 'full', who: Accountable, actor: string): Promise<Refund> {
    const order = await this.askAboutBlocker(await this.deps.orders.findOrImport(ref, actor), (sn) => this.deps.orders.get(sn));
    if (amount !== 'full') {
      const early = refundRefusal(order, amount, 0);
      if (early === 'AMOUNT_INVALID' || early === 'NOT_REFUNDABLE_STATE' || early === 'UNRESOLVED') throw refundRefused(early, { orderSn: order.sn });
    }
    const signer = await this.deps.provisioning.signerForToday(actor);
    const random = this.deps.random ?? Math.random;
    const created = underOrderLock(this.deps.db, order, () =>
      recordRequest(this.refunds, order, () => this.deps.orders.get(order.sn), amount, who, actor, random, this.stamp()),
    );
    if (!created.fresh) return toRefund(created.row);
    const row = await this.sendFresh(created.row, signer, (s) => this.deps.client.refund(s, refundBody(created.row)));
    return toRefund(row);
  }

  /** A person's "query again" on a pending or needs_attention refund. */
  async queryAgain(id: number, actor: string): Promise<Refund> {
    const row = this.repo.get(id);
    if (!row) throw new PosError('REFUND_NOT_FOUND', `找不到退款记录 ${id}。`, `Refund ${id} was not found.`, { refundId: id });
    return toRefund((await this.queryRow(id, actor)) ?? row);
  }

  /** The re-check asks about one row as a person's "query again" would. */
  recheck(id: number): Promise<Refund> {
    return this.queryAgain(id, 'recheck');
  }

  get(id: number): Refund | undefined {
    const r = this.repo.get(id);
    return r && toRefund(r);
  }

  forOrder(sn: string): Refund[] {
    return this.refunds.forOrder(sn).map(toRefund);
  }

  /** What can still be refunded: the net amount less the open refund. */
  refundable(order: Pick<Order, 'sn' | 'netCents' | 'status'>): number {
    const refusal = refundRefusal(order, 1, 0);
    if (refusal === 'NOT_REFUNDABLE_STATE' || refusal === 'UNRESOLVED') return 0;
    return Math.max(0, order.netCents - this.refunds.committedCents(order.sn).open);
  }

  open(): Refund[] {
    return this.repo.open().map(toRefund);
  }

  rowsForReport(day: string): RefundRow[] {
    return this.refunds.forReport(day);
  }
}
