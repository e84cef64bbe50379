/**
 * Receipt model, layout (CJK = 2 columns), ESC/POS rendering for EPSON and
 * STAR, the HTML preview carrying the same lines as the decoded bytes, the
 * ASCII-only mode, and the golden bytes of one receipt.
 */
import { describe, expect, it } from 'vitest';
import { expectGolden, textLines } from '../support/golden';
import {
  buildRevokeReceipt,
  buildRevokeReceiptCopy,
  buildTestReceipt,
  displayWidth,
  labelValue,
  lineFits,
  renderEscPos,
  renderHtml,
  wrap,
  type PrinterType,
  type ReceiptModel,
  type RevokeReceiptInput,
} from '../../main/printer';
import { decodeEscPos } from '../../main/sandbox/escpos-decoder';
import { businessDayStart } from '../../main/common/time';

const HOUR = 3_600_000;
const PAID = businessDayStart('2026-05-22') + 10 * HOUR;
const REVOKED = PAID + 5 * 60_000;

function input(over: Partial<RevokeReceiptInput> = {}): RevokeReceiptInput {
  return {
    terminal: { terminalSn: '100000330009876543', merchantName: '收钱吧测试商户', storeSn: 'S0001', storeName: '上海徐汇旗舰店' },
    order: {
      sn: '7895259244996021',
      clientSn: 'POS-20260522-0001',
      tradeNo: '4200002173202605222734561234',
      totalCents: 10000,
      netCents: 10000,
      payway: '3',
      paywayName: '微信',
      operator: 'cashier-01',
      finishedAt: PAID,
    },
    revoke: { id: 7, state: 'revoked', operator: '张三', approverName: '李主管', revokedAt: REVOKED, error: null },
    copy: false,
    printedAt: REVOKED + 3000,
    options: { paper: 58, chinese: true },
    ...over,
  };
}


/** Lines of the HTML fragment, unescaped: what the cashier reads on screen. */
function htmlLines(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<div class="rl ([^"]*)"[^>]*>(.*?)<\/div>/g)) {
    if ((m[1] ?? '').split(' ').includes('rl--qr')) continue;
    out.push((m[2] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
  }
  return out;
}

describe('column arithmetic', () => {
  it('counts CJK and fullwidth forms as two columns', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('撤销凭证')).toBe(8);
    expect(displayWidth('￥100.00')).toBe(8);
    expect(displayWidth('重打印 COPY')).toBe(11);
  });
  it('puts label left and value right, or wraps the value right-aligned', () => {
    expect(labelValue('金额', '￥100.00', 32)).toEqual(['金额' + ' '.repeat(20) + '￥100.00']);
    const wrapped = labelValue('交易流水号', 'x'.repeat(40), 32);
    expect(wrapped[0]).toBe('交易流水号');
    expect(wrapped.slice(1).map(displayWidth)).toEqual([32, 32]);
    expect(wrapped.slice(1).join('').replace(/ /g, '')).toBe('x'.repeat(40));
  });
  it('wraps CJK between characters and ASCII at spaces', () => {
    expect(wrap('一二三四五六七八九十', 8)).toEqual(['一二三四', '五六七八', '九十']);
    expect(wrap('hello world again', 11)).toEqual(['hello world', 'again']);
    expect(wrap('一二三a', 7)).toEqual(['一二三a']);
  });
});

describe('revoke receipt model', () => {
  for (const paper of [58, 80] as const) {
    it(`fits ${paper} mm paper, label/value rows span the full width`, () => {
      const m = buildRevokeReceipt(input({ options: { paper, chinese: true } }));
      const cols = paper === 58 ? 32 : 48;
      expect(m.columns).toBe(cols);
      for (const line of textLines(m)) {
        expect(lineFits(line, cols), line.text).toBe(true);
        expect(line.text).toBe(line.text.trimEnd());
        if (line.role === 'field' && /\S\s+\S/.test(line.text) && line.text.startsWith(line.text.trimStart())) {
          expect(displayWidth(line.text), line.text).toBe(cols);
        }
      }
    });
  }

  it('carries every field, in Chinese', () => {
    const text = textLines(buildRevokeReceipt(input({ options: { paper: 80, chinese: true } })))
      .map((l) => l.text)
      .join('\n');
    for (const needle of [
      '上海徐汇旗舰店',
      '100000330009876543',
      '撤销凭证',
      'REVOKE RECEIPT',
      '7895259244996021',
      'POS-20260522-0001',
      '4200002173202605222734561234',
      '微信',
      '￥100.00',
      '2026-05-22 10:00:00',
      '2026-05-22 10:05:00',
      '张三',
      '撤销成功',
    ]) {
      expect(text).toContain(needle);
    }
    expect(text).not.toContain('COPY');
  });

  it('shows the refusal reason and gateway code', () => {
    const m = buildRevokeReceipt(
      input({
        revoke: {
          id: 7,
          state: 'rejected',
          operator: null,
          revokedAt: null,
          error: { code: 'GATEWAY_REFUSED', messageZh: '订单已退款，不能撤销', messageEn: 'Order already refunded', gatewayCode: 'EP104', gatewayMessage: 'x' },
        },
      }),
    );
    const text = textLines(m).map((l) => l.text).join('\n');
    expect(text).toContain('撤销失败');
    expect(text).toContain('订单已退款，不能撤销');
    expect(text).toContain('EP104');
    expect(text).toMatch(/撤销时间\s+-/);
    expect(text).toMatch(/收银员\s+cashier-01/);
    expect(text).toMatch(/撤销人\s+-/);
    expect(text).not.toContain('审批人');
  });

  it('names the payment\'s operator (收银员), who voided (撤销人) and who approved (审批人) apart, in both languages', () => {
    const zh = textLines(buildRevokeReceipt(input())).map((l) => l.text).join('\n');
    expect(zh).toMatch(/收银员\s+cashier-01/);
    expect(zh).toMatch(/撤销人\s+张三/);
    expect(zh).toMatch(/审批人\s+李主管/);
    const en = textLines(
      buildRevokeReceipt(input({ revoke: { id: 7, state: 'revoked', operator: 'Zhang', approverName: 'Li', revokedAt: REVOKED, error: null }, options: { paper: 80, chinese: false } })),
    )
      .map((l) => l.text)
      .join('\n');
    expect(en).toMatch(/Cashier\s+cashier-01/);
    expect(en).toMatch(/Revoked by\s+Zhang/);
    expect(en).toMatch(/Approved by\s+Li/);
  });

  it('a receipt stored before operators (no approverName) still builds, without an approver line', () => {
    const old = input({ revoke: { id: 7, state: 'revoked', operator: '张三', revokedAt: REVOKED, error: null } });
    const text = textLines(buildRevokeReceipt(old)).map((l) => l.text).join('\n');
    expect(text).toMatch(/撤销人\s+张三/);
    expect(text).not.toContain('审批人');
  });

  it('a copy is built by the same builder with the 重打印 / COPY marker', () => {
    const original = buildRevokeReceipt(input());
    const copy = buildRevokeReceiptCopy(JSON.parse(JSON.stringify(original)) as ReceiptModel, REVOKED + HOUR);
    expect(copy.copy).toBe(true);
    const copyLines = textLines(copy).filter((l) => l.role === 'copy');
    expect(copyLines.map((l) => l.text)).toEqual(['重打印 COPY', '重打印凭证 / COPY']);
    expect(copyLines[0]?.size).toBe(2);
    // Same data lines apart from the marker and the print time.
    const strip = (m: ReceiptModel): string[] => textLines(m).filter((l) => l.role !== 'copy' && l.role !== 'footer').map((l) => l.text);
    expect(strip(copy)).toEqual(strip(original));
  });

  it('ASCII mode has English labels and only printable ASCII', () => {
    const m = buildRevokeReceipt(input({ options: { paper: 58, chinese: false } }));
    const text = textLines(m).map((l) => l.text).join('\n');
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    expect(text).toContain('REVOKE RECEIPT');
    expect(text).toContain('CNY 100.00');
    expect(text).toContain('WeChat Pay');
    expect(text).toContain('REVOKED');
    expect(text).toContain('Store S0001');
    const bytes = renderEscPos(m, { printerType: 'EPSON' });
    expect([...bytes].filter((b) => b >= 0x80)).toEqual([]);
    const copy = renderEscPos(buildRevokeReceipt(input({ copy: true, options: { paper: 58, chinese: false } })), { printerType: 'STAR' });
    expect([...copy].filter((b) => b >= 0x80)).toEqual([]);
    expect(decodeEscPos(copy, { dialect: 'star' }).text).toContain('COPY');
  });

  it('refuses non-ASCII QR data', () => {
    expect(() => buildRevokeReceipt(input({ order: { ...input().order, sn: '订单1' } }))).toThrow(/QR data/);
  });
});

describe('ESC/POS rendering', () => {
  it('sends Chinese as GB18030 inside FS & ... FS . and never switches the code page (EPSON)', () => {
    const bytes = renderEscPos(buildRevokeReceipt(input()), { printerType: 'EPSON' });
    const hex = bytes.toString('hex');
    expect(hex).toContain('1c26');
    expect(hex).toContain('1c2e');
    // ￥ = A3 A4 in GB18030, inside Chinese mode; no ESC t n / ESC R n anywhere.
    expect(hex).toMatch(/1c26[0-9a-f]*?a3a4[0-9a-f]*?1c2e/);
    expect(hex).not.toMatch(/1b74|1b52/);
    // Outside Chinese-mode segments there is no byte >= 0x80 at all (a plain ¥ would be one).
    const outside = hex.replace(/1c26(?:[0-9a-f]{2})*?1c2e/g, '');
    expect(Buffer.from(outside, 'hex').filter((b) => b >= 0x80).length).toBe(0);
    const decoded = decodeEscPos(bytes);
    expect(decoded.strayHighBytes).toBe(0);
    expect(decoded.unknown).toEqual([]);
    expect(decoded.cuts).toBe(1);
  });

  it('uses ESC p / ESC q Chinese mode and Star QR commands for STAR', () => {
    const model = buildRevokeReceipt(input());
    const bytes = renderEscPos(model, { printerType: 'STAR' });
    const hex = bytes.toString('hex');
    expect(hex).toContain('1b70');
    expect(hex).toContain('1b71');
    expect(hex).not.toContain('1c26');
    const decoded = decodeEscPos(bytes, { dialect: 'star' });
    expect(decoded.unknown).toEqual([]);
    expect(decoded.qr).toEqual(['7895259244996021']);
    expect(decoded.text).toBe(decodeEscPos(renderEscPos(model, { printerType: 'EPSON' })).text);
  });

  for (const printerType of ['EPSON', 'STAR'] as PrinterType[]) {
    for (const options of [
      { paper: 58, chinese: true },
      { paper: 80, chinese: true },
      { paper: 58, chinese: false },
    ] as const) {
      it(`HTML preview and printed bytes carry the same lines (${printerType} ${options.paper}mm ${options.chinese ? 'zh' : 'ascii'})`, () => {
        const model = buildRevokeReceipt(input({ copy: true, options }));
        const decoded = decodeEscPos(renderEscPos(model, { printerType }), { dialect: printerType === 'STAR' ? 'star' : 'escpos' });
        const html = renderHtml(model);
        expect(htmlLines(html)).toEqual(decoded.lines.map((l) => l.text));
        // Styles too: alignment, emphasis and size, line by line.
        const classes = [...html.matchAll(/<div class="rl ([^"]*)"/g)].map((m) => m[1] ?? '').filter((c) => !c.split(' ').includes('rl--qr'));
        decoded.lines.forEach((line, i) => {
          const c = classes[i] ?? '';
          expect(c).toContain(`rl--${line.align}`);
          expect(c.includes('rl--bold')).toBe(line.bold);
          expect(c.includes('rl--x2')).toBe(line.size === 2);
        });
        expect([...html.matchAll(/data-qr="([^"]*)"/g)].map((m) => m[1])).toEqual(decoded.qr);
      });
    }
  }

  it('HTML is escaped and CSP-clean (classes only, no inline style or handlers)', () => {
    const html = renderHtml(
      buildRevokeReceipt(input({ terminal: { ...input().terminal, storeName: '<img src=x onerror=alert(1)>&"' } })),
    );
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&amp;&quot;');
    expect(html).not.toMatch(/<[a-z][^>]*\s(?:style|on[a-z]+)=|<script/i);
  });

  it('test page: rulers end in the last column, Chinese line present', () => {
    for (const paper of [58, 80] as const) {
      const m = buildTestReceipt({ terminal: input().terminal, printedAt: PAID, options: { paper, chinese: true } });
      const rulers = textLines(m).filter((l) => l.role === 'ruler');
      expect(rulers.map((l) => displayWidth(l.text))).toEqual([m.columns, m.columns]);
      const decoded = decodeEscPos(renderEscPos(m, { printerType: 'EPSON' }));
      expect(decoded.text).toContain('中文测试');
      expect(decoded.text).toContain('2026-05-22 10:00:00');
      expect(decoded.text).toContain('100000330009876543');
    }
    const ascii = renderEscPos(buildTestReceipt({ terminal: input().terminal, printedAt: PAID, options: { paper: 80, chinese: false } }), {
      printerType: 'EPSON',
    });
    expect([...ascii].filter((b) => b >= 0x80)).toEqual([]);
  });
});

describe('golden receipt bytes', () => {
  const cases = [
    { name: 'receipt-revoke-58-epson', paper: 58 as const, printerType: 'EPSON' as const, copy: false },
    { name: 'receipt-revoke-80-epson-copy', paper: 80 as const, printerType: 'EPSON' as const, copy: true },
    { name: 'receipt-revoke-58-star', paper: 58 as const, printerType: 'STAR' as const, copy: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expectGolden(c.name, buildRevokeReceipt(input({ copy: c.copy, options: { paper: c.paper, chinese: true } })), c.printerType);
    });
  }
});
