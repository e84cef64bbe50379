/**
 * THE status of an order, from the order and all its money operations of
 * every kind (revoke, refund, payment): the header's and the list's badge,
 * the filter it falls under, what the 待处理 pill counts, the amounts moved,
 * and which actions can succeed. Pure; the screen only shows what it says
 * (main decides again on every request).
 */
import { orderStatusTerm, stateTerm, type OperationKind, type Term } from './glossary';

/** One money operation of an order, as much as its status needs. */
export interface OperationSummary {
  kind: OperationKind;
  id: number;
  state: string;
  amountCents: number;
  updatedAt: number;
}

/** The order, as much as its status needs. */
export interface OrderFacts {
  /** The gateway's order status (PAID, CANCELED, REFUNDED, PARTIAL_REFUNDED, …). */
  status: string;
  businessDay: string;
  totalCents: number;
  netCents: number;
}

/** States each kind never leaves. `needs_attention` is open: a person can query again. */
const FINAL: { readonly [K in OperationKind]: readonly string[] } = {
  revoke: ['revoked', 'rejected', 'expired'],
  refund: ['refunded', 'rejected'],
  pay: ['paid', 'failed', 'canceled'],
};

export function isOpenOperation(op: Pick<OperationSummary, 'kind' | 'state'>): boolean {
  return !FINAL[op.kind].includes(op.state);
}

export type StatusGroup = 'paid' | 'open' | 'revoked' | 'refunded' | 'failed' | 'other';
export type Tone = 'ok' | 'info' | 'warn' | 'danger' | 'muted';

export interface OrderStatusView {
  /** CSS modifier and `data-status`: `paid`, `revoked`, `refunded`, `partial_refunded`, or `<kind>-<state>` while one is open or last failed. */
  key: string;
  label: Term;
  tone: Tone;
  /** The list's status filter it falls under. */
  group: StatusGroup;
  /** The operation still open (at most one per order), else null. */
  open: OperationSummary | null;
  /** Counted by the 待处理 pill: an open operation of any kind. */
  pending: boolean;
  refundedCents: number;
  /** What a refund may still take (0 while anything is open). */
  refundableCents: number;
  actions: { revoke: boolean; refund: boolean; queryAgain: boolean };
}

const REFUNDABLE_STATUSES = ['PAID', 'PARTIAL_REFUNDED'];
const OPEN_TONE: Record<string, Tone> = { needs_attention: 'danger', queued: 'warn', canceling: 'warn' };

/** Newest first: by update time, then id. */
function newestFirst(a: OperationSummary, b: OperationSummary): number {
  return b.updatedAt - a.updatedAt || b.id - a.id;
}

export function orderStatus(order: OrderFacts, operations: readonly OperationSummary[], today: string): OrderStatusView {
  const ops = [...operations].sort(newestFirst);
  const open = ops.find(isOpenOperation) ?? null;
  const refundedSum = ops.filter((o) => o.kind === 'refund' && o.state === 'refunded').reduce((s, o) => s + o.amountCents, 0);
  const byGateway = order.status === 'REFUNDED' || order.status === 'PARTIAL_REFUNDED' ? Math.max(0, order.totalCents - order.netCents) : 0;
  const refundedCents = Math.min(order.totalCents, Math.max(refundedSum, byGateway));
  const revoked = order.status === 'CANCELED' || ops.some((o) => o.kind === 'revoke' && o.state === 'revoked');
  const left = Math.max(0, Math.min(order.netCents, order.totalCents - refundedCents));
  const refundable = !open && !revoked && REFUNDABLE_STATUSES.includes(order.status) ? left : 0;
  const everRevoked = ops.some((o) => o.kind === 'revoke');
  const base = { open, refundedCents, refundableCents: refundable };
  const actions = {
    // Same day only, on an order nothing has touched yet (a second revoke would be the first one again).
    revoke: !open && order.status === 'PAID' && order.businessDay === today && refundedCents === 0 && !everRevoked,
    refund: refundable > 0,
    queryAgain: open !== null && (open.state === 'needs_attention' || open.state === 'pending'),
  };

  if (open) {
    return { ...base, key: `${open.kind}-${open.state}`, label: stateTerm(open.kind, open.state), tone: OPEN_TONE[open.state] ?? 'info', group: 'open', pending: true, actions };
  }
  if (revoked) return { ...base, key: 'revoked', label: stateTerm('revoke', 'revoked'), tone: 'muted', group: 'revoked', pending: false, actions };
  if (refundedCents > 0 && (refundedCents >= order.totalCents || order.status === 'REFUNDED')) {
    return { ...base, key: 'refunded', label: orderStatusTerm('REFUNDED'), tone: 'muted', group: 'refunded', pending: false, actions };
  }
  if (refundedCents > 0) return { ...base, key: 'partial_refunded', label: orderStatusTerm('PARTIAL_REFUNDED'), tone: 'info', group: 'refunded', pending: false, actions };
  const last = ops[0];
  if (order.status === 'PAID' && last && (last.state === 'rejected' || last.state === 'expired' || last.state === 'failed')) {
    return { ...base, key: `${last.kind}-${last.state}`, label: stateTerm(last.kind, last.state), tone: 'warn', group: 'failed', pending: false, actions };
  }
  if (order.status === 'PAID') return { ...base, key: 'paid', label: orderStatusTerm('PAID'), tone: 'ok', group: 'paid', pending: false, actions };
  return { ...base, key: order.status.toLowerCase(), label: orderStatusTerm(order.status), tone: 'muted', group: 'other', pending: false, actions };
}

/** "已退 ￥12.34，剩余可退 ￥37.66": the amounts a refund moved, in words. */
export function refundedLine(view: Pick<OrderStatusView, 'refundedCents' | 'refundableCents'>, format: (cents: number) => string): Term {
  return {
    zh: `已退 ${format(view.refundedCents)}，剩余可退 ${format(view.refundableCents)}`,
    en: `Refunded ${format(view.refundedCents)}, ${format(view.refundableCents)} left to refund`,
  };
}
