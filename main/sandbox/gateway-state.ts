/**
 * The sandbox Upay gateway's business state: terminals, keys, activation
 * codes, orders, and the rules of each endpoint (activate, check-in, pay,
 * query, revoke/cancel, refund). No I/O: `gateway.ts` owns HTTP, signatures,
 * faults and the request log, and calls in here with an already authenticated
 * request. Every answer is a ready-to-send protocol envelope plus a note of
 * whether state changed, so the transport can decide what to do with it.
 */
import { randomBytes } from 'node:crypto';
import { businessDay, type Clock } from '../common/time';
import { mulberry32 } from '../util/prng';

// ---------------------------------------------------------------------------
// Public data shapes

/** A terminal as the sandbox knows it (keys included: this is the gateway side). */
export interface SandboxTerminal {
  terminalSn: string;
  /** The current key. */
  terminalKey: string;
  /** The key before the last rotation; still accepted. Null right after activation. */
  previousKey: string | null;
  deviceId: string;
  merchantSn: string;
  merchantName: string;
  storeSn: string;
  storeName: string;
  activatedAt: number;
  /** Number of successful check-ins (key rotations). */
  checkins: number;
}

/** A snapshot of a sandbox order (copies: mutating it does not change the gateway). */
export interface SandboxOrder {
  sn: string;
  clientSn: string;
  terminalSn: string;
  tradeNo: string;
  /** Transaction status (`SUCCESS`, `FAIL_CANCELED`, ...). */
  status: string;
  orderStatus: string;
  payway: string;
  paywayName: string;
  subPayway: string;
  totalCents: number;
  netCents: number;
  refundedCents: number;
  subject: string;
  operator: string;
  dynamicId: string;
  /** Unix ms the payment finished; decides the business day of a revoke. */
  finishTime: number;
  /** Took part in a promotion: revoke/cancel answers CANCEL_ERROR. */
  promotion: boolean;
  /** Unix ms of the void, when voided. */
  canceledAt: number | null;
  /** Queries still answering CANCEL_INPROGRESS before the order turns CANCELED. */
  pendingCancelQueries: number | null;
  refunds: SandboxRefund[];
}

export interface SandboxRefund {
  refundRequestNo: string;
  refundCents: number;
  operator: string;
  at: number;
}

export interface SeedOrderInput {
  terminalSn: string;
  clientSn?: string;
  totalCents: number;
  /** Default: clock.now(). */
  finishedAt?: number;
  promotion?: boolean;
  /** order_status; default PAID. REFUNDED/PARTIAL_REFUNDED derive net/refunded amounts. */
  status?: string;
  /** For PARTIAL_REFUNDED (default 1 cent) and REFUNDED (default the total). */
  refundedCents?: number;
  payway?: string;
  paywayName?: string;
  subject?: string;
  operator?: string;
}

// ---------------------------------------------------------------------------
// Wire shapes

export type Biz = Record<string, unknown>;

export type Envelope =
  | { result_code: '200'; biz_response: Biz }
  | { result_code: '400' | '500'; error_code: string; error_message: string };

/** What one handled request did. */
export interface Outcome {
  envelope: Envelope;
  /** A state change was applied (terminal created, key rotated, order created/voided/refunded). */
  effect: boolean;
  /** The order or terminal the request was about, for the log and the effect ledger. */
  sn?: string;
  clientSn?: string;
  terminalSn?: string;
}

/** Faults that change the business answer of revoke/cancel rather than the transport. */
export type VoidFault =
  | { kind: 'cancel_in_progress'; queries: number }
  | { kind: 'cancel_error_no_code'; outcome: 'canceled' | 'untouched' };

export const PAYWAY_NAMES: Readonly<Record<string, string>> = {
  '1': '支付宝',
  '2': '支付宝',
  '3': '微信',
  '17': '银联云闪付',
};

export const SANDBOX_MERCHANT = {
  merchantSn: '1680001234567',
  merchantName: '收钱吧沙箱商户',
  storeSn: '1580001234567',
  storeName: '沙箱一号店',
} as const;

export const MAX_DEVICE_ID = 128;
export const MAX_CLIENT_SN = 32;

export function topError(resultCode: '400' | '500', errorCode: string, errorMessage: string): Envelope {
  return { result_code: resultCode, error_code: errorCode, error_message: errorMessage };
}

export function invalidParams(message: string): Outcome {
  return { envelope: topError('400', 'INVALID_PARAMS', `参数错误: ${message}`), effect: false };
}

function ok(biz: Biz): Envelope {
  return { result_code: '200', biz_response: biz };
}

function bizFail(resultCode: string, errorCode: string, errorMessage: string, extra: Biz = {}): Envelope {
  return ok({ result_code: resultCode, error_code: errorCode, error_message: errorMessage, ...extra });
}

export interface StateOptions {
  clock: Clock;
  appId: string;
  activationCodes: string[];
  seed?: number;
  revokeShape: 'data' | 'flat';
}

/** Request bodies reach the handlers as validated string maps. */
export type Fields = Record<string, string>;

export class SandboxState {
  private readonly terminalsBySn = new Map<string, SandboxTerminal>();
  private readonly ordersBySn = new Map<string, SandboxOrder>();
  /** Client order numbers are unique per merchant; the sandbox has one merchant. */
  private readonly snByClientSn = new Map<string, string>();
  /** Code -> used. */
  private readonly codes = new Map<string, boolean>();
  private readonly rand: () => number;
  private readonly seeded: boolean;
  private clientSnCounter = 0;

  constructor(private readonly opts: StateOptions) {
    this.seeded = opts.seed !== undefined;
    this.rand = mulberry32(opts.seed ?? randomBytes(4).readUInt32LE(0));
    for (const code of opts.activationCodes) this.codes.set(code, false);
  }

  // ---- identifiers -------------------------------------------------------

  private digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(this.rand() * 10).toString();
    return s;
  }

  /** Keys are secrets: truly random unless the caller asked for a reproducible sandbox. */
  private newKey(): string {
    if (!this.seeded) return randomBytes(16).toString('hex');
    let s = '';
    for (let i = 0; i < 32; i++) s += Math.floor(this.rand() * 16).toString(16);
    return s;
  }

  private newTerminalSn(): string {
    for (;;) {
      const sn = `100${this.digits(11)}`;
      if (!this.terminalsBySn.has(sn)) return sn;
    }
  }

  private newOrderSn(): string {
    for (;;) {
      const sn = `789${this.digits(13)}`;
      if (!this.ordersBySn.has(sn)) return sn;
    }
  }

  private newTradeNo(payway: string, at: number): string {
    const day = businessDay(at).replace(/-/g, '');
    if (payway === '3') return `4200${this.digits(24)}`;
    if (payway === '1' || payway === '2') return `${day}22001${this.digits(15)}`;
    return `${day}${this.digits(20)}`;
  }

  // ---- activation codes --------------------------------------------------

  unusedCodes(): string[] {
    return [...this.codes].filter(([, used]) => !used).map(([code]) => code);
  }

  addCode(code?: string): string {
    let c = code;
    if (c === undefined) {
      do c = `2${this.digits(7)}`;
      while (this.codes.has(c));
    }
    if (!this.codes.has(c)) this.codes.set(c, false);
    return c;
  }

  // ---- terminals ---------------------------------------------------------

  terminal(sn: string): SandboxTerminal | undefined {
    return this.terminalsBySn.get(sn);
  }

  terminals(): SandboxTerminal[] {
    return [...this.terminalsBySn.values()].map((t) => ({ ...t }));
  }

  /** Creates a terminal without a code (tests, demo). */
  createTerminal(deviceId = `sandbox-device-${this.terminalsBySn.size + 1}`): SandboxTerminal {
    const t: SandboxTerminal = {
      terminalSn: this.newTerminalSn(),
      terminalKey: this.newKey(),
      previousKey: null,
      deviceId,
      ...SANDBOX_MERCHANT,
      activatedAt: this.opts.clock.now(),
      checkins: 0,
    };
    this.terminalsBySn.set(t.terminalSn, t);
    return { ...t };
  }

  activate(f: Fields): Outcome {
    const missing = requireFields(f, ['app_id', 'code', 'device_id']);
    if (missing) return missing;
    if (f.app_id !== this.opts.appId) return invalidParams('app_id 不存在');
    if ((f.device_id ?? '').length > MAX_DEVICE_ID) return invalidParams(`device_id 超过${MAX_DEVICE_ID}个字符`);
    const code = f.code ?? '';
    const used = this.codes.get(code);
    if (used === undefined) return { envelope: topError('400', 'INVALID_PARAMS', '激活码不存在'), effect: false };
    if (used) return { envelope: topError('400', 'INVALID_PARAMS', '激活码已被使用'), effect: false };
    this.codes.set(code, true);
    const t = this.createTerminal(f.device_id);
    return {
      envelope: ok({
        terminal_sn: t.terminalSn,
        terminal_key: t.terminalKey,
        merchant_sn: t.merchantSn,
        merchant_name: t.merchantName,
        store_sn: t.storeSn,
        store_name: t.storeName,
      }),
      effect: true,
      terminalSn: t.terminalSn,
    };
  }

  /**
   * Rotation rule: after a check-in the valid keys are the new key and the key
   * that signed the check-in. Signed with the current key this is the usual
   * "new + previous". Signed with the previous key it is a retry after a lost
   * response: the undelivered key is dropped and the caller can retry again
   * with the same old key as often as it takes, never locking itself out.
   */
  checkin(terminalSn: string, signedWith: string, f: Fields): Outcome {
    const missing = requireFields(f, ['terminal_sn', 'device_id']);
    if (missing) return missing;
    const live = this.terminalsBySn.get(terminalSn);
    if (!live) return { envelope: topError('400', 'TERMINAL_NOT_EXISTS', '终端不存在'), effect: false };
    live.previousKey = signedWith;
    live.terminalKey = this.newKey();
    live.checkins += 1;
    return {
      envelope: ok({ terminal_sn: live.terminalSn, terminal_key: live.terminalKey }),
      effect: true,
      terminalSn: live.terminalSn,
    };
  }

  // ---- orders ------------------------------------------------------------

  private find(f: Fields): SandboxOrder | undefined {
    // `sn` wins when both are present (protocol §4).
    if (f.sn) return this.ordersBySn.get(f.sn);
    if (f.client_sn) {
      const sn = this.snByClientSn.get(f.client_sn);
      return sn === undefined ? undefined : this.ordersBySn.get(sn);
    }
    return undefined;
  }

  getOrder(snOrClientSn: string): SandboxOrder | undefined {
    const o = this.ordersBySn.get(snOrClientSn) ?? this.ordersBySn.get(this.snByClientSn.get(snOrClientSn) ?? '');
    return o ? cloneOrder(o) : undefined;
  }

  orders(): SandboxOrder[] {
    return [...this.ordersBySn.values()].map(cloneOrder);
  }

  markPromotion(sn: string, promotion = true): void {
    const o = this.ordersBySn.get(sn) ?? this.ordersBySn.get(this.snByClientSn.get(sn) ?? '');
    if (!o) throw new Error(`sandbox: no order ${sn}`);
    o.promotion = promotion;
  }

  private nextClientSn(): string {
    for (;;) {
      this.clientSnCounter += 1;
      const c = `SANDBOX${String(this.clientSnCounter).padStart(8, '0')}`;
      if (!this.snByClientSn.has(c)) return c;
    }
  }

  private insert(o: SandboxOrder): void {
    this.ordersBySn.set(o.sn, o);
    this.snByClientSn.set(o.clientSn, o.sn);
  }

  seedOrder(input: SeedOrderInput): SandboxOrder {
    if (!this.terminalsBySn.has(input.terminalSn)) throw new Error(`sandbox: no terminal ${input.terminalSn}`);
    if (!Number.isSafeInteger(input.totalCents) || input.totalCents <= 0) {
      throw new RangeError(`sandbox: totalCents must be a positive integer, got ${input.totalCents}`);
    }
    const clientSn = input.clientSn ?? this.nextClientSn();
    if (this.snByClientSn.has(clientSn)) throw new Error(`sandbox: client_sn ${clientSn} already used`);
    const status = input.status ?? 'PAID';
    const at = input.finishedAt ?? this.opts.clock.now();
    let refunded = 0;
    if (status === 'REFUNDED') refunded = input.refundedCents ?? input.totalCents;
    else if (status === 'PARTIAL_REFUNDED') refunded = input.refundedCents ?? 1;
    else if (input.refundedCents !== undefined) refunded = input.refundedCents;
    const payway = input.payway ?? '3';
    const voided = status === 'CANCELED' || status === 'PAY_CANCELED';
    const o: SandboxOrder = {
      sn: this.newOrderSn(),
      clientSn,
      terminalSn: input.terminalSn,
      tradeNo: this.newTradeNo(payway, at),
      status: voided ? (status === 'CANCELED' ? 'SUCCESS' : 'FAIL_CANCELED') : 'SUCCESS',
      orderStatus: status,
      payway,
      paywayName: input.paywayName ?? PAYWAY_NAMES[payway] ?? '其他',
      subPayway: '1',
      totalCents: input.totalCents,
      netCents: voided ? 0 : input.totalCents - refunded,
      refundedCents: refunded,
      subject: input.subject ?? '沙箱商品',
      operator: input.operator ?? 'sandbox',
      dynamicId: '',
      finishTime: at,
      promotion: input.promotion ?? false,
      canceledAt: status === 'CANCELED' ? at : null,
      pendingCancelQueries: null,
      refunds: refunded > 0 ? [{ refundRequestNo: `seed-${clientSn}`, refundCents: refunded, operator: 'sandbox', at }] : [],
    };
    this.insert(o);
    return cloneOrder(o);
  }

  pay(t: SandboxTerminal, f: Fields): Outcome {
    const missing = requireFields(f, ['terminal_sn', 'client_sn', 'total_amount', 'dynamic_id', 'subject', 'operator']);
    if (missing) return missing;
    const clientSn = f.client_sn ?? '';
    if (clientSn.length > MAX_CLIENT_SN) return invalidParams(`client_sn 超过${MAX_CLIENT_SN}个字符`);
    const total = f.total_amount ?? '';
    if (!/^[1-9]\d{0,11}$/.test(total)) return invalidParams('total_amount 必须是正整数（分）');
    if (this.snByClientSn.has(clientSn)) {
      return { envelope: bizFail('FAIL', 'CLIENT_SN_CONFLICT', `商户订单号${clientSn}重复`), effect: false, clientSn };
    }
    const dynamicId = f.dynamic_id ?? '';
    const now = this.opts.clock.now();
    const payway = paywayForBarcode(dynamicId);
    const paid = /^\d{10,32}$/.test(dynamicId);
    const o: SandboxOrder = {
      sn: this.newOrderSn(),
      clientSn,
      terminalSn: t.terminalSn,
      tradeNo: paid ? this.newTradeNo(payway, now) : '',
      status: paid ? 'SUCCESS' : 'FAIL_CANCELED',
      orderStatus: paid ? 'PAID' : 'PAY_CANCELED',
      payway,
      paywayName: PAYWAY_NAMES[payway] ?? '其他',
      subPayway: '1',
      totalCents: Number(total),
      netCents: paid ? Number(total) : 0,
      refundedCents: 0,
      subject: f.subject ?? '',
      operator: f.operator ?? '',
      dynamicId,
      finishTime: now,
      promotion: false,
      canceledAt: null,
      pendingCancelQueries: null,
      refunds: [],
    };
    this.insert(o);
    const data = snapshot(o);
    const envelope = paid
      ? ok({ result_code: 'PAY_SUCCESS', data })
      : bizFail('PAY_FAIL', 'INVALID_BARCODE', '无效的付款码', { data });
    return { envelope, effect: true, sn: o.sn, clientSn };
  }

  query(f: Fields): Outcome {
    const missing = requireOrderRef(f);
    if (missing) return missing;
    const o = this.find(f);
    if (!o) return { envelope: bizFail('FAIL', 'UPAY_ORDER_NOT_EXISTS', '订单不存在'), effect: false, ...refOf(f) };
    // A void answered CANCEL_IN_PROGRESS completes after a number of queries,
    // so clients exercise their polling.
    if (o.orderStatus === 'CANCEL_INPROGRESS' && o.pendingCancelQueries !== null) {
      if (o.pendingCancelQueries <= 0) {
        finishVoid(o, this.opts.clock.now());
      } else {
        o.pendingCancelQueries -= 1;
      }
    }
    return { envelope: ok({ result_code: 'SUCCESS', data: snapshot(o) }), effect: false, sn: o.sn, clientSn: o.clientSn };
  }

  /** Revoke and cancel share the rules (protocol §4); `fault` alters a void that would succeed. */
  voidOrder(f: Fields, fault: VoidFault | undefined, endpoint: 'revoke' | 'cancel'): Outcome {
    const missing = requireOrderRef(f);
    if (missing) return missing;
    const o = this.find(f);
    if (!o) return { envelope: bizFail('FAIL', 'UPAY_ORDER_NOT_EXISTS', '订单不存在'), effect: false, ...refOf(f) };
    const ref = { sn: o.sn, clientSn: o.clientSn };
    const refuse = (code: string, message: string): Outcome => ({ envelope: bizFail('FAIL', code, message), effect: false, ...ref });

    if (o.orderStatus === 'CANCELED') return refuse('UPAY_CANCEL_ORDER_NOOP', `订单${o.sn}已撤单，无需重复操作`);
    if (o.orderStatus !== 'PAID' || o.refundedCents > 0) {
      const why = o.refundedCents > 0 ? '已发生退款' : `状态为${o.orderStatus}`;
      return refuse('UPAY_CANCEL_INVALID_ORDER_STATE', `订单${o.sn}${why}，不能撤单`);
    }
    const now = this.opts.clock.now();
    if (businessDay(now) !== businessDay(o.finishTime)) {
      return refuse('UPAY_CANCEL_INVALID_ORDER_STATE', `订单${o.sn}不是当日交易，只能撤销当日的订单，请使用退款`);
    }
    if (o.promotion) {
      return {
        envelope: bizFail('CANCEL_ERROR', 'UPAY_TCP_ORDER_NOT_REFUNDABLE', `订单${o.sn}参与了活动并且无法撤销`),
        effect: false,
        ...ref,
      };
    }

    if (fault?.kind === 'cancel_in_progress') {
      o.orderStatus = 'CANCEL_INPROGRESS';
      o.status = 'IN_PROG';
      o.pendingCancelQueries = Math.max(0, Math.floor(fault.queries));
      return { envelope: ok(this.voidBiz('CANCEL_IN_PROGRESS', o, endpoint)), effect: true, ...ref };
    }
    if (fault?.kind === 'cancel_error_no_code') {
      const voided = fault.outcome === 'canceled';
      if (voided) finishVoid(o, now);
      // No error_code at all: the client cannot know what happened and must query.
      return { envelope: ok({ result_code: 'CANCEL_ERROR', error_message: '撤单失败，请查询订单状态' }), effect: voided, ...ref };
    }
    finishVoid(o, now);
    return { envelope: ok(this.voidBiz('CANCEL_SUCCESS', o, endpoint)), effect: true, ...ref };
  }

  private voidBiz(resultCode: string, o: SandboxOrder, endpoint: 'revoke' | 'cancel'): Biz {
    const data = snapshot(o);
    // Real cancel answers nest the order under `data`; the revoke docs show it
    // flat. Clients must accept both, so the sandbox can serve either.
    if (endpoint === 'revoke' && this.opts.revokeShape === 'flat') return { result_code: resultCode, ...data };
    return { result_code: resultCode, data };
  }

  refund(f: Fields): Outcome {
    const missing = requireOrderRef(f) ?? requireFields(f, ['refund_request_no', 'refund_amount', 'operator']);
    if (missing) return missing;
    const amount = f.refund_amount ?? '';
    if (!/^[1-9]\d{0,11}$/.test(amount)) return invalidParams('refund_amount 必须是正整数（分）');
    const o = this.find(f);
    if (!o) return { envelope: bizFail('FAIL', 'UPAY_ORDER_NOT_EXISTS', '订单不存在'), effect: false, ...refOf(f) };
    const ref = { sn: o.sn, clientSn: o.clientSn };
    const requestNo = f.refund_request_no ?? '';
    // Idempotency: a retried refund_request_no answers the original success
    // (whatever amount the retry carries) and never refunds twice.
    if (o.refunds.some((r) => r.refundRequestNo === requestNo)) {
      return { envelope: ok({ result_code: 'REFUND_SUCCESS', data: snapshot(o) }), effect: false, ...ref };
    }
    if (o.orderStatus !== 'PAID' && o.orderStatus !== 'PARTIAL_REFUNDED') {
      return { envelope: bizFail('FAIL', 'UPAY_REFUND_INVALID_ORDER_STATE', `订单${o.sn}状态为${o.orderStatus}，不能退款`), effect: false, ...ref };
    }
    const cents = Number(amount);
    if (cents > o.netCents) {
      return { envelope: bizFail('FAIL', 'REFUNDABLE_AMOUNT_NOT_ENOUGH', `可退金额不足，剩余可退${o.netCents}分`), effect: false, ...ref };
    }
    const now = this.opts.clock.now();
    o.refunds.push({ refundRequestNo: requestNo, refundCents: cents, operator: f.operator ?? '', at: now });
    o.refundedCents += cents;
    o.netCents -= cents;
    o.orderStatus = o.netCents === 0 ? 'REFUNDED' : 'PARTIAL_REFUNDED';
    return {
      envelope: ok({ result_code: 'REFUND_SUCCESS', data: { ...snapshot(o), refund_request_no: requestNo, refund_amount: amount } }),
      effect: true,
      ...ref,
    };
  }
}

// ---------------------------------------------------------------------------
// helpers

function finishVoid(o: SandboxOrder, at: number): void {
  o.orderStatus = 'CANCELED';
  o.status = 'SUCCESS';
  o.netCents = 0;
  o.canceledAt = at;
  o.pendingCancelQueries = null;
}

/** Barcode prefixes as the wallets issue them; unknown numeric codes pay as WeChat. */
export function paywayForBarcode(code: string): string {
  if (/^(2[5-9]|30)/.test(code)) return '1';
  if (/^1[0-5]/.test(code)) return '3';
  if (/^62/.test(code)) return '17';
  return '3';
}

/** The order as the wire shows it: every value a string. */
export function snapshot(o: SandboxOrder): Record<string, string> {
  return {
    terminal_sn: o.terminalSn,
    sn: o.sn,
    client_sn: o.clientSn,
    trade_no: o.tradeNo,
    status: o.status,
    order_status: o.orderStatus,
    payway: o.payway,
    payway_name: o.paywayName,
    sub_payway: o.subPayway,
    total_amount: String(o.totalCents),
    net_amount: String(o.netCents),
    subject: o.subject,
    operator: o.operator,
    // The payment's finish time even after a void: clients derive the
    // order's business day from it.
    finish_time: String(o.finishTime),
    channel_finish_time: String(o.finishTime),
  };
}

function cloneOrder(o: SandboxOrder): SandboxOrder {
  return { ...o, refunds: o.refunds.map((r) => ({ ...r })) };
}

function requireFields(f: Fields, names: readonly string[]): Outcome | undefined {
  const absent = names.filter((n) => !f[n]);
  return absent.length > 0 ? invalidParams(`缺少 ${absent.join(', ')}`) : undefined;
}

function requireOrderRef(f: Fields): Outcome | undefined {
  const missing = requireFields(f, ['terminal_sn']);
  if (missing) return missing;
  if (!f.sn && !f.client_sn) return invalidParams('sn 与 client_sn 至少填写一个');
  return undefined;
}

function refOf(f: Fields): { sn?: string; clientSn?: string } {
  return { ...(f.sn ? { sn: f.sn } : {}), ...(f.client_sn ? { clientSn: f.client_sn } : {}) };
}
