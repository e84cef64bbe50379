/**
 * The payment receipt (收款凭证), printed once when a payment is paid, and the
 * short 撤销/冲正 slip, printed only when a reversal gave back money that had
 * been taken. Same receipt model and renderers as the revoke receipt.
 */
import { formatCst } from '../common/time';
import type { TerminalInfo } from '../domain';
import type { Payment } from '../store/payments';
import { LABELS, Layout, money, paywayName, receiptTitle, storeHeader, type Lang, type ReceiptModel, type ReceiptOptions } from './receipt';
import { COLUMNS } from './width';

const L = {
  payTitle: { zh: '收款凭证', en: 'PAYMENT RECEIPT' },
  slipTitle: { zh: '撤销/冲正', en: 'PAYMENT REVERSED' },
  amount: { zh: '收款金额', en: 'Amount' },
  returned: { zh: '已退回', en: 'Returned' },
  reversedAt: { zh: '冲正时间', en: 'Reversed at' },
  slipNote: { zh: '本笔收款已冲正，钱款已退回顾客', en: 'This payment was reversed; the money went back to the customer' },
  scanLater: { zh: '扫码查询本笔订单', en: 'Scan to look this order up' },
} satisfies Record<string, Record<Lang, string>>;

export type PaymentReceiptSource = {
  terminal: Pick<TerminalInfo, 'terminalSn' | 'merchantName' | 'storeSn' | 'storeName'>;
  payment: Pick<Payment, 'id' | 'clientSn' | 'orderSn' | 'tradeNo' | 'amountCents' | 'payway' | 'paywayName' | 'operatorName' | 'paidAt' | 'finalAt'>;
};

function head(l: Layout, s: PaymentReceiptSource, lang: Lang): void {
  l.pair('field', LABELS.terminal[lang], s.terminal.terminalSn);
  l.pair('field', LABELS.sn[lang], s.payment.orderSn ?? '-');
  l.pair('field', LABELS.clientSn[lang], s.payment.clientSn);
  const p = s.payment;
  l.pair('field', LABELS.payway[lang], paywayName({ sn: p.orderSn ?? '', clientSn: p.clientSn, tradeNo: null, totalCents: p.amountCents, netCents: p.amountCents, payway: p.payway, paywayName: p.paywayName, operator: null, finishedAt: 0 }, lang));
}

/** 收款凭证: sn, client_sn, amount, payway, cashier, and the order's QR for later scans. */
export function buildPaymentReceipt(source: PaymentReceiptSource, printedAt: number, options: ReceiptOptions): ReceiptModel {
  const columns = COLUMNS[options.paper];
  const lang: Lang = options.chinese ? 'zh' : 'en';
  const l = new Layout(columns, lang);
  const p = source.payment;
  l.text('store', storeHeader(source.terminal, lang), { align: 'center', bold: true });
  receiptTitle(l, L.payTitle, columns);
  l.rule();
  head(l, source, lang);
  if (p.tradeNo) l.pair('field', LABELS.tradeNo[lang], p.tradeNo);
  l.pair('amount', L.amount[lang], money(p.amountCents, lang), true);
  l.pair('field', LABELS.paidAt[lang], p.paidAt === null ? '-' : formatCst(p.paidAt));
  l.pair('field', LABELS.cashier[lang], p.operatorName || '-');
  l.rule();
  const code = p.orderSn ?? p.clientSn;
  l.qr(code);
  l.text('qr-caption', L.scanLater[lang], { align: 'center' });
  l.pair('footer', LABELS.printedAt[lang], formatCst(printedAt));
  return { version: 1, kind: 'payment', paper: options.paper, columns, chinese: options.chinese, copy: false, printedAt, items: l.items };
}

/** The short 撤销/冲正 slip: the money taken went back. */
export function buildReversalSlip(source: PaymentReceiptSource, printedAt: number, options: ReceiptOptions): ReceiptModel {
  const columns = COLUMNS[options.paper];
  const lang: Lang = options.chinese ? 'zh' : 'en';
  const l = new Layout(columns, lang);
  const p = source.payment;
  l.text('store', storeHeader(source.terminal, lang), { align: 'center', bold: true });
  receiptTitle(l, L.slipTitle, columns);
  l.rule();
  head(l, source, lang);
  l.pair('amount', L.returned[lang], money(p.amountCents, lang), true);
  l.pair('field', L.reversedAt[lang], p.finalAt === null ? '-' : formatCst(p.finalAt));
  l.pair('field', LABELS.cashier[lang], p.operatorName || '-');
  l.text('outcome', L.slipNote[lang], { align: 'center' });
  l.pair('footer', LABELS.printedAt[lang], formatCst(printedAt));
  return { version: 1, kind: 'payment-slip', paper: options.paper, columns, chinese: options.chinese, copy: false, printedAt, items: l.items };
}
