/**
 * One glossary (main/common/glossary.ts) for the screen, the receipts and
 * the docs: the same field has the same word on the cashier's screen and on
 * the paper, in both languages; no receipt has an empty header; the day
 * report says states in the paper's language.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIELDS, OPERATION_STATES, type Field } from '../../main/common/glossary';
import { receiptLines } from '../../main/common/receipt-text';
import { buildRevokeReceipt, LABELS, withStoreName } from '../../main/printer/receipt';
import { buildDayReportReceipt, buildRefundReceipt } from '../../main/printer/refund-receipt';
import type { DayReport } from '../../main/report/day';
import { DICTIONARIES, type MessageKey } from '../../renderer/src/i18n';

/** The screen's message for each glossary field it shows (detail rows, refund rows, approval). */
const SCREEN: Partial<Record<Field, MessageKey>> = {
  sn: 'detail.sn',
  clientSn: 'detail.clientSn',
  tradeNo: 'detail.tradeNo',
  payway: 'detail.payway',
  paidAt: 'detail.paidAt',
  cashier: 'detail.operator',
  net: 'detail.net',
  subject: 'detail.subject',
  revokedAt: 'outcome.revokedAt',
  refundAmount: 'refund.amount',
  requestNo: 'refund.requestNo',
  refundedBy: 'refund.operator',
  approvedBy: 'refund.approver',
  refundedAt: 'refund.refundedAt',
  approverPin: 'approval.pin',
  payAmount: 'pay.amount',
};

/** The revoke receipt's label for each glossary field it prints. */
const PAPER: Partial<Record<Field, keyof typeof LABELS>> = {
  sn: 'sn',
  clientSn: 'clientSn',
  tradeNo: 'tradeNo',
  payway: 'payway',
  amount: 'amount',
  net: 'net',
  paidAt: 'paidAt',
  revokedAt: 'revokedAt',
  cashier: 'cashier',
  revokedBy: 'revokedBy',
  approvedBy: 'approvedBy',
  printedAt: 'printedAt',
  terminal: 'terminal',
};

const T = Date.UTC(2026, 4, 22, 2, 0, 0);
const terminal: { terminalSn: string; merchantName: string | null; storeSn: string | null; storeName: string | null } = {
  terminalSn: '100000330009876543',
  merchantName: null,
  storeSn: null,
  storeName: null,
};
const order = { sn: '7894259244096543', clientSn: 'POS-1', tradeNo: '4200001234', totalCents: 5000, netCents: 3766, payway: '3', paywayName: '微信', operator: '小王', finishedAt: T };

describe('one glossary for screen, receipt and docs', () => {
  it('the screen and the receipt use the same words for the same fields, in zh-CN and en', () => {
    const both = (Object.keys(SCREEN) as Field[]).filter((f) => f in PAPER);
    expect(both.length).toBeGreaterThanOrEqual(8);
    for (const f of both) {
      const paper = LABELS[PAPER[f]!];
      expect(DICTIONARIES['zh-CN'][SCREEN[f]!], f).toBe(paper.zh);
      expect(DICTIONARIES.en[SCREEN[f]!], f).toBe(paper.en);
    }
    for (const [f, key] of Object.entries(SCREEN) as Array<[Field, MessageKey]>) {
      expect(DICTIONARIES['zh-CN'][key], f).toBe(FIELDS[f].zh);
      expect(DICTIONARIES.en[key], f).toBe(FIELDS[f].en);
    }
    for (const [f, key] of Object.entries(PAPER) as Array<[Field, keyof typeof LABELS]>) expect(LABELS[key], f).toEqual(FIELDS[f]);
  });

  it('the printed receipts carry the glossary words (收银员, 收钱吧订单号, 支付通道流水号), and a revoked order says 撤销金额, not 实收金额 ￥0.00', () => {
    const model = buildRevokeReceipt({
      terminal: { ...terminal, storeName: '沙箱一号店' },
      order: { ...order, netCents: 0 },
      revoke: { id: 1, state: 'revoked', operator: '小李', approverName: null, revokedAt: T + 1000, error: null },
      copy: false,
      printedAt: T + 2000,
      options: { paper: 80, chinese: true },
    });
    const text = receiptLines(model.items).join('\n');
    for (const word of ['收银员', '收钱吧订单号', '支付通道流水号', '撤销金额']) expect(text).toContain(word);
    for (const old of ['收款员', '交易流水号', '实收金额']) expect(text).not.toMatch(new RegExp(`(^|\\n)${old}`));
  });

  it('a receipt never prints an empty header: the settings name the store when the gateway did not', () => {
    const refund = { id: 1, requestNo: '1', amountCents: 1234, refundedAt: T, operatorName: '小王', approverName: null };
    const header = (t: typeof terminal) => receiptLines(buildRefundReceipt({ terminal: t, order, refund }, false, T, { paper: 58, chinese: true }).items)[0]!.trim();
    expect(header(withStoreName(terminal, '沙箱一号店'))).toBe('沙箱一号店');
    // A gateway name wins over the settings.
    expect(header(withStoreName({ ...terminal, merchantName: '收钱吧商户' }, '沙箱一号店'))).toBe('收钱吧商户');
    // Nothing anywhere: the terminal number, never a blank line.
    expect(header(withStoreName(terminal, null))).toBe(`终端号 ${terminal.terminalSn}`);
  });

  it('the day report prints open operations in the paper’s language, never a state machine name', () => {
    const tally = { count: 0, cents: 0 };
    const report: DayReport = {
      day: '2026-05-22',
      generatedAt: T,
      payments: tally,
      revokes: tally,
      refunds: tally,
      returnedElsewhere: { ...tally, byPayway: [], byOperator: [], orders: [] },
      netCents: 0,
      byPayway: [],
      byOperator: [],
      check: { ordersNetCents: 0, returnedOnOtherDaysCents: 0, returnedForOtherOrdersCents: 0, mismatches: [] },
      open: {
        items: [
          { kind: 'revoke', id: 1, orderSn: '7894259244096543', state: 'needs_attention', amountCents: 2550 },
          { kind: 'refund', id: 2, orderSn: '7894259244096544', state: 'queued', amountCents: 234 },
        ],
        revokes: { count: 1, cents: 2550 },
        refunds: { count: 1, cents: 234 },
      },
      reconciled: true,
    } as DayReport;
    const zh = receiptLines(buildDayReportReceipt(report, terminal, T, { paper: 58, chinese: true }).items).join('\n');
    expect(zh).toContain(OPERATION_STATES.revoke.needs_attention!.zh);
    expect(zh).toContain(OPERATION_STATES.refund.queued!.zh);
    expect(zh).not.toMatch(/needs_attention|queued/);
    // "核对无误" alone would read as if nothing were left to do.
    expect(zh).not.toMatch(/(^|\n)\s*核对无误\s*($|\n)/);
    const en = receiptLines(buildDayReportReceipt(report, terminal, T, { paper: 58, chinese: false }).items).join('\n');
    expect(en).toContain('Revoke needs attention');
  });

  it('docs/glossary.md lists every field with the glossary’s words', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'glossary.md'), 'utf8');
    for (const term of Object.values(FIELDS)) expect(doc).toContain(`| ${term.zh} | ${term.en} |`);
  });
});
