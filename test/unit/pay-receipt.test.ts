/**
 * The golden receipts of a payment: 收款凭证 (58 and 80 mm) and the short
 * 撤销/冲正 slip, rendered to ESC/POS and read back as paper text. Fixed inputs
 * and clock: a diff is a layout change; rerun with UPDATE_GOLDEN=1 if it is
 * deliberate.
 */
import { describe, expect, it } from 'vitest';
import { expectGolden, textLines } from '../support/golden';
import { RECEIPT_T, RECEIPT_TERMINAL, receiptPayment } from '../support/pay';
import { renderEscPos, renderHtml, type ReceiptModel } from '../../main/printer';
import { buildPaymentReceipt, buildReversalSlip, type PaymentReceiptSource } from '../../main/printer/pay-receipt';

const T = RECEIPT_T;
const SOURCE: PaymentReceiptSource = { terminal: RECEIPT_TERMINAL, payment: receiptPayment(T) };

describe('golden receipts: 收款凭证 and the 撤销/冲正 slip', () => {
  const cases: Array<{ name: string; title: string; model: () => ReceiptModel }> = [
    { name: 'receipt-payment-58-epson', title: '收款凭证', model: () => buildPaymentReceipt(SOURCE, T + 3000, { paper: 58, chinese: true }) },
    { name: 'receipt-payment-80-epson', title: '收款凭证', model: () => buildPaymentReceipt(SOURCE, T + 3000, { paper: 80, chinese: true }) },
    { name: 'receipt-payment-slip-58-epson', title: '撤销/冲正', model: () => buildReversalSlip(SOURCE, T + 61_000, { paper: 58, chinese: true }) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const model = c.model();
      const paperText = expectGolden(c.name, model);
      expect(paperText).toContain(c.title);
      expect(renderHtml(model)).toContain(c.title);
    });
  }

  it('the receipt names sn, client_sn, amount, payway and cashier, with a QR; the ASCII mode has no byte ≥ 0x80', () => {
    const model = buildPaymentReceipt(SOURCE, T, { paper: 58, chinese: true });
    const text = textLines(model).map((l) => l.text).join('\n');
    for (const want of ['7894259244061958', 'PMIXYZ123ABCDEF012345', '1,234.50', '微信', '收银员 1']) expect(text).toContain(want);
    expect(model.items.some((i) => i.type === 'qr')).toBe(true);
    const ascii = renderEscPos(buildReversalSlip(SOURCE, T, { paper: 58, chinese: false }), { printerType: 'EPSON' });
    expect([...ascii].filter((b) => b >= 0x80)).toEqual([]);
  });
});
