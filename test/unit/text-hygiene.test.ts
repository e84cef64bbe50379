/**
 * Text from outside, printed or shown: control and format characters (bidi
 * overrides, zero-width, BOM, tags) are stripped by one function, used by
 * the receipt model, the HTML preview and the IPC views; and the log
 * redactor catches `key=` values whatever their alphabet.
 */
import { describe, expect, it } from 'vitest';
import { redact } from '../../main/electron/log-file';
import { toOrderView } from '../../main/ipc/handlers';
import { buildRevokeReceipt, renderEscPos, renderHtml, type ReceiptModel, type TextLine } from '../../main/printer';
import { decodeEscPos } from '../../main/sandbox/escpos-decoder';
import { safeStrings, safeText } from '../../main/util/text';

const FORMAT_CHARS = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff, 0x061c, 0x00ad, 0xe0041];
const HOSTILE = `A${FORMAT_CHARS.map((c) => String.fromCodePoint(c)).join('')}B`;
const UNSAFE = /[\p{Cf}\p{Cc}\u2028\u2029]/u;

describe('safeText', () => {
  it.each(FORMAT_CHARS.map((c) => [`U+${c.toString(16).toUpperCase().padStart(4, '0')}`, c]))('drops %s', (_name, c) => {
    expect(safeText(`x${String.fromCodePoint(c)}y`)).toBe('xy');
  });

  it('turns control characters and line separators into spaces, drops lone surrogates, keeps CJK and emoji', () => {
    expect(safeText('a\nb\r\tc\u0000d\u001be\u007ff\u0085g\u2028h\u2029i')).toBe('a b  c d e f g h i');
    expect(safeText('x\ud800y')).toBe('xy');
    expect(safeText('撤销凭证 ￥100.00 😀')).toBe('撤销凭证 ￥100.00 😀');
  });

  it('returns the same value when nothing is unsafe (identity caches keep working)', () => {
    const view = { a: 'ok', b: ['x', { c: 'y' }], n: 1, z: null };
    expect(safeStrings(view)).toBe(view);
    const dirty = { a: 'ok', b: ['x', { c: 'y\u202e' }] };
    const clean = safeStrings(dirty);
    expect(clean).toEqual({ a: 'ok', b: ['x', { c: 'y' }] });
    expect(clean.b[0]).toBe('x');
    expect(dirty.b[1]).toEqual({ c: 'y\u202e' });
  });
});

describe('receipts and views', () => {
  const PAID = Date.UTC(2026, 4, 22, 2);
  const model = (chinese: boolean): ReceiptModel =>
    buildRevokeReceipt({
      terminal: { terminalSn: '100000330009876543', merchantName: null, storeSn: 'S1', storeName: `Store${HOSTILE}` },
      order: { sn: '7895259244996021', clientSn: `POS${HOSTILE}`, tradeNo: `T${HOSTILE}`, totalCents: 100, netCents: 100, payway: '3', paywayName: `WeChat${HOSTILE}`, operator: null, finishedAt: PAID },
      revoke: { id: 1, state: 'rejected', operator: `op\u202E1.00\n\u001b@`, revokedAt: null, error: { code: 'X', messageZh: `拒绝${HOSTILE}`, messageEn: `refused${HOSTILE}`, gatewayCode: `G${HOSTILE}`, gatewayMessage: null } },
      copy: false,
      printedAt: PAID,
      options: { paper: 58, chinese },
    });

  it.each([
    ['Chinese', true],
    ['ASCII', false],
  ])('%s receipt: model lines, ESC/POS bytes (decoded) and the HTML preview carry no format or control character', (_mode, chinese) => {
    const m = model(chinese);
    const lines = m.items.filter((i): i is TextLine => i.type === 'text').map((l) => l.text);
    for (const line of lines) expect(line).not.toMatch(UNSAFE);
    expect(lines.join('\n')).toContain('AB');
    expect(lines.join('\n')).toMatch(/op1\.00 {1,2}@/);
    const decoded = decodeEscPos(renderEscPos(m, { printerType: 'EPSON' }));
    for (const line of decoded.lines) expect(line.text).not.toMatch(UNSAFE);
    // A control character in the operator would have become a command: none beyond the builder's own.
    expect(decoded.unknown).toEqual([]);
    expect(renderHtml(m)).not.toMatch(UNSAFE);
  });

  it('a model stored by an older version is cleaned again when the preview is rendered', () => {
    const stored = model(true);
    stored.items.push({ type: 'text', role: 'text', text: `old${HOSTILE}`, align: 'left', bold: false, size: 1 });
    expect(renderHtml(stored)).toContain('>oldAB<');
  });

  it('order views are cleaned field by field (gateway strings, operator names)', () => {
    const view = toOrderView(
      {
        sn: '1',
        clientSn: `c${HOSTILE}`,
        tradeNo: null,
        totalCents: 1,
        netCents: 1,
        payway: '3',
        paywayName: `微信${HOSTILE}`,
        subject: `s\u202Egnp.exe`,
        operator: `o\u0000p`,
        finishedAt: 0,
        status: 'PAID',
        businessDay: '2026-05-22',
        updatedAt: 0,
      },
      null,
    );
    expect(view).toMatchObject({ clientSn: 'cAB', paywayName: '微信AB', subject: 'sgnp.exe', operator: 'o p' });
  });
});

describe('log redaction of key=… whatever its alphabet', () => {
  it.each([
    ['key=pässwörd-秘密 next=1', 'pässwörd-秘密'],
    ['checkin ok key=Zm9v/bar+baz', 'Zm9v/bar+baz'],
    ['key=short', 'short'],
    ['KEY: not_hex_at_all', 'not_hex_at_all'],
    ['{"key":"秘密 with space","x":1}', '秘密 with space'],
    ['{"terminal_key": "a\\"b c"}', 'a\\"b c'],
    ['{"vendor_key":12345678}', '12345678'],
    ['terminal_key=zzzz-not-hex', 'zzzz-not-hex'],
    ['vendorKey=zzzz-not-hex', 'zzzz-not-hex'],
    ['vendor_key="quoted value" tail', 'quoted value'],
    ["api_key='single q' tail", 'single q'],
    ['--vendor-key zzzz-not-hex --code 1', 'zzzz-not-hex'],
    ['--key=zzzz', 'zzzz'],
  ])('%s', (line, secret) => {
    const out = redact(line);
    expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED]');
  });

  it('leaves words that only contain "key" readable', () => {
    for (const line of ['the key is rotated', 'keyUpdatedAt=1764000000000', 'key age 3 days']) expect(redact(line)).toBe(line);
  });
});
