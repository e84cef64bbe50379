/**
 * The payment's arrows, each one SQLite transaction committed before the
 * next I/O: the write-ahead row, an answer recorded (paid with its 收款凭证
 * and the order; failed; canceled with the 撤销/冲正 slip when money went
 * back; still open with its next poll), and the resume after a crash. Every
 * write is guarded: a final row never changes, and only the lease holder
 * records (store/payments.ts `update`).
 */
import { businessDay } from '../../common/time';
import type { Order } from '../../domain';
import { orderFromSnapshot } from '../../orders/service';
import { audit } from '../../store/audit';
import { tx } from '../../store/db';
import { heldByOther } from '../../store/locks';
import { OrdersRepo } from '../../store/orders';
import type { PaymentPatch, PaymentRow, PaymentsRepo } from '../../store/payments';
import type { OrderSnapshot } from '../../upay/result';
import type { ReceiptPort } from '../receipts';
import type { PayVerdict } from './interpret';
import { FAIL_MESSAGES, PAY_MESSAGES } from './messages';

export interface Stamp {
  owner: string;
  now: number;
}

/** 收款凭证 (paid) and the 撤销/冲正 slip (canceled after money was taken), queued in the recording transaction. */
export type PaymentReceipts = ReceiptPort<{ payment: PaymentRow; order: Order | null }>;

const RELEASE = { lease_owner: null, lease_until: null } as const;
const NO_ERROR = { error_code: null, error_zh: null, error_en: null, gateway_code: null, gateway_message: null } as const;

function snapshotFields(o: OrderSnapshot | null): PaymentPatch {
  if (!o) return {};
  return {
    ...(o.sn ? { order_sn: o.sn } : {}),
    ...(o.orderStatus ? { order_status: o.orderStatus } : {}),
    ...(o.tradeNo ? { trade_no: o.tradeNo } : {}),
    ...(o.payway ? { payway: o.payway } : {}),
    ...(o.paywayName ? { payway_name: o.paywayName } : {}),
  };
}

/** --> paid: the order stored as the gateway shows it (our cashier, our time), the receipt queued, one commit. */
export function toPaid(repo: PaymentsRepo, row: PaymentRow, v: Extract<PayVerdict, { to: 'paid' }>, s: Stamp, receipts?: PaymentReceipts): PaymentRow | undefined {
  return tx(repo.db, () => {
    const stored = repo.update(row.id, { ...counts(row), ...snapshotFields(v.order), state: 'paid', paid_at: s.now, final_at: s.now, next_attempt_at: null, last_result_code: v.resultCode, ...NO_ERROR, ...RELEASE, updated_at: s.now }, s.owner, s.now);
    if (!stored) return undefined;
    const input = v.order ? orderFromSnapshot(v.order, s.now) : undefined;
    let order: Order | null = null;
    if (input) order = new OrdersRepo(repo.db).upsert({ ...input, operator: stored.operator, finishedAt: input.finishedAt > 0 ? input.finishedAt : s.now }, s.now);
    audit(repo.db, s.now, `payment:${stored.id}`, 'payment.paid', stored.order_sn, { clientSn: stored.client_sn, amountCents: stored.amount_cents });
    receipts?.queue({ payment: stored, order }, s.now);
    return stored;
  });
}

/** --> failed: no money taken (refused, PAY_CANCELED, never reached, not sent). */
export function toFailed(repo: PaymentsRepo, row: PaymentRow, v: Extract<PayVerdict, { to: 'failed' }>, s: Stamp): PaymentRow | undefined {
  const m = FAIL_MESSAGES[v.code];
  const gw = v.gateway.message ? `（${v.gateway.code ?? ''} ${v.gateway.message}）` : v.gateway.code ? `（${v.gateway.code}）` : '';
  return tx(repo.db, () => {
    const stored = repo.update(
      row.id,
      {
        ...counts(row),
        ...snapshotFields(v.order),
        state: 'failed',
        final_at: s.now,
        next_attempt_at: null,
        last_result_code: v.resultCode ?? row.last_result_code,
        error_code: v.code,
        error_zh: `${PAY_MESSAGES.NOT_PAID.zh}：${m.zh}${gw}`,
        error_en: `${PAY_MESSAGES.NOT_PAID.en}: ${m.en}${v.gateway.code ? ` (${v.gateway.code})` : ''}`,
        gateway_code: v.gateway.code,
        gateway_message: v.gateway.message,
        ...RELEASE,
        updated_at: s.now,
      },
      s.owner,
      s.now,
    );
    if (stored) audit(repo.db, s.now, `payment:${stored.id}`, 'payment.failed', stored.order_sn, { clientSn: stored.client_sn, code: v.code });
    return stored;
  });
}

/** --> canceled: the reversal is done; the slip is queued when money had been taken and went back. */
export function toCanceled(repo: PaymentsRepo, row: PaymentRow, v: Extract<PayVerdict, { to: 'canceled' }>, s: Stamp, receipts?: PaymentReceipts): PaymentRow | undefined {
  const returned = v.returned || row.order_status === 'PAID';
  return tx(repo.db, () => {
    const stored = repo.update(
      row.id,
      {
        ...counts(row),
        ...snapshotFields(v.order),
        order_status: 'CANCELED',
        state: 'canceled',
        final_at: s.now,
        next_attempt_at: null,
        money_returned: returned ? 1 : 0,
        last_result_code: v.resultCode ?? row.last_result_code,
        ...NO_ERROR,
        ...RELEASE,
        updated_at: s.now,
      },
      s.owner,
      s.now,
    );
    if (!stored) return undefined;
    const orders = new OrdersRepo(repo.db);
    const order = stored.order_sn ? (orders.markCanceled(stored.order_sn, v.order, s.now) ?? null) : null;
    audit(repo.db, s.now, `payment:${stored.id}`, 'payment.canceled', stored.order_sn, { clientSn: stored.client_sn, moneyReturned: returned });
    if (returned) receipts?.queue({ payment: stored, order }, s.now);
    return stored;
  });
}

/** Still open: pending (polled), canceling (reversal running) or needs_attention (reversal running, a person told). */
export function stillOpen(repo: PaymentsRepo, row: PaymentRow, v: Extract<PayVerdict, { to: 'open' }> | null, state: 'pending' | 'canceling' | 'needs_attention', nextAt: number, s: Stamp): PaymentRow | undefined {
  const attention = state === 'needs_attention' ? { error_code: 'NEEDS_ATTENTION', error_zh: PAY_MESSAGES.NEEDS_ATTENTION.zh, error_en: PAY_MESSAGES.NEEDS_ATTENTION.en } : { error_code: null, error_zh: null, error_en: null };
  return tx(repo.db, () => {
    const stored = repo.update(
      row.id,
      {
        ...counts(row),
        ...(v ? snapshotFields(v.order) : {}),
        ...(v?.qrCode ? { qr_code: v.qrCode } : {}),
        state,
        pending_since: row.pending_since ?? s.now,
        ...(state !== 'pending' ? { cancel_since: row.cancel_since ?? s.now } : {}),
        next_attempt_at: nextAt,
        last_result_code: v?.resultCode ?? row.last_result_code,
        ...attention,
        gateway_code: v?.gateway.code ?? row.gateway_code,
        gateway_message: v?.gateway.message ?? row.gateway_message,
        ...RELEASE,
        updated_at: s.now,
      },
      s.owner,
      s.now,
    );
    if (stored && state !== row.state && (state === 'needs_attention' || state === 'canceling')) {
      audit(repo.db, s.now, `payment:${stored.id}`, `payment.${state}`, stored.order_sn, { clientSn: stored.client_sn, cancels: stored.cancels });
    }
    return stored;
  });
}

/** The counters a row carries in memory (queries and cancels made since it was read). */
function counts(row: PaymentRow): PaymentPatch {
  return { queries: row.queries, cancels: row.cancels };
}

/** Startup: rows a crashed process left are resolved by query first (never by sending the payment again). */
export function resumeAfterCrash(repo: PaymentsRepo, s: Stamp): void {
  tx(repo.db, () => {
    for (const row of repo.open()) {
      if (heldByOther(row, s.owner, s.now)) continue;
      repo.update(row.id, { state: row.state === 'sending' ? 'pending' : row.state, pending_since: row.pending_since ?? s.now, next_attempt_at: s.now, ...RELEASE }, s.owner, s.now);
    }
  });
}

/** The business day a payment belongs to. */
export const dayOf = (now: number): string => businessDay(now);
