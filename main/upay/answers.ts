/**
 * The reader of the gateway's envelope and order answers on the money path:
 * the rules of `envelopeSchema` and `orderBizSchema` (./schemas.ts, the
 * reference), checked in one pass over the parsed JSON and mapped straight
 * to the typed result. Every money call's answer goes through here, so it
 * is hand-written: the zod parse built a copy of every field and cost about
 * a fifth of a millisecond per answer (docs/performance.md).
 * test/unit/answers.test.ts holds it equal to the schemas on generated and
 * hostile answers: same accepted, same refused, same values.
 */
import type { OrderResult, OrderSnapshot } from './result';
import { AMOUNT, CODE, ID, MESSAGE, NAME } from './schemas';

/** Thrown inside a read when a field breaks its rule (the whole answer is then refused). */
const BAD = Symbol('bad answer');

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An optional text field: absent, null or '' is null; a string of at most `max` UTF-16 units is kept; anything else refuses the answer. */
function opt(o: Obj, key: string, max: number): string | null {
  const v = o[key];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > max) throw BAD;
  return v;
}

/** `reflect`: the pay request's echo, objects as JSON text, at most MESSAGE units. */
function reflectOf(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  const text = typeof v === 'string' ? v : (JSON.stringify(v) as string | undefined);
  if (text === undefined) return null;
  if (text.length > MESSAGE) throw BAD;
  return text;
}

/** `payment_list`: kept only when every entry is well formed (at most 16); otherwise dropped, never a reason to refuse. */
function paymentListOf(v: unknown): Array<{ type: string; amountTotal: string }> | null {
  if (!Array.isArray(v) || v.length > 16) return null;
  const out: Array<{ type: string; amountTotal: string }> = [];
  for (const item of v) {
    if (!isObject(item)) return null;
    const type = item.type;
    const amount = item.amount_total;
    if (typeof type !== 'string' || type.length > CODE) return null;
    if (typeof amount === 'number') out.push({ type, amountTotal: String(amount) });
    else if (typeof amount === 'string' && amount.length <= AMOUNT) out.push({ type, amountTotal: amount });
    else return null;
  }
  return out;
}

/** One order snapshot (the answer itself, or its `data`); throws BAD on a broken field. */
function snapshotOf(o: Obj): OrderSnapshot {
  // Checked though not kept: a broken one still refuses the answer, as the schema does.
  opt(o, 'refund_request_no', ID);
  opt(o, 'description', MESSAGE);
  const qrCode = opt(o, 'qr_code', MESSAGE);
  return {
    terminalSn: opt(o, 'terminal_sn', ID),
    sn: opt(o, 'sn', ID),
    clientSn: opt(o, 'client_sn', ID),
    tradeNo: opt(o, 'trade_no', ID),
    status: opt(o, 'status', CODE),
    orderStatus: opt(o, 'order_status', CODE),
    payway: opt(o, 'payway', 16),
    paywayName: opt(o, 'payway_name', NAME),
    totalAmount: opt(o, 'total_amount', AMOUNT),
    netAmount: opt(o, 'net_amount', AMOUNT),
    subject: opt(o, 'subject', NAME),
    finishTime: opt(o, 'finish_time', AMOUNT),
    channelFinishTime: opt(o, 'channel_finish_time', AMOUNT),
    operator: opt(o, 'operator', NAME),
    ctime: opt(o, 'ctime', AMOUNT),
    subPayway: opt(o, 'sub_payway', 16),
    clientTsn: opt(o, 'client_tsn', ID),
    payerUid: opt(o, 'payer_uid', NAME),
    payerLogin: opt(o, 'payer_login', NAME),
    storeId: opt(o, 'store_id', ID),
    reflect: reflectOf(o.reflect),
    ...(qrCode ? { qrCode } : {}),
    paymentList: paymentListOf(o.payment_list),
  };
}

const required = (o: Obj, key: string, max: number): string => {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw BAD;
  return v;
};

export interface Envelope {
  resultCode: string;
  errorCode: string | null;
  errorMessage: string | null;
  biz: unknown;
}

/** The outer envelope `{result_code, error_code, error_message, biz_response}`, or undefined when it is not one. */
export function readEnvelope(json: unknown): Envelope | undefined {
  if (!isObject(json)) return undefined;
  try {
    return {
      resultCode: required(json, 'result_code', CODE),
      errorCode: opt(json, 'error_code', CODE),
      errorMessage: opt(json, 'error_message', MESSAGE),
      biz: json.biz_response,
    };
  } catch (err) {
    if (err === BAD) return undefined;
    throw err;
  }
}

/** A money call's `biz_response` (pay, precreate, revoke, cancel, refund, query), or undefined when malformed. */
export function readOrderAnswer(biz: unknown): OrderResult | undefined {
  if (!isObject(biz)) return undefined;
  try {
    const resultCode = required(biz, 'result_code', CODE);
    const errorCode = opt(biz, 'error_code', CODE);
    const errorMessage = opt(biz, 'error_message', MESSAGE);
    const data = biz.data;
    let nested: OrderSnapshot | undefined;
    if (isObject(data)) {
      const inner = snapshotOf(data);
      // Real cancel answers nest the order under `data`; the revoke docs show it flat.
      if (inner.sn || inner.clientSn || inner.orderStatus) nested = inner;
    } else if (data !== undefined && data !== null && data !== '') throw BAD;
    const flat = snapshotOf(biz);
    const order = nested ?? flat;
    return { resultCode, errorCode, errorMessage, order: order.sn || order.clientSn || order.orderStatus ? order : null };
  } catch (err) {
    if (err === BAD) return undefined;
    throw err;
  }
}
