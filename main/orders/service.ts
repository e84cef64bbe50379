/**
 * Orders as the runtime sees them: record (the host app's own payment flow),
 * import from the gateway by query, list a business day, search, prune.
 */
import { z } from 'zod';
import { CLIENT_SN_MESSAGE, fitsClientSn, ORDER_SN_MESSAGE, ORDER_SN_PATTERN } from '../common/order-sn';
import type { Order, OrderInput } from '../domain';
import { PosError, invalidInput } from '../errors';
import { audit } from '../store/audit';
import { tx, type Db } from '../store/db';
import { lastChangeSeq, ordersChangedSince } from '../store/order-changes';
import { OrderConflictError, OrdersRepo } from '../store/orders';
import type { Provisioning } from '../terminal/provisioning';
import type { UpayClient } from '../upay/client';
import { explainBusiness, failureToError } from '../upay/explain';
import { parseGatewayTime, paymentOperator, paymentTime } from '../upay/payment-time';
import { refusesKey, type OrderSnapshot } from '../upay/result';
import { parseCents } from '../common/money';
import { businessDay, type Clock } from '../common/time';

export const orderRefSchema = z.union([
  z.object({ sn: z.string().regex(ORDER_SN_PATTERN, ORDER_SN_MESSAGE), clientSn: z.undefined().optional() }).strict(),
  z.object({ clientSn: z.string().min(1).refine(fitsClientSn, CLIENT_SN_MESSAGE), sn: z.undefined().optional() }).strict(),
]);
export type OrderRef = { sn: string; clientSn?: undefined } | { clientSn: string; sn?: undefined };

/** The order a host app records after its own payment. */
export const orderInputSchema = z
  .object({
    sn: z.string().regex(ORDER_SN_PATTERN),
    clientSn: z.string().min(1).refine(fitsClientSn, CLIENT_SN_MESSAGE),
    tradeNo: z.string().max(64).nullable().default(null),
    // total_amount is String(10) on the wire.
    totalCents: z.number().int().positive().max(9_999_999_999),
    netCents: z.number().int().min(0).max(9_999_999_999).optional(),
    payway: z.string().max(8).nullable().default(null),
    paywayName: z.string().max(32).nullable().default(null),
    subject: z.string().max(64).nullable().default(null),
    operator: z.string().max(32).nullable().default(null),
    finishedAt: z.number().int().positive(),
    status: z.string().min(1).max(32).default('PAID'),
  })
  .strict();

/** An order as a gateway's answer describes it: the host app's fields, and the terminal that took the payment. */
const answeredOrderSchema = orderInputSchema.extend({ terminalSn: z.string().min(1).max(32).nullable().default(null) }).strict();

export function checkOrderRef(ref: unknown): OrderRef {
  const r = orderRefSchema.safeParse(ref);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw invalidInput(String(issue?.path[0] ?? 'sn'), 'give exactly one of sn (1-16 digits) or client_sn (at most 32 bytes)', '请提供订单号 sn（1-16 位数字）或商户订单号 client_sn（不超过 32 字节，一个汉字占 3 字节）之一');
  }
  return r.data as OrderRef;
}

/**
 * The order a gateway snapshot describes. Its payment time (and so its
 * business day) and its cashier come from the payment, not from
 * `finish_time`/`operator`, which describe the last action (see
 * ../upay/payment-time.ts); what this counter recorded at payment, when
 * given as `known`, wins over both.
 */
export function orderFromSnapshot(s: OrderSnapshot, now: number, known?: Order): OrderInput | undefined {
  const total = parseCents(s.totalAmount);
  if (!s.sn || !s.clientSn || total === undefined || !s.orderStatus) return undefined;
  // Last resort without a payment time: the last action's time (never earlier than the payment), then now.
  const finished = known?.finishedAt ?? paymentTime(s) ?? parseGatewayTime(s.finishTime) ?? now;
  return {
    sn: s.sn,
    clientSn: s.clientSn,
    tradeNo: s.tradeNo,
    totalCents: total,
    netCents: parseCents(s.netAmount) ?? total,
    payway: s.payway,
    paywayName: s.paywayName,
    subject: s.subject,
    operator: known?.operator ?? paymentOperator(s),
    finishedAt: Number.isSafeInteger(finished) && finished > 0 ? finished : now,
    status: s.orderStatus,
    // The terminal that took the payment; the store keeps the first one known (store/orders.ts `upsert`).
    terminalSn: s.terminalSn || null,
  };
}

export const orderNotFound = (ref: OrderRef) =>
  new PosError('ORDER_NOT_FOUND', `找不到订单 ${ref.sn ?? ref.clientSn}。请核对订单号。`, `Order ${ref.sn ?? ref.clientSn} was not found. Check the number.`, {
    ...ref,
  });

/**
 * Why a query's answer must not be recorded for the order asked about, or undefined when it may: a broken
 * or hostile gateway may answer with another order. (An order of another till of the merchant imports: a
 * till may void or refund an order paid at another, docs/cli.md "orders import".)
 */
export function notAsked(s: OrderSnapshot, ref: OrderRef, resultCode: string): PosError | undefined {
  const same = ref.sn !== undefined ? s.sn === ref.sn : s.clientSn === ref.clientSn;
  if (same) return undefined;
  const field = ref.sn !== undefined ? 'sn' : 'client_sn';
  const asked = ref.sn ?? ref.clientSn;
  return new PosError(
    'GATEWAY_UNCERTAIN',
    `收钱吧返回的订单（${field}）与查询的订单 ${asked} 不符，未保存。`,
    `The order Upay returned (${field}) is not the order ${asked} that was asked about; nothing was stored.`,
    { resultCode, field, ...ref },
  );
}

export class OrderService {
  private readonly repo: OrdersRepo;

  constructor(
    private readonly deps: {
      db: Db;
      client: UpayClient;
      provisioning: Provisioning;
      clock: Clock;
      /**
       * Every order an import recorded, as the gateway answered it, once stored: offered to the money-operation
       * kinds as an answer one of them heard is (runtime.ts), so what it shows settles what is open on the order.
       */
      imported?(snapshot: OrderSnapshot): void;
    },
  ) {
    this.repo = new OrdersRepo(deps.db);
  }

  /** Records an order paid through the host app's own flow: this terminal's sale. */
  record(input: unknown, actor = 'host'): Order {
    const r = orderInputSchema.safeParse(input);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw invalidInput(String(issue?.path.join('.') ?? 'order'), issue?.message ?? 'invalid order');
    }
    const o = r.data;
    const now = this.deps.clock.now();
    try {
      return tx(this.deps.db, () => {
        const terminalSn = this.deps.provisioning.info()?.terminalSn ?? null;
        const saved = this.repo.upsert({ ...o, netCents: o.netCents ?? o.totalCents, terminalSn }, now);
        audit(this.deps.db, now, actor, 'order.recorded', o.sn, { clientSn: o.clientSn, totalCents: o.totalCents });
        return saved;
      });
    } catch (err) {
      if (err instanceof OrderConflictError) throw invalidInput('clientSn', err.message, `商户订单号 ${o.clientSn} 已属于另一笔订单`);
      throw err;
    }
  }

  /** Asks the gateway for the order (the truth) and stores it. */
  async import(ref: OrderRef, actor: string): Promise<Order> {
    const signer = await this.deps.provisioning.signerForToday(actor);
    const res = await this.deps.client.query(signer, ref.sn !== undefined ? { sn: ref.sn } : { client_sn: ref.clientSn });
    if (!res.ok) {
      // A refused signature: the next call checks in first (a key the gateway dated to yesterday).
      if (refusesKey(res)) this.deps.provisioning.keyRefused(signer);
      throw failureToError(res);
    }
    const v = res.value;
    if (v.resultCode !== 'SUCCESS' || !v.order) {
      if (v.errorCode === 'UPAY_ORDER_NOT_EXISTS' || v.errorCode === 'UPAY_ORDER_NOT_EXIST') throw orderNotFound(ref);
      const ours = explainBusiness(v.resultCode, v.errorCode);
      const code = v.errorCode ?? v.resultCode;
      throw new PosError('GATEWAY_REFUSED', `收钱吧查询失败：${ours?.zh ?? code}（${v.errorMessage ?? code}）`, `Upay query failed: ${ours?.en ?? code} (${code})`, {
        gatewayCode: v.errorCode,
        gatewayMessage: v.errorMessage,
        resultCode: v.resultCode,
      });
    }
    // Only the order asked about is recorded (see `notAsked`).
    const refused = notAsked(v.order, ref, v.resultCode);
    if (refused) throw refused;
    const now = this.deps.clock.now();
    const snapshot = orderFromSnapshot(v.order, now, v.order.sn ? this.repo.get(v.order.sn) : undefined);
    if (!snapshot) {
      throw new PosError('GATEWAY_UNCERTAIN', '收钱吧返回的订单信息不完整。', 'The order Upay returned is incomplete.', { resultCode: v.resultCode });
    }
    // The gateway's word passes the same check as an order the host app records: nothing out of bounds is stored.
    const checked = answeredOrderSchema.safeParse(snapshot);
    if (!checked.success) {
      const field = checked.error.issues[0]?.path.join('.') || 'order';
      throw new PosError('GATEWAY_UNCERTAIN', `收钱吧返回的订单信息无效（${field}），未保存。`, `The order Upay returned is invalid (${field}); nothing was stored.`, {
        resultCode: v.resultCode,
        field,
      });
    }
    const input = { ...checked.data, netCents: checked.data.netCents ?? checked.data.totalCents };
    const saved = tx(this.deps.db, () => {
      const stored = this.repo.upsert(input, now);
      audit(this.deps.db, now, actor, 'order.imported', input.sn, { clientSn: input.clientSn, status: input.status, terminalSn: stored.terminalSn ?? null });
      return stored;
    });
    // After the commit: the order as the gateway shows it settles what is open on it (a revoke it shows done).
    this.deps.imported?.(v.order);
    return this.repo.get(saved.sn) ?? saved;
  }

  /** The local order, or the gateway's when it is unknown here. */
  async findOrImport(ref: OrderRef, actor: string): Promise<Order> {
    return this.repo.find(ref) ?? (await this.import(ref, actor));
  }

  /** The order as the last revoke left it: canceled, with what the gateway's answer adds. Call inside that transaction. */
  markCanceled(sn: string, snapshot: OrderSnapshot | null, now: number): Order | undefined {
    return this.repo.markCanceled(sn, snapshot, now);
  }

  /**
   * The order as a refund of `amountCents` left it: the gateway's net amount and status when its answer
   * carries a final one, else the local net less the refund. Call inside the transaction that records it.
   */
  markRefunded(sn: string, snapshot: OrderSnapshot | null, amountCents: number, now: number): Order | undefined {
    const order = this.repo.get(sn);
    if (!order) return undefined;
    const net = parseCents(snapshot?.netAmount);
    const status = snapshot?.orderStatus;
    if (net !== undefined && (status === 'REFUNDED' || status === 'PARTIAL_REFUNDED')) return this.repo.markRefunded(sn, net, status, now);
    const left = Math.max(0, order.netCents - amountCents);
    return this.repo.markRefunded(sn, left, left === 0 ? 'REFUNDED' : 'PARTIAL_REFUNDED', now);
  }

  /** Updates a known order from a query's answer; its finish time (and so its day) never moves. */
  refreshFromSnapshot(snapshot: OrderSnapshot, now: number): void {
    const input = orderFromSnapshot(snapshot, now);
    if (!input) return;
    tx(this.deps.db, () => {
      const existing = this.repo.get(input.sn);
      if (existing) this.repo.upsert({ ...input, finishedAt: existing.finishedAt }, now);
    });
  }

  get(sn: string): Order | undefined {
    return this.repo.get(sn);
  }

  /** The local order for a reference (no gateway call). */
  find(ref: OrderRef): Order | undefined {
    return this.repo.find(ref);
  }

  /** How many orders are kept. */
  count(): number {
    return this.repo.count();
  }

  bySns(sns: readonly string[]): Order[] {
    return this.repo.bySns(sns);
  }

  /** Orders by the start of their sn or client_sn, or by amount; a day's or all kept. */
  search(q: { text?: string | undefined; amountCents?: number | undefined; day?: string | undefined; limit?: number | undefined }): Order[] {
    return this.repo.search(q);
  }

  /** The order change log's position now (every process's writes). */
  changeSeq(): number {
    return lastChangeSeq(this.deps.db);
  }

  /** Orders changed after `seq` (null: more than `limit`, read everything again). */
  changedSince(seq: number, limit: number): { sns: string[]; lastSeq: number } | null {
    return ordersChangedSince(this.deps.db, seq, limit);
  }

  listDay(day?: string): Order[] {
    return this.repo.listDay(day ?? businessDay(this.deps.clock.now()));
  }

  prune(retentionDays: number): number {
    const now = this.deps.clock.now();
    return tx(this.deps.db, () => {
      const n = this.repo.prune(now, retentionDays);
      if (n > 0) audit(this.deps.db, now, 'system', 'orders.pruned', null, { count: n, retentionDays });
      return n;
    });
  }
}
