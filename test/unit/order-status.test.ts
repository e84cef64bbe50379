/**
 * THE order status (main/common/order-status.ts): one function of the order
 * and all its operations, of every kind, gives the badge, the filter, the
 * pill count, the amounts moved and the actions that can succeed.
 */
import { describe, expect, it } from 'vitest';
import { orderStatus, refundedLine, type OperationSummary, type OrderFacts } from '../../main/common/order-status';
import { formatCny } from '../../main/common/money';

const TODAY = '2026-12-06';
const paid: OrderFacts = { status: 'PAID', businessDay: TODAY, totalCents: 5000, netCents: 5000 };
let id = 0;
const op = (kind: OperationSummary['kind'], state: string, amountCents = 5000, updatedAt = ++id): OperationSummary => ({ kind, id: ++id, state, amountCents, updatedAt });

describe('orderStatus', () => {
  const rows: Array<[string, OrderFacts, OperationSummary[], { key: string; zh: string; group: string; pending: boolean; revoke: boolean; refund: boolean; refunded: number; refundable: number }]> = [
    ["today's paid order: revoke and refund", paid, [], { key: 'paid', zh: '已支付', group: 'paid', pending: false, revoke: true, refund: true, refunded: 0, refundable: 5000 }],
    ["an older day's paid order: refund only", { ...paid, businessDay: '2026-12-01' }, [], { key: 'paid', zh: '已支付', group: 'paid', pending: false, revoke: false, refund: true, refunded: 0, refundable: 5000 }],
    ['a queued revoke: nothing offered, counted as open', paid, [op('revoke', 'queued')], { key: 'revoke-queued', zh: '撤销排队中', group: 'open', pending: true, revoke: false, refund: false, refunded: 0, refundable: 0 }],
    ['a revoke needing attention: nothing but a query', paid, [op('revoke', 'needs_attention')], { key: 'revoke-needs_attention', zh: '撤销需人工处理', group: 'open', pending: true, revoke: false, refund: false, refunded: 0, refundable: 0 }],
    ['an open refund: no revoke, no second refund, counted as open', paid, [op('refund', 'pending', 1234)], { key: 'refund-pending', zh: '退款确认中', group: 'open', pending: true, revoke: false, refund: false, refunded: 0, refundable: 0 }],
    ['an open payment (a later kind) blocks both', paid, [op('pay', 'canceling')], { key: 'pay-canceling', zh: '正在冲正', group: 'open', pending: true, revoke: false, refund: false, refunded: 0, refundable: 0 }],
    ['revoked: nothing left to do', { ...paid, status: 'CANCELED', netCents: 0 }, [op('revoke', 'revoked')], { key: 'revoked', zh: '已撤销', group: 'revoked', pending: false, revoke: false, refund: false, refunded: 0, refundable: 0 }],
    ['a refused revoke: refund instead, no second revoke', paid, [op('revoke', 'rejected')], { key: 'revoke-rejected', zh: '撤销未成功', group: 'failed', pending: false, revoke: false, refund: true, refunded: 0, refundable: 5000 }],
    ['an expired revoke: refund instead', paid, [op('revoke', 'expired')], { key: 'revoke-expired', zh: '撤销已过期', group: 'failed', pending: false, revoke: false, refund: true, refunded: 0, refundable: 5000 }],
    ['a partial refund: amounts stated, the rest refundable, no revoke', { ...paid, status: 'PARTIAL_REFUNDED', netCents: 3766 }, [op('refund', 'refunded', 1234)], { key: 'partial_refunded', zh: '部分退款', group: 'refunded', pending: false, revoke: false, refund: true, refunded: 1234, refundable: 3766 }],
    ['a full refund of an imported older order: refunded, nothing offered', { ...paid, businessDay: '2026-11-30', status: 'REFUNDED', netCents: 0 }, [], { key: 'refunded', zh: '已全额退款', group: 'refunded', pending: false, revoke: false, refund: false, refunded: 5000, refundable: 0 }],
    ['a refund recorded here before the order row caught up', paid, [op('refund', 'refunded', 5000)], { key: 'refunded', zh: '已全额退款', group: 'refunded', pending: false, revoke: false, refund: false, refunded: 5000, refundable: 0 }],
    ['a refused refund after a partial one: the partial one stands', { ...paid, status: 'PARTIAL_REFUNDED', netCents: 4000 }, [op('refund', 'refunded', 1000), op('refund', 'rejected', 4000)], { key: 'partial_refunded', zh: '部分退款', group: 'refunded', pending: false, revoke: false, refund: true, refunded: 1000, refundable: 4000 }],
    ['not paid: nothing', { ...paid, status: 'CREATED' }, [], { key: 'created', zh: '未支付', group: 'other', pending: false, revoke: false, refund: false, refunded: 0, refundable: 0 }],
  ];
  for (const [title, order, ops, want] of rows) {
    it(title, () => {
      const s = orderStatus(order, ops, TODAY);
      expect({ key: s.key, zh: s.label.zh, group: s.group, pending: s.pending, revoke: s.actions.revoke, refund: s.actions.refund, refunded: s.refundedCents, refundable: s.refundableCents }).toEqual(want);
      expect(s.label.en.length).toBeGreaterThan(0);
    });
  }

  it('states the amounts a refund moved in both languages', () => {
    const s = orderStatus({ ...paid, status: 'PARTIAL_REFUNDED', netCents: 3766 }, [op('refund', 'refunded', 1234)], TODAY);
    expect(refundedLine(s, formatCny)).toEqual({ zh: '已退 ￥12.34，剩余可退 ￥37.66', en: 'Refunded ￥12.34, ￥37.66 left to refund' });
  });

  it('the open operation is the one named, whatever its kind', () => {
    const s = orderStatus(paid, [op('revoke', 'rejected'), op('refund', 'queued', 700)], TODAY);
    expect(s.open).toMatchObject({ kind: 'refund', state: 'queued', amountCents: 700 });
    expect(s.actions.queryAgain).toBe(false);
    expect(orderStatus(paid, [op('refund', 'needs_attention')], TODAY).actions.queryAgain).toBe(true);
  });
});
