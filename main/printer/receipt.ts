/**
 * The receipt model: a list of laid-out lines (with a role and a style) and
 * QR items, built once from domain data and then rendered twice — to ESC/POS
 * bytes (escpos.ts) and to the HTML preview (html.ts). Because all layout
 * (padding, wrapping, language) happens here, the preview and the paper
 * cannot disagree. Two builders: `buildRevokeReceipt` (the only way a revoke
 * receipt is made, original or copy) and `buildTestReceipt` (printer test page).
 */
import type { Order, Revoke, RevokeError, RevokeState, TerminalInfo } from '../domain';
import { formatCny, formatYuan, type Cents } from '../common/money';
import { knownPayway } from '../common/payways';
import { FIELDS } from '../common/glossary';
import { safeText } from '../util/text';
import { formatCst } from '../common/time';
import type { Refund } from '../store/refunds';
import type { Payment } from '../store/payments';
import { COLUMNS, displayWidth, gbPrintable, labelValue, wrap, type PaperWidth } from './width';

export type Align = 'left' | 'center' | 'right';

export type LineRole =
  | 'store'
  | 'title'
  | 'subtitle'
  | 'copy'
  | 'rule'
  | 'field'
  | 'amount'
  | 'outcome'
  | 'reason'
  | 'qr-caption'
  | 'footer'
  | 'text'
  | 'ruler'
  | 'blank';

export interface TextLine {
  type: 'text';
  role: LineRole;
  /** Final text of the printed line: already padded/wrapped to the paper width. */
  text: string;
  align: Align;
  bold: boolean;
  /** Character magnification (width and height); 2 takes twice the columns. */
  size: 1 | 2;
}

export interface QrItem {
  type: 'qr';
  role: 'qr';
  /** ASCII only (checked by the builder): printers store QR data byte for byte. */
  data: string;
}

export type ReceiptItem = TextLine | QrItem;

export interface ReceiptOptions {
  paper: PaperWidth;
  /** false: English labels and ASCII-only text, for printers without a Chinese font. */
  chinese: boolean;
}

export const DEFAULT_RECEIPT_OPTIONS: ReceiptOptions = { paper: 58, chinese: true };

/** The subset of domain data a revoke receipt shows; stored with the model so a copy can be rebuilt. */
export interface RevokeReceiptSource {
  terminal: Pick<TerminalInfo, 'terminalSn' | 'merchantName' | 'storeSn' | 'storeName'>;
  order: Pick<Order, 'sn' | 'clientSn' | 'tradeNo' | 'totalCents' | 'netCents' | 'payway' | 'paywayName' | 'operator' | 'finishedAt'>;
  /** `approverName` may be missing in receipts stored before version 6. */
  revoke: Pick<Revoke, 'id' | 'state' | 'operator' | 'revokedAt' | 'error'> & Partial<Pick<Revoke, 'approverName'>>;
}

/** What a refund receipt is built from (refund-receipt.ts); kept on the model so a reprint rebuilds the same receipt. */
export interface RefundReceiptSource {
  terminal: Pick<TerminalInfo, 'terminalSn' | 'merchantName' | 'storeSn' | 'storeName'>;
  order: Pick<Order, 'sn' | 'clientSn' | 'totalCents' | 'netCents' | 'payway' | 'paywayName' | 'finishedAt'>;
  refund: Pick<Refund, 'id' | 'requestNo' | 'amountCents' | 'refundedAt' | 'operatorName' | 'approverName'>;
}

/** What a payment receipt (or its reversal slip) is built from (pay-receipt.ts). */
export interface PaymentReceiptSource {
  terminal: Pick<TerminalInfo, 'terminalSn' | 'merchantName' | 'storeSn' | 'storeName'>;
  payment: Pick<Payment, 'id' | 'clientSn' | 'orderSn' | 'tradeNo' | 'amountCents' | 'payway' | 'paywayName' | 'operatorName' | 'paidAt' | 'finalAt'> & {
    /**
     * The 撤销/冲正 slip of a REVERSED_UNCONFIRMED payment: the gateway shows
     * the order voided but every answer to our cancel was lost, so whether
     * money had been taken is not known (the slip words it "if any").
     * Absent (stored receipts before it) = a confirmed reversal.
     */
    reversalUnconfirmed?: boolean;
  };
}

export interface ReceiptModel {
  version: 1;
  kind: 'revoke' | 'test' | 'refund' | 'report' | 'payment' | 'payment-slip';
  paper: PaperWidth;
  columns: number;
  chinese: boolean;
  copy: boolean;
  /** Unix ms the model was built (shown as the print time). */
  printedAt: number;
  items: ReceiptItem[];
  /** Revoke receipts only: the inputs, so a reprint is built by the same function. */
  source?: RevokeReceiptSource;
  /** Refund receipts only: the same, for the refund builder (refund-receipt.ts). */
  refundSource?: RefundReceiptSource;
  /** Payment receipts and slips only: the same, for the payment builder (pay-receipt.ts). */
  paymentSource?: PaymentReceiptSource;
}

export interface RevokeReceiptInput {
  terminal: RevokeReceiptSource['terminal'];
  order: RevokeReceiptSource['order'];
  revoke: RevokeReceiptSource['revoke'];
  copy: boolean;
  printedAt: number;
  options: ReceiptOptions;
}

export type Lang = 'zh' | 'en';

/** Receipt labels (zh, en); the refund receipt and the day report use the shared ones too. */
export const LABELS = {
  title: { zh: '撤销凭证', en: 'REVOKE RECEIPT' },
  testTitle: { zh: '打印测试', en: 'PRINTER TEST' },
  copy: { zh: '重打印 COPY', en: '** COPY **' },
  copyFooter: { zh: '重打印凭证 / COPY', en: 'REPRINT / COPY' },
  // The fields: the glossary's words, the same as on the screen.
  terminal: FIELDS.terminal,
  sn: FIELDS.sn,
  clientSn: FIELDS.clientSn,
  tradeNo: FIELDS.tradeNo,
  payway: FIELDS.payway,
  amount: FIELDS.amount,
  net: FIELDS.net,
  revokeAmount: FIELDS.revokeAmount,
  paidAt: FIELDS.paidAt,
  revokedAt: FIELDS.revokedAt,
  cashier: FIELDS.cashier,
  revokedBy: FIELDS.revokedBy,
  approvedBy: FIELDS.approvedBy,
  outcome: { zh: '结果', en: 'Result' },
  reason: { zh: '原因', en: 'Reason' },
  gatewayCode: { zh: '网关返回', en: 'Gateway' },
  printedAt: FIELDS.printedAt,
  time: { zh: '时间', en: 'Time' },
  paper: { zh: '纸宽', en: 'Paper' },
  chineseLine: { zh: '中文测试：撤销凭证 ￥100.00', en: 'Chinese: disabled (ASCII mode)' },
} as const satisfies Record<string, Record<Lang, string>>;

const OUTCOMES: Record<RevokeState, Record<Lang, string>> = {
  revoked: { zh: '撤销成功', en: 'REVOKED' },
  rejected: { zh: '撤销失败', en: 'REJECTED' },
  pending: { zh: '处理中', en: 'PENDING' },
  queued: { zh: '排队待发送', en: 'QUEUED' },
  sending: { zh: '处理中', en: 'IN PROGRESS' },
  needs_attention: { zh: '需人工处理', en: 'NEEDS ATTENTION' },
  expired: { zh: '已过期', en: 'EXPIRED' },
};

const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** Printable ASCII only; anything else becomes '?' so an ASCII printer never gets a code-page switch. */
function asciiOnly(s: string): string {
  return s.replace(/[^\x20-\x7e]/gu, '?');
}

/**
 * Accumulates laid-out lines for one receipt. Text passed here is final
 * content; the builder enforces the language rule (ASCII mode) and the width.
 */
export class Layout {
  readonly items: ReceiptItem[] = [];
  constructor(
    readonly columns: number,
    readonly lang: Lang,
  ) {}

  private clean(s: string): string {
    const text = safeText(s);
    // Chinese mode prints GBK only: what a GBK printer cannot print gets a printable stand-in (width.ts).
    return this.lang === 'en' ? asciiOnly(text) : gbPrintable(text);
  }

  label(key: keyof typeof LABELS): string {
    return LABELS[key][this.lang];
  }

  /** Centered (or other) free text, wrapped to the columns its magnification leaves. */
  text(role: LineRole, text: string, style: { align?: Align; bold?: boolean; size?: 1 | 2 } = {}): void {
    const size = style.size ?? 1;
    for (const piece of wrap(this.clean(text), Math.floor(this.columns / size))) {
      this.items.push({ type: 'text', role, text: piece, align: style.align ?? 'left', bold: style.bold ?? false, size });
    }
  }

  field(role: LineRole, key: keyof typeof LABELS, value: string, bold = false): void {
    for (const line of labelValue(this.label(key), this.clean(value), this.columns)) {
      this.items.push({ type: 'text', role, text: line, align: 'left', bold, size: 1 });
    }
  }

  /** A label and value pair whose label is not one of the revoke receipt's (other receipts bring their own). */
  pair(role: LineRole, label: string, value: string, bold = false): void {
    for (const line of labelValue(this.clean(label), this.clean(value), this.columns)) {
      this.items.push({ type: 'text', role, text: line, align: 'left', bold, size: 1 });
    }
  }

  rule(): void {
    this.items.push({ type: 'text', role: 'rule', text: '-'.repeat(this.columns), align: 'left', bold: false, size: 1 });
  }

  blank(): void {
    this.items.push({ type: 'text', role: 'blank', text: '', align: 'left', bold: false, size: 1 });
  }

  qr(data: string): void {
    if (!isAscii(data) || data.length === 0) throw new RangeError(`QR data must be non-empty printable ASCII: ${JSON.stringify(data)}`);
    this.items.push({ type: 'qr', role: 'qr', data });
  }
}

/**
 * The terminal as a receipt names it: when the gateway gave neither a store
 * nor a merchant name (the real activation answer has only terminal_sn and
 * terminal_key), the store's name from the settings, so no header is empty.
 */
export function withStoreName<T extends RevokeReceiptSource['terminal']>(terminal: T, storeName: string | null | undefined): T {
  const named = [terminal.storeName, terminal.merchantName].some((s) => !!s && s.trim() !== '');
  return named || !storeName ? terminal : { ...terminal, storeName };
}

export function storeHeader(terminal: RevokeReceiptSource['terminal'], lang: Lang): string {
  const candidates = [terminal.storeName, terminal.merchantName].filter((s): s is string => !!s && s.trim() !== '');
  // Never an empty header: at worst the terminal's own number says whose receipt it is.
  if (lang === 'zh') return candidates[0] ?? terminal.storeSn ?? `${FIELDS.terminal.zh} ${terminal.terminalSn}`;
  // An ASCII printer cannot print a Chinese store name: fall back to an ASCII one or the store number.
  return candidates.find(isAscii) ?? (terminal.storeSn ? `Store ${terminal.storeSn}` : 'Store');
}

export function paywayName(order: RevokeReceiptSource['order'], lang: Lang): string {
  const code = order.payway ?? '';
  if (lang === 'en') {
    if (order.paywayName && isAscii(order.paywayName)) return order.paywayName;
    return knownPayway(code, 'en') ?? (code ? `payway ${code}` : '-');
  }
  return order.paywayName ?? knownPayway(code, 'zh') ?? (code || '-');
}

export function money(cents: Cents, lang: Lang): string {
  // The fullwidth ￥ is a GB18030 double-byte char printed in Chinese mode; ASCII printers get "CNY".
  return lang === 'zh' ? formatCny(cents) : `CNY ${formatYuan(cents)}`;
}

function reasonText(error: RevokeError, lang: Lang): string {
  return lang === 'zh' ? error.messageZh : error.messageEn;
}

/** THE revoke receipt builder (original and copy). */
/** A receipt's title: large Chinese with the English below it, or English alone (large when the paper fits it). */
export function receiptTitle(l: Layout, t: Record<Lang, string>, columns: number): void {
  if (l.lang === 'zh') {
    l.text('title', t.zh, { align: 'center', bold: true, size: 2 });
    l.text('subtitle', t.en, { align: 'center', bold: true });
  } else {
    l.text('title', t.en, { align: 'center', bold: true, size: columns >= 2 * t.en.length ? 2 : 1 });
  }
}

export function buildRevokeReceipt(input: RevokeReceiptInput): ReceiptModel {
  const { terminal, order, revoke, copy, printedAt, options } = input;
  const columns = COLUMNS[options.paper];
  const lang: Lang = options.chinese ? 'zh' : 'en';
  const l = new Layout(columns, lang);

  l.text('store', storeHeader(terminal, lang), { align: 'center', bold: true });
  receiptTitle(l, LABELS.title, columns);
  if (copy) l.text('copy', l.label('copy'), { align: 'center', bold: true, size: 2 });
  l.rule();
  l.field('field', 'terminal', terminal.terminalSn);
  l.field('field', 'sn', order.sn);
  l.field('field', 'clientSn', order.clientSn);
  l.field('field', 'tradeNo', order.tradeNo ?? '-');
  l.field('field', 'payway', paywayName(order, lang));
  l.field('amount', 'amount', money(order.totalCents, lang), true);
  // A revoked order's amount went back whole: said as such, not as a remaining ￥0.00.
  if (revoke.state === 'revoked') l.field('amount', 'revokeAmount', money(order.totalCents, lang));
  else if (order.netCents !== order.totalCents) l.field('amount', 'net', money(order.netCents, lang));
  l.field('field', 'paidAt', formatCst(order.finishedAt));
  l.field('field', 'revokedAt', revoke.revokedAt === null ? '-' : formatCst(revoke.revokedAt));
  // The payment's operator (from the gateway) and who voided it are different people, named apart.
  l.field('field', 'cashier', order.operator ?? '-');
  l.field('field', 'revokedBy', revoke.operator ?? '-');
  if (revoke.approverName) l.field('field', 'approvedBy', revoke.approverName);
  l.rule();
  l.field('outcome', 'outcome', OUTCOMES[revoke.state][lang], true);
  if (revoke.error) {
    l.field('reason', 'reason', reasonText(revoke.error, lang));
    if (revoke.error.gatewayCode) l.field('reason', 'gatewayCode', revoke.error.gatewayCode);
  }
  l.rule();
  l.qr(order.sn);
  l.text('qr-caption', order.sn, { align: 'center' });
  l.field('footer', 'printedAt', formatCst(printedAt));
  if (copy) l.text('copy', l.label('copyFooter'), { align: 'center', bold: true });

  return {
    version: 1,
    kind: 'revoke',
    paper: options.paper,
    columns,
    chinese: options.chinese,
    copy,
    printedAt,
    items: l.items,
    source: receiptSource(input),
  };
}

/** The terminal's part of a receipt's source (every kind), copied field by field so nothing beyond it is persisted. */
export function receiptTerminalOf(t: RevokeReceiptSource['terminal']): RevokeReceiptSource['terminal'] {
  return { terminalSn: t.terminalSn, merchantName: t.merchantName, storeSn: t.storeSn, storeName: t.storeName };
}

/** The receipt's own data, copied field by field so nothing beyond it is persisted. */
export function receiptSource(input: Pick<RevokeReceiptInput, 'terminal' | 'order' | 'revoke'>): RevokeReceiptSource {
  const { terminal, order, revoke } = input;
  return {
      terminal: receiptTerminalOf(terminal),
      order: {
        sn: order.sn,
        clientSn: order.clientSn,
        tradeNo: order.tradeNo,
        totalCents: order.totalCents,
        netCents: order.netCents,
        payway: order.payway,
        paywayName: order.paywayName,
        operator: order.operator,
        finishedAt: order.finishedAt,
      },
      revoke: { id: revoke.id, state: revoke.state, operator: revoke.operator, approverName: revoke.approverName ?? null, revokedAt: revoke.revokedAt, error: revoke.error },
  };
}

/** A copy of a stored revoke receipt: rebuilt by the same builder with the COPY marker and a new print time. */
export function buildRevokeReceiptCopy(original: ReceiptModel, printedAt: number, options?: ReceiptOptions): ReceiptModel {
  if (original.kind !== 'revoke' || !original.source) throw new RangeError('only a revoke receipt can be reprinted');
  return buildRevokeReceipt({
    ...original.source,
    copy: true,
    printedAt,
    options: options ?? { paper: original.paper, chinese: original.chinese },
  });
}

export interface TestReceiptInput {
  terminal: Pick<TerminalInfo, 'terminalSn' | 'merchantName' | 'storeSn' | 'storeName'> | null;
  printedAt: number;
  options: ReceiptOptions;
}

/** Printer test page: identity, time, a Chinese line and rulers to check the paper width. */
export function buildTestReceipt(input: TestReceiptInput): ReceiptModel {
  const { terminal, printedAt, options } = input;
  const columns = COLUMNS[options.paper];
  const lang: Lang = options.chinese ? 'zh' : 'en';
  const l = new Layout(columns, lang);
  if (terminal) l.text('store', storeHeader(terminal, lang), { align: 'center', bold: true });
  l.text('title', l.label('testTitle'), { align: 'center', bold: true, size: 2 });
  if (lang === 'zh') l.text('subtitle', LABELS.testTitle.en, { align: 'center', bold: true });
  l.rule();
  l.field('field', 'terminal', terminal?.terminalSn ?? '-');
  l.field('field', 'time', formatCst(printedAt));
  l.field('field', 'paper', `${options.paper}mm / ${columns}`);
  l.text('text', l.label('chineseLine'));
  // Rulers: the last digit must sit in the last column; the fullwidth ruler checks CJK = 2 columns.
  l.text('ruler', Array.from({ length: columns }, (_, i) => String((i + 1) % 10)).join(''));
  if (lang === 'zh') l.text('ruler', Array.from({ length: columns / 2 }, (_, i) => String.fromCodePoint(0xff10 + ((i + 1) % 10))).join(''));
  l.rule();
  l.qr('UPAY-POS-TEST');
  l.text('qr-caption', 'UPAY-POS-TEST', { align: 'center' });
  return { version: 1, kind: 'test', paper: options.paper, columns, chinese: options.chinese, copy: false, printedAt, items: l.items };
}

/** Every text line's printed width fits the paper (used by tests and as a builder self-check). */
export function lineFits(line: TextLine, columns: number): boolean {
  return displayWidth(line.text) * line.size <= columns;
}
