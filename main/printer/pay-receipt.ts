/**
 * The payment receipt (收款凭证), printed once when a payment is paid, and the
 * short 撤销/冲正 slip, printed only when a reversal gave back money that had
 * been taken. Same receipt model and renderers as the revoke receipt.
 */
import { FIELDS } from '../common/glossary';
import { formatCst } from '../common/time';
import { LABELS, Layout, money, paywayName, receiptTerminalOf, receiptTitle, storeHeader, type Lang, type PaymentReceiptSource, type ReceiptModel, type ReceiptOptions } from './receipt';
import { COLUMNS } from './width';
import { REVERSED_UNCONFIRMED, type PaymentError } from '../store/payments';

const L = {
  payTitle: { zh: '收款凭证', en: 'PAYMENT RECEIPT' },
  slipTitle: { zh: '撤销/冲正', en: 'PAYMENT REVERSED' },
  amount: FIELDS.payAmount,
  returned: FIELDS.returned,
  reversedAt: FIELDS.reversedAt,
  slipNote: { zh: '本笔收款已冲正，钱款已退回顾客', en: 'This payment was reversed; the money went back to the customer' },
  /** REVERSED_UNCONFIRMED: the screen's words (operations/pay/messages.ts PAY_MESSAGES.REVERSED_UNCONFIRMED), word for word. */
  slipNoteUnconfirmed: {
    zh: '未收款：已冲正（收钱吧显示本单已撤单）；如顾客已被扣款，钱款已全额退回顾客',
    en: 'Not paid: reversed (Upay shows the order canceled); any money taken from the customer was returned in full',
  },
  scanLater: { zh: '扫码查询本笔订单', en: 'Scan to look this order up' },
} satisfies Record<string, Record<Lang, string>>;

export type { PaymentReceiptSource };

/**
 * The receipt's own data, copied field by field so nothing beyond it is
 * persisted. Given the payment's error, a REVERSED_UNCONFIRMED reversal is
 * kept as `reversalUnconfirmed` (the slip's wording depends on it).
 */
export function paymentSource(s: { terminal: PaymentReceiptSource['terminal']; payment: PaymentReceiptSource['payment'] & { error?: Pick<PaymentError, 'code'> | null } }): PaymentReceiptSource {
  const { terminal: t, payment: p } = s;
  const unconfirmed = p.reversalUnconfirmed === true || p.error?.code === REVERSED_UNCONFIRMED;
  return {
    terminal: receiptTerminalOf(t),
    payment: {
      id: p.id,
      clientSn: p.clientSn,
      orderSn: p.orderSn,
      tradeNo: p.tradeNo,
      amountCents: p.amountCents,
      payway: p.payway,
      paywayName: p.paywayName,
      operatorName: p.operatorName,
      paidAt: p.paidAt,
      finalAt: p.finalAt,
      ...(unconfirmed ? { reversalUnconfirmed: true } : {}),
    },
  };
}

/** Both receipts: one builder, the body of each is its own (`body`), the frame (store, title, order, footer) shared. */
function build(source: PaymentReceiptSource, printedAt: number, options: ReceiptOptions, kind: 'payment' | 'payment-slip', body: (l: Layout, lang: Lang) => void): ReceiptModel {
  const columns = COLUMNS[options.paper];
  const lang: Lang = options.chinese ? 'zh' : 'en';
  const l = new Layout(columns, lang);
  const p = source.payment;
  l.text('store', storeHeader(source.terminal, lang), { align: 'center', bold: true });
  receiptTitle(l, kind === 'payment' ? L.payTitle : L.slipTitle, columns);
  l.rule();
  l.pair('field', LABELS.terminal[lang], source.terminal.terminalSn);
  l.pair('field', LABELS.sn[lang], p.orderSn ?? '-');
  l.pair('field', LABELS.clientSn[lang], p.clientSn);
  const order = { sn: p.orderSn ?? '', clientSn: p.clientSn, tradeNo: null, totalCents: p.amountCents, netCents: p.amountCents, payway: p.payway, paywayName: p.paywayName, operator: null, finishedAt: 0 };
  l.pair('field', LABELS.payway[lang], paywayName(order, lang));
  body(l, lang);
  l.pair('footer', LABELS.printedAt[lang], formatCst(printedAt));
  return { version: 1, kind, paper: options.paper, columns, chinese: options.chinese, copy: false, printedAt, items: l.items, paymentSource: paymentSource(source) };
}

/** 收款凭证: sn, client_sn, amount, payway, cashier, and the order's QR for later scans. */
export function buildPaymentReceipt(source: PaymentReceiptSource, printedAt: number, options: ReceiptOptions): ReceiptModel {
  const p = source.payment;
  return build(source, printedAt, options, 'payment', (l, lang) => {
    if (p.tradeNo) l.pair('field', LABELS.tradeNo[lang], p.tradeNo);
    l.pair('amount', L.amount[lang], money(p.amountCents, lang), true);
    l.pair('field', LABELS.paidAt[lang], p.paidAt === null ? '-' : formatCst(p.paidAt));
    l.pair('field', LABELS.cashier[lang], p.operatorName || '-');
    l.rule();
    l.qr(p.orderSn ?? p.clientSn);
    l.text('qr-caption', L.scanLater[lang], { align: 'center' });
  });
}

/**
 * The short 撤销/冲正 slip: the money taken went back (REVERSED). For a
 * REVERSED_UNCONFIRMED reversal (the gateway shows the order voided, every
 * answer to our cancel lost) whether money had been taken is not known: the
 * slip names the order's amount, not an amount "returned", and says what the
 * screen says — if the customer was charged, it went back in full.
 */
export function buildReversalSlip(source: PaymentReceiptSource, printedAt: number, options: ReceiptOptions): ReceiptModel {
  const p = source.payment;
  const unconfirmed = p.reversalUnconfirmed === true;
  return build(source, printedAt, options, 'payment-slip', (l, lang) => {
    l.pair('amount', unconfirmed ? FIELDS.amount[lang] : L.returned[lang], money(p.amountCents, lang), true);
    l.pair('field', L.reversedAt[lang], p.finalAt === null ? '-' : formatCst(p.finalAt));
    l.pair('field', LABELS.cashier[lang], p.operatorName || '-');
    l.text('outcome', unconfirmed ? L.slipNoteUnconfirmed[lang] : L.slipNote[lang], { align: 'center' });
  });
}
