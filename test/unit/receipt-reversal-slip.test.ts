/**
 * The 撤销/冲正 slip says what the screen says. For REVERSED_UNCONFIRMED (the
 * gateway shows the order voided, every answer to our cancel lost) whether
 * money had been taken is not known: the paper must not print "已退回 ￥X" /
 * "钱款已退回顾客", but the screen's "如顾客已被扣款，钱款已全额退回顾客",
 * word for word; also after the slip's inputs were stored and read back (the
 * print worker lays it out from print_jobs.receipt). A confirmed reversal
 * (REVERSED) keeps its 已退回 slip.
 */
import { describe, expect, it } from 'vitest';
import { PAY_MESSAGES } from '../../main/operations/pay/messages';
import { loadModel, renderEscPos, renderHtml, storedInputs, type ReceiptModel } from '../../main/printer';
import { buildReversalSlip, paymentSource } from '../../main/printer/pay-receipt';
import { decodeEscPos } from '../../main/sandbox/escpos-decoder';
import { textLines } from '../support/golden';
import { RECEIPT_T, RECEIPT_TERMINAL, receiptPayment } from '../support/pay';

const T = RECEIPT_T;
const TERMINAL = RECEIPT_TERMINAL;
const PAYMENT = receiptPayment(null);

/** The slip as the worker prints it: inputs stored the way PaymentPrinting queues them, then laid out when read. */
function storedSlip(code: 'REVERSED' | 'REVERSED_UNCONFIRMED', chinese = true): ReceiptModel {
  const source = paymentSource({ terminal: TERMINAL, payment: { ...PAYMENT, error: { code } } });
  return loadModel(storedInputs('payment-slip', { paper: 58, chinese }, false, T + 61_000, { paymentSource: source }));
}

/** The paper's text, lines joined without breaks (a wrapped sentence reads whole). */
const paper = (m: ReceiptModel): string =>
  decodeEscPos(renderEscPos(m, { printerType: 'EPSON' }))
    .lines.map((l) => l.text.trim())
    .join('');

describe('撤销/冲正 slip of an unconfirmed reversal', () => {
  it('prints the screen’s words for REVERSED_UNCONFIRMED, never "已退回" nor "钱款已退回顾客"', () => {
    const model = storedSlip('REVERSED_UNCONFIRMED');
    expect(model.paymentSource?.payment.reversalUnconfirmed).toBe(true);
    const text = paper(model);
    expect(text).toContain(PAY_MESSAGES.REVERSED_UNCONFIRMED.zh);
    expect(text).toContain('如顾客已被扣款，钱款已全额退回顾客');
    expect(text).not.toContain('已退回￥');
    expect(text).not.toMatch(/已退回 +￥/);
    expect(text).not.toContain('钱款已退回顾客');
    expect(textLines(model).some((l) => l.text.startsWith('已退回'))).toBe(false);
    // The amount is named as the order's, not as money returned.
    expect(textLines(model).find((l) => l.role === 'amount')?.text).toMatch(/^订单金额 +￥1,234\.50$/);
    expect(renderHtml(model)).not.toContain('钱款已退回顾客');
  });

  it('the same slip built directly and from stored inputs; the English slip says "any money taken", ASCII only', () => {
    const direct = buildReversalSlip({ terminal: TERMINAL, payment: { ...PAYMENT, reversalUnconfirmed: true } }, T + 61_000, { paper: 58, chinese: true });
    expect(direct.items).toEqual(storedSlip('REVERSED_UNCONFIRMED').items);
    const en = storedSlip('REVERSED_UNCONFIRMED', false);
    const enText = textLines(en).map((l) => l.text.trim()).join(' ');
    expect(enText).toContain('any money taken from the customer was returned in full');
    expect(enText).not.toMatch(/Returned +CNY/);
    expect([...renderEscPos(en, { printerType: 'EPSON' })].filter((b) => b >= 0x80)).toEqual([]);
  });

  it('a confirmed reversal (REVERSED) still prints 已退回 and 钱款已退回顾客', () => {
    const model = storedSlip('REVERSED');
    expect(model.paymentSource?.payment.reversalUnconfirmed).toBeUndefined();
    const text = paper(model);
    expect(text).toMatch(/已退回 +￥1,234\.50/);
    expect(text).toContain('本笔收款已冲正，钱款已退回顾客');
    expect(text).not.toContain('如顾客已被扣款');
  });
});
