/**
 * The refund receipt (退款凭证) and the day report (日结) on the same receipt
 * model as the revoke receipt (receipt.ts's Layout): laid out once, rendered
 * to ESC/POS and HTML by the same renderers, so preview and paper agree.
 */
import { FIELDS, stateTerm } from '../common/glossary';
import { knownPayway } from '../common/payways';
import { formatCst } from '../common/time';
import type { DayReport } from '../report/day';
import { LABELS, Layout, money, paywayName, receiptTerminalOf, receiptTitle, storeHeader, type Lang, type ReceiptModel, type ReceiptOptions, type RefundReceiptSource } from './receipt';
import { COLUMNS } from './width';

type Text = Record<Lang, string>;

const L = {
  copy: LABELS.copy,
  copyFooter: LABELS.copyFooter,
  terminal: LABELS.terminal,
  sn: LABELS.sn,
  clientSn: LABELS.clientSn,
  payway: LABELS.payway,
  paidAt: LABELS.paidAt,
  printedAt: LABELS.printedAt,
  approver: LABELS.approvedBy,
  refundTitle: { zh: '退款凭证', en: 'REFUND RECEIPT' },
  reportTitle: { zh: '日结', en: 'DAY REPORT' },
  total: FIELDS.amount,
  refund: FIELDS.refundAmount,
  left: FIELDS.refundable,
  requestNo: FIELDS.requestNo,
  refundedAt: FIELDS.refundedAt,
  operator: FIELDS.refundedBy,
  day: FIELDS.businessDay,
  payments: { zh: '收款', en: 'Payments' },
  revokes: { zh: '撤销', en: 'Revokes' },
  refunds: { zh: '退款', en: 'Refunds' },
  net: { zh: '净收', en: 'Net' },
  byPayway: { zh: '按支付方式', en: 'By payment method' },
  byOperator: { zh: '按操作员', en: 'By operator' },
  open: { zh: '未完成', en: 'Still open' },
  none: { zh: '无', en: 'none' },
  reconciled: { zh: '核对无误', en: 'Reconciled' },
  reconciledOpen: { zh: '已完成的核对无误；仍有未完成', en: 'Finished ones reconciled; some still open' },
  counter: { zh: '本机收款', en: 'Taken at this counter' },
  returned: { zh: '冲正退回', en: 'Returned (reversal)' },
  elsewhere: { zh: '其他途径退回', en: 'Returned elsewhere' },
  openPayments: { zh: '收款未完成', en: 'Payments still open' },
  notReconciled: { zh: '核对不符！', en: 'NOT RECONCILED!' },
} satisfies Record<string, Text>;

export type { RefundReceiptSource } from './receipt';

/** THE refund receipt builder (original and copy). */
export function buildRefundReceipt(source: RefundReceiptSource, copy: boolean, printedAt: number, options: ReceiptOptions): ReceiptModel {
  const columns = COLUMNS[options.paper];
  const lang: Lang = options.chinese ? 'zh' : 'en';
  const l = new Layout(columns, lang);
  const { terminal, order, refund } = source;
  l.text('store', storeHeader(terminal, lang), { align: 'center', bold: true });
  receiptTitle(l, L.refundTitle, columns);
  if (copy) l.text('copy', L.copy[lang], { align: 'center', bold: true, size: 2 });
  l.rule();
  l.pair('field', L.terminal[lang], terminal.terminalSn);
  l.pair('field', L.sn[lang], order.sn);
  l.pair('field', L.clientSn[lang], order.clientSn);
  l.pair('field', L.payway[lang], paywayName({ ...order, tradeNo: null, operator: null }, lang));
  l.pair('field', L.total[lang], money(order.totalCents, lang));
  l.pair('amount', L.refund[lang], money(refund.amountCents, lang), true);
  l.pair('field', L.left[lang], money(order.netCents, lang));
  l.pair('field', L.requestNo[lang], refund.requestNo);
  l.pair('field', L.paidAt[lang], formatCst(order.finishedAt));
  l.pair('field', L.refundedAt[lang], refund.refundedAt === null ? '-' : formatCst(refund.refundedAt));
  l.pair('field', L.operator[lang], refund.operatorName || '-');
  l.pair('field', L.approver[lang], refund.approverName ?? '-');
  l.rule();
  l.qr(order.sn);
  l.text('qr-caption', order.sn, { align: 'center' });
  l.pair('footer', L.printedAt[lang], formatCst(printedAt));
  if (copy) l.text('copy', L.copyFooter[lang], { align: 'center', bold: true });
  return { version: 1, kind: 'refund', paper: options.paper, columns, chinese: options.chinese, copy, printedAt, items: l.items, refundSource: refundSource(source) };
}

/** The receipt's own data, copied field by field so nothing beyond it is persisted. */
export function refundSource(s: RefundReceiptSource): RefundReceiptSource {
  const { terminal: t, order: o, refund: r } = s;
  return {
    terminal: receiptTerminalOf(t),
    order: { sn: o.sn, clientSn: o.clientSn, totalCents: o.totalCents, netCents: o.netCents, payway: o.payway, paywayName: o.paywayName, finishedAt: o.finishedAt },
    refund: { id: r.id, requestNo: r.requestNo, amountCents: r.amountCents, refundedAt: r.refundedAt, operatorName: r.operatorName, approverName: r.approverName },
  };
}

/** A copy of a stored refund receipt: rebuilt by the same builder with the COPY marker and a new print time. */
export function buildRefundReceiptCopy(original: ReceiptModel, printedAt: number, options?: ReceiptOptions): ReceiptModel {
  if (original.kind !== 'refund' || !original.refundSource) throw new RangeError('not a refund receipt');
  return buildRefundReceipt(original.refundSource, true, printedAt, options ?? { paper: original.paper, chinese: original.chinese });
}

/** The day report on paper. */
export function buildDayReportReceipt(
  report: DayReport,
  terminal: RefundReceiptSource['terminal'] | null,
  printedAt: number,
  options: ReceiptOptions,
): ReceiptModel {
  const columns = COLUMNS[options.paper];
  const lang: Lang = options.chinese ? 'zh' : 'en';
  const l = new Layout(columns, lang);
  const tally = (t: { count: number; cents: number }) => `${t.count} / ${money(t.cents, lang)}`;
  if (terminal) l.text('store', storeHeader(terminal, lang), { align: 'center', bold: true });
  receiptTitle(l, L.reportTitle, columns);
  l.rule();
  if (terminal) l.pair('field', L.terminal[lang], terminal.terminalSn);
  l.pair('field', L.day[lang], report.day);
  l.rule();
  l.pair('amount', L.payments[lang], tally(report.payments));
  l.pair('amount', L.revokes[lang], tally(report.revokes));
  l.pair('amount', L.refunds[lang], tally(report.refunds));
  // Money the gateway shows returned without a revoke or refund here: printed only when there is any.
  const elsewhere = report.returnedElsewhere as DayReport['returnedElsewhere'] | undefined;
  if (elsewhere && elsewhere.count > 0) l.pair('amount', L.elsewhere[lang], tally(elsewhere));
  l.pair('amount', L.net[lang], money(report.netCents, lang), true);
  l.rule();
  l.text('subtitle', L.byPayway[lang], { bold: true });
  for (const p of report.byPayway) {
    const name = lang === 'zh' ? (p.paywayName ?? knownPayway(p.payway, 'zh') ?? (p.payway || '-')) : (knownPayway(p.payway, 'en') ?? (p.payway ? `payway ${p.payway}` : '-'));
    l.text('field', name, { bold: true });
    l.pair('field', `  ${L.payments[lang]}`, tally(p.payments));
    l.pair('field', `  ${L.revokes[lang]}`, tally(p.revokes));
    l.pair('field', `  ${L.refunds[lang]}`, tally(p.refunds));
    const e = elsewhere?.byPayway.find((x) => x.payway === p.payway);
    if (e && e.count > 0) l.pair('field', `  ${L.elsewhere[lang]}`, tally(e));
    l.pair('field', `  ${L.net[lang]}`, money(p.netCents, lang));
  }
  l.rule();
  l.text('subtitle', L.byOperator[lang], { bold: true });
  for (const o of report.byOperator) {
    l.text('field', o.operator, { bold: true });
    l.pair('field', `  ${L.payments[lang]}`, tally(o.payments));
    l.pair('field', `  ${L.revokes[lang]}`, tally(o.revokes));
    l.pair('field', `  ${L.refunds[lang]}`, tally(o.refunds));
    const e = elsewhere?.byOperator.find((x) => x.operator === o.operator);
    if (e && e.count > 0) l.pair('field', `  ${L.elsewhere[lang]}`, tally(e));
  }
  l.rule();
  if (elsewhere && elsewhere.count > 0) {
    // Which orders: to be followed up (another till, the merchant app), each with the amount that went back.
    l.text('subtitle', L.elsewhere[lang], { bold: true });
    for (const o of elsewhere.orders) l.pair('reason', `  ${o.orderSn}`, money(o.cents, lang));
    l.rule();
  }
  l.text('subtitle', L.open[lang], { bold: true });
  l.pair('field', `  ${L.revokes[lang]}`, tally(report.open.revokes));
  l.pair('field', `  ${L.refunds[lang]}`, tally(report.open.refunds));
  // The state in the paper's language (the glossary's words), never the state machine's own name.
  for (const i of report.open.items) l.pair('reason', `  ${i.orderSn}`, `${stateTerm(i.kind, i.state)[lang]} ${money(i.amountCents, lang)}`);
  l.rule();
  const cp = report.counterPayments;
  if (cp) {
    l.text('subtitle', L.counter[lang], { bold: true });
    l.pair('field', `  ${L.payments[lang]}`, tally(cp.taken));
    l.pair('field', `  ${L.returned[lang]}`, tally(cp.returned));
    l.pair('field', `  ${L.net[lang]}`, money(cp.netCents, lang));
    for (const o of cp.byOperator) l.pair('field', `  ${o.operator}`, money(o.netCents, lang));
    l.text('subtitle', L.openPayments[lang], { bold: true });
    if (cp.open.length === 0) l.text('field', `  ${L.none[lang]}`);
    for (const i of cp.open) l.pair('reason', `  ${i.clientSn}`, `${stateTerm('pay', i.state)[lang]} ${money(i.amountCents, lang)}`);
    l.rule();
  }
  const stillOpen = report.open.items.length > 0 || (cp?.open.length ?? 0) > 0;
  const verdict = !report.reconciled ? L.notReconciled : stillOpen ? L.reconciledOpen : L.reconciled;
  l.text('outcome', verdict[lang], { align: 'center', bold: true });
  l.pair('footer', L.printedAt[lang], formatCst(printedAt));
  return { version: 1, kind: 'report', paper: options.paper, columns, chinese: options.chinese, copy: false, printedAt, items: l.items };
}
