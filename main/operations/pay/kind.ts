/**
 * The payment kind on the skeleton (../engine.ts): its request (pay or
 * precreate, body from the row), its query (by client_sn), its interpretation
 * table (interpret.ts, as Steps), its polling (barcode every 3-5 s for ~45 s;
 * QR every 2 s for 30 s, then 5 s, until the order's lifetime ends; then
 * 'reverse'), its reversal (cancel / 冲正 by the same client_sn, driven until
 * the order is final, needs_attention only once the tries are spent, and
 * tried again every `attentionEveryMs` after that), its
 * messages and its receipts (收款凭证 when paid; the 撤销/冲正 slip when the
 * reversal gave money back). Never queued: a call certainly not sent fails
 * the payment at once, and it is never sent later.
 */
import { businessDay } from '../../common/time';
import type { Order } from '../../domain';
import type { RuntimeEvents } from '../../events';
import { orderFromSnapshot } from '../../orders/service';
import type { Db } from '../../store/db';
import { OrdersRepo } from '../../store/orders';
import { PaymentsRepo, REVERSED, REVERSED_UNCONFIRMED, toPayment, type PaymentRow } from '../../store/payments';
import type { OrderSnapshot } from '../../upay/result';
import type { KindMessage, OperationKind, Step } from '../kind';
import type { ReceiptPort } from '../receipts';
import { cancelFamily, interpretCancel, interpretQuery, interpretSend, type OrderEvidence, type PayVerdict } from './interpret';
import { paymentMessage } from './messages';
import { nextCancel, nextPoll, type PayTiming } from './timing';

/** 收款凭证 (paid) and the 撤销/冲正 slip (canceled after money was taken). */
export type PaymentReceipts = ReceiptPort<{ payment: PaymentRow; order: Order | null }>;

export interface PayKindDeps {
  db: Db;
  events: RuntimeEvents;
  timing: PayTiming;
  receipts?: PaymentReceipts;
}

const cancels = (row: PaymentRow): number => Math.max(0, row.attempts - 1);
const reversing = (row: PaymentRow): boolean => row.state === 'canceling' || row.state === 'needs_attention';

/** What the row keeps of the gateway's earlier answers (interpret.ts's OrderEvidence). */
export function evidenceOf(r: PaymentRow): OrderEvidence {
  return {
    // Any answer with the order's sn, status or QR, or a business result code about it (PAY_IN_PROGRESS, PRECREATE_SUCCESS, CANCEL_*).
    acknowledged: r.order_sn !== '' || r.qr_code !== null || r.order_status !== null || r.seen_paid === 1 || r.last_result_code !== null,
    seenPaid: r.seen_paid === 1,
    lastCancel: cancelFamily(r.last_result_code),
    tradeNo: !!r.trade_no,
  };
}

/** The payment kind, with its own repository. */
export type PayKind = OperationKind<PaymentRow> & { repo: PaymentsRepo };

/** The order facts an answer carries, as the row's columns. */
function factsPatch(o: OrderSnapshot): Partial<PaymentRow> {
  return {
    ...(o.sn ? { order_sn: o.sn } : {}),
    ...(o.orderStatus ? { order_status: o.orderStatus } : {}),
    ...(o.orderStatus === 'PAID' ? { seen_paid: 1 } : {}),
    ...(o.tradeNo ? { trade_no: o.tradeNo } : {}),
    ...(o.payway ? { payway: o.payway } : {}),
    ...(o.paywayName ? { payway_name: o.paywayName } : {}),
  };
}

export function payKind(deps: PayKindDeps): PayKind {
  const { timing, receipts } = deps;
  const repo = new PaymentsRepo(deps.db);
  /** A PAY_SUCCESS answer's order, kept in memory until its success transaction writes it (no extra commit). */
  const facts = new Map<number, OrderSnapshot>();
  /** A final verdict as a Step; `canceled` is a final state that is not a success. */
  const final = (v: PayVerdict): Step<PaymentRow> | undefined => {
    switch (v.to) {
      case 'paid':
        return { to: 'succeeded', order: v.order, resultCode: v.resultCode };
      case 'failed':
        return { to: 'failed', code: v.code, gateway: v.gateway, resultCode: v.resultCode };
      case 'canceled':
        return { to: 'failed', state: 'canceled', code: v.returned ? (v.unconfirmed ? REVERSED_UNCONFIRMED : REVERSED) : 'CANCELED', resultCode: v.resultCode };
      default:
        return undefined;
    }
  };
  /** The row's evidence as stored now (an answer's facts are noted as they arrive, after the row was read). */
  const evidence = (row: PaymentRow): OrderEvidence => evidenceOf(repo.get(row.id) ?? row);
  const exhausted = (row: PaymentRow): boolean => cancels(row) >= timing.maxCancels;
  /** The tries are spent: a person is told, and the reversal goes on every `attentionEveryMs` (the worker's). */
  const attention = (now: number): Step<PaymentRow> => ({ to: 'attention', patch: { next_attempt_at: now + timing.attentionEveryMs } });

  const kind: PayKind = {
    name: 'pay',
    repo,
    queueable: false,
    namedBy: 'client_sn',
    successState: 'paid',
    failedState: 'failed',
    // A PAY_SUCCESS / PAID after the order was recorded CANCELED is stale (never CANCELED -> PAID). Not `failed`: a
    // failure after UPAY_ORDER_NOT_EXISTS proves nothing against a later PAID, which then is the truth to record.
    successNeverOverwrites: ['canceled'],
    message: (code, gateway): KindMessage => paymentMessage(code, gateway),
    send: (client, signer, row) => {
      // Only the engine's request sends a payment (with the barcode, which is never stored): a row is never re-sent.
      throw new Error(`payment ${row.id} (${row.client_sn}) cannot be sent again`);
    },
    query: (client, signer, row) => client.query(signer, { client_sn: row.client_sn }),
    interpretSend(res): Step<PaymentRow> {
      const v = interpretSend(res);
      return final(v) ?? { to: 'pending', resultCode: v.to === 'open' ? v.resultCode : null, ...(v.to === 'open' && v.gateway.code ? { gateway: v.gateway } : {}) };
    },
    interpretQuery(res, row, now): Step<PaymentRow> {
      const v = interpretQuery(res, evidence(row));
      const done = final(v);
      if (done || v.to !== 'open') return done!;
      if (reversing(row)) {
        // A reversal already running at the gateway is waited for; else cancel again; once the tries are spent, a person.
        if (v.wait) return exhausted(row) ? attention(now) : { to: 'unknown', reason: 'cancel in progress' };
        return row.state === 'canceling' && exhausted(row) ? attention(now) : { to: 'reverse' };
      }
      if (v.wait) return { to: 'unknown', reason: 'cancel in progress' };
      // PAY_ERROR / CANCEL_ERROR will not become PAID by themselves: reverse now; else the polling decides.
      return v.cancelNow ? { to: 'reverse' } : { to: 'unknown', reason: 'not final yet' };
    },
    polling: {
      first: (row, now) => (row.method === 'qr' && repo.get(row.id)?.qr_code ? nextPoll(row, now, timing) : now),
      next(row, _since, now) {
        // Spent tries become needs_attention in the table above (with its next try); here only the next one is timed.
        if (reversing(row)) return now + (exhausted(row) ? timing.attentionEveryMs : nextCancel(cancels(row), timing));
        return now >= row.window_until ? 'reverse' : nextPoll(row, now, timing);
      },
    },
    reverse: {
      state: 'canceling',
      call: (client, signer, row) => client.cancel(signer, { client_sn: row.client_sn }),
      interpret(res, row, now): Step<PaymentRow> {
        const known = evidence(row);
        const v = interpretCancel(res, known.seenPaid, known.acknowledged);
        return final(v) ?? (exhausted(row) ? attention(now) : { to: 'unknown', reason: 'cancel not confirmed' });
      },
    },
    keep(row, res) {
      // Every answer's order facts (sn, status, trade no, QR) are kept as they arrive, once the skeleton found the answer
      // to be about this payment: never a transition by themselves. A PAY_SUCCESS's go with its success (successPatch).
      if (!res.ok || !deps.db.open) return;
      const { order, resultCode } = res.value;
      if (order && resultCode === 'PAY_SUCCESS') facts.set(row.id, order);
      else if (order) repo.noteSnapshot(row.id, order);
      // A cancel's CANCEL_* code is kept too: it tells the void of a paid order (money goes back) from the abort of an unfinished one.
      const family = cancelFamily(resultCode);
      if (family) repo.noteResultCode(row.id, resultCode, family === 'void' && order?.orderStatus !== 'PAY_CANCELED');
    },
    successPatch(row, now) {
      // The order facts go with the state (the fleet trigger and the receipt see the gateway's sn).
      const order = facts.get(row.id);
      facts.delete(row.id);
      return { paid_at: now, ...(order ? factsPatch(order) : {}) };
    },
    succeeded(stored, snapshot, now) {
      // The row already carries the answer's facts: noted as a query's answer arrived, or in successPatch.
      const input = snapshot ? orderFromSnapshot(snapshot, now) : undefined;
      const order = input ? new OrdersRepo(deps.db).upsert({ ...input, operator: stored.operator }, now) : null;
      receipts?.queue({ payment: stored, order }, now);
    },
    afterSuccess: () => receipts?.wake(),
    failed(stored, now) {
      // The slip of a reversal that gave money back, in the transaction that records `canceled`: a crash after that
      // commit still prints it; once (a unique original per payment: a replay adds nothing).
      if (toPayment(stored).moneyReturned) receipts?.queue({ payment: stored, order: null }, now);
    },
    publish(row) {
      const payment = toPayment(row);
      // After the commit only the printer is woken (its slip job is already stored, see `failed`).
      if (payment.moneyReturned && deps.db.open) receipts?.wake();
      deps.events.emit('payment.updated', payment);
    },
  };
  return kind;
}

export const dayOf = (now: number): string => businessDay(now);
