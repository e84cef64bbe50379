/**
 * Receipt columns as a GB printer prints them in Chinese mode: every
 * GB18030 double-byte character takes two columns — CJK, and also `·`
 * (A1A4), `é`, `—`, `…`, `“`. Each laid-out line is measured from its
 * GB18030 bytes (1 byte = 1 column, 2 bytes = 2 columns) and must fill or
 * fit its paper exactly as the layout meant. Characters GB18030 sends as 4
 * bytes (`ñ`, the half-width `¥` U+00A5, emoji) do not exist on GBK-only
 * printers: no line carries one; they get printable stand-ins.
 */
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { buildRevokeReceipt, charWidth, displayWidth, gbPrintable, renderEscPos, type ReceiptModel, type RevokeReceiptInput } from '../../main/printer';
import { decodeEscPos } from '../../main/sandbox/escpos-decoder';
import { textLines } from '../support/golden';

const PAID = Date.parse('2026-05-22T02:00:00Z');
const HOUR = 3_600_000;

/** Columns a line takes on paper, from its GB18030 bytes. */
function printedColumns(text: string): number {
  let cols = 0;
  for (const ch of text) {
    const bytes = iconv.encode(ch, 'gb18030').length;
    expect(bytes, `${JSON.stringify(ch)} in ${JSON.stringify(text)} is a ${bytes}-byte GB18030 code`).toBeLessThanOrEqual(2);
    // What a GBK-only printer has: the same two bytes in GBK.
    if (bytes === 2) expect(iconv.encode(ch, 'gbk').equals(iconv.encode(ch, 'gb18030')), ch).toBe(true);
    cols += bytes;
  }
  return cols;
}

function receipt(paper: 58 | 80, names: { operator: string; revoker: string; approver: string; store: string }): ReceiptModel {
  const input: RevokeReceiptInput = {
    terminal: { terminalSn: '100000330009876543', merchantName: '收钱吧测试商户', storeSn: 'S1', storeName: names.store },
    order: { sn: '7895259244996021', clientSn: 'POS-1', tradeNo: null, totalCents: 10000, netCents: 10000, payway: '3', paywayName: '微信', operator: names.operator, finishedAt: PAID },
    revoke: { id: 1, state: 'revoked', operator: names.revoker, revokedAt: PAID + HOUR, error: null, approverName: names.approver },
    copy: false,
    printedAt: PAID + HOUR,
    options: { paper, chinese: true },
  };
  return buildRevokeReceipt(input);
}

const NAMES = [
  { operator: '买买提·艾力', revoker: '阿卜杜热合曼·买买提明', approver: 'José Núñez', store: '上海“徐汇”旗舰店—一号…' },
  { operator: 'Zoë — «Ñandú»', revoker: '店长😀👍🏽', approver: 'Renée…“B”', store: 'Café ¥ Store' },
];

describe('receipt columns measured from GB18030 bytes', () => {
  for (const paper of [58, 80] as const) {
    for (const names of NAMES) {
      it(`${paper} mm, ${names.operator} / ${names.approver}: every line fits; label/value lines end exactly at the last column`, () => {
        const model = receipt(paper, names);
        for (const line of textLines(model)) {
          const cols = printedColumns(line.text);
          expect(cols, line.text).toBe(displayWidth(line.text));
          expect(cols * line.size, line.text).toBeLessThanOrEqual(model.columns);
          // A label with its value right-aligned on one line: the value's last character sits in the last column.
          if ((line.role === 'field' || line.role === 'amount') && / {2,}\S/.test(line.text)) expect(cols, line.text).toBe(model.columns);
        }
        const decoded = decodeEscPos(renderEscPos(model, { printerType: 'EPSON' }));
        expect(decoded.strayHighBytes).toBe(0);
        expect(decoded.cuts).toBe(1);
      });
    }
  }

  it('the names print: `·`, `é`, `—`, `…`, `“` as they are (2 columns); `ñ` -> n, `¥` -> ￥, emoji -> ?', () => {
    for (const ch of ['·', 'é', '—', '…', '“', '”', 'ü', '￥', '中']) {
      expect(gbPrintable(ch)).toBe(ch);
      expect(charWidth(ch)).toBe(2);
    }
    expect(charWidth('a')).toBe(1);
    expect(gbPrintable('José Núñez')).toBe('José Núnez');
    expect(gbPrintable('¥100')).toBe('￥100');
    expect(gbPrintable('店长😀👍🏽')).toBe('店长??');
    expect(gbPrintable('Ñandú™')).toBe('NandúTM');
    const text = textLines(receipt(58, NAMES[1]!)).map((l) => l.text).join('\n');
    expect(text).toContain('Zoe — "Nandú"');
    expect(text).toContain('￥ Store');
    expect(text).not.toMatch(/[ñÑ¥]|\p{Extended_Pictographic}/u);
  });
});
