/**
 * A receipt job stores its inputs, not its lines (main/printer/jobs.ts): the
 * outcome's transaction writes the source, and the lines are laid out when
 * the receipt is read or printed. Read back, every kind gives exactly the
 * model its builder gives for the same inputs, through JSON; and a payment
 * and a refund recorded by the runtime store no lines.
 */
import { describe, expect, it } from 'vitest';
import { businessDayStart } from '../../main/common/time';
import { loadModel, type ReceiptInputs } from '../../main/printer/jobs';
import { buildPaymentReceipt, buildReversalSlip } from '../../main/printer/pay-receipt';
import type { PaymentReceiptSource, ReceiptModel, RefundReceiptSource } from '../../main/printer/receipt';
import { buildRefundReceipt } from '../../main/printer/refund-receipt';

const T = businessDayStart('2026-12-07') + 10 * 3_600_000;
const TERMINAL = { terminalSn: '10298371039', merchantName: '沙箱商户', storeSn: 'S001', storeName: '沙箱一号店' };
const PAYMENT: PaymentReceiptSource = {
  terminal: TERMINAL,
  payment: {
    id: 7,
    clientSn: 'PMIXYZ123ABCDEF012345',
    orderSn: '7894259244061958',
    tradeNo: null,
    amountCents: 123450,
    payway: '3',
    paywayName: '微信',
    operatorName: '收银员 1',
    paidAt: T,
    finalAt: null,
  },
};
const REFUND: RefundReceiptSource = {
  terminal: { ...TERMINAL, merchantName: null },
  order: { sn: '7894259244061958', clientSn: 'C1', totalCents: 5000, netCents: 3766, payway: '2', paywayName: null, finishedAt: T - 3_600_000 },
  refund: { id: 3, requestNo: '20261207000001', amountCents: 1234, refundedAt: T, operatorName: '小王', approverName: '李主管' },
};

/** What a job stores for `model`: everything but its laid-out lines. */
function inputsOf(model: ReceiptModel): string {
  const { items: _items, columns: _columns, ...inputs } = model;
  return JSON.stringify(inputs satisfies ReceiptInputs);
}

describe('receipt jobs store inputs; reading them lays out the same receipt', () => {
  const cases: Array<[string, () => ReceiptModel]> = [
    ['payment 80 mm', () => buildPaymentReceipt(PAYMENT, T + 3000, { paper: 80, chinese: true })],
    ['payment 58 mm, English', () => buildPaymentReceipt(PAYMENT, T + 3000, { paper: 58, chinese: false })],
    ['reversal slip', () => buildReversalSlip({ ...PAYMENT, payment: { ...PAYMENT.payment, finalAt: T + 60_000 } }, T + 61_000, { paper: 58, chinese: true })],
    ['refund', () => buildRefundReceipt(REFUND, false, T + 2000, { paper: 80, chinese: true })],
    ['refund copy, 58 mm', () => buildRefundReceipt(REFUND, true, T + 9000, { paper: 58, chinese: true })],
  ];
  for (const [name, build] of cases) {
    it(name, () => {
      const model = build();
      const stored = inputsOf(model);
      expect(stored).not.toContain('"items"');
      expect(loadModel(stored)).toEqual(JSON.parse(JSON.stringify(model)));
      // A whole model (a copy stored before, or another kind) still reads as it is.
      expect(loadModel(JSON.stringify(model))).toEqual(JSON.parse(JSON.stringify(model)));
    });
  }

  it('inputs without a source are refused, not printed blank', () => {
    expect(() => loadModel(JSON.stringify({ version: 1, kind: 'payment', paper: 80, chinese: true, copy: false, printedAt: T }))).toThrow(RangeError);
  });
});
