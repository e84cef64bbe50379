/**
 * Column arithmetic for receipts: how wide a string prints on a thermal
 * printer (every GB18030 double-byte character takes two columns, as the
 * printer's 24-dot Chinese font prints it), what a GBK printer can print at
 * all, and the line layouts built on it (label/value rows, wrapping). Pure
 * functions, shared by the receipt builder and the tests.
 */

import type iconv from 'iconv-lite';

/** Columns per line for the two paper widths we support (font A, 12x24). */
export const COLUMNS = { 58: 32, 80: 48 } as const;
export type PaperWidth = keyof typeof COLUMNS;

/*
 * In Chinese mode (the only mode a receipt with non-ASCII text is printed
 * in: escpos.ts encodeText) every character but ASCII is sent as a GB18030
 * double-byte code and printed in the 24-dot font at double width — CJK,
 * but also `·` (A1A4), `é` (A8A6), `—`, `…`, `“`. So the width is the byte
 * count: ASCII 1, anything else 2. GB18030's four-byte codes (`ñ`, the
 * half-width `¥` U+00A5, `©`, emoji, CJK extension B) are outside GBK:
 * GBK-only printers print garbage for them, so receipt text is first passed
 * through `gbPrintable`, which replaces them with printable stand-ins.
 */

export function charWidth(ch: string): 1 | 2 {
  return (ch.codePointAt(0) ?? 0) < 0x80 ? 1 : 2;
}

/*
 * iconv-lite is loaded only when a receipt has a character outside ASCII and
 * the CJK unified ideographs (all of which GBK has): its tables cost memory
 * in every process (see escpos.ts).
 */
let iconvLib: typeof iconv | null = null;
const gbkCache = new Map<string, boolean>();

/** Whether `ch` prints on a GBK printer in Chinese mode: ASCII, or a GBK double-byte code equal to its GB18030 code. */
export function inGbk(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x80) return true;
  if (cp >= 0x4e00 && cp <= 0x9fa5) return true;
  let known = gbkCache.get(ch);
  if (known === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (see above)
    const lib = (iconvLib ??= require('iconv-lite') as typeof iconv);
    const gb = lib.encode(ch, 'gb18030');
    // '€' is 0x80 in Microsoft's GBK but A2E3 in GB18030: only codes both agree on print everywhere.
    known = gb.length === 2 && lib.encode(ch, 'gbk').equals(gb);
    gbkCache.set(ch, known);
  }
  return known;
}

/** Stand-ins for characters outside GBK that have an obvious printable one. */
const STAND_INS: Readonly<Record<string, string>> = {
  '\u00a5': '\uffe5', // half-width yen/yuan sign: the fullwidth ￥ (A3A4) money already prints with
  '\u00a0': ' ',
  '\u20ac': 'EUR',
  '\u00a9': '(C)',
  '\u00ae': '(R)',
  '\u00ab': '"',
  '\u00bb': '"',
};

const MARK = /\p{M}/u;
const MARKS = /\p{M}/gu;
const EMOJI_MODIFIER = /\p{Emoji_Modifier}/u;

function standIn(ch: string): string {
  const mapped = STAND_INS[ch];
  if (mapped !== undefined) return mapped;
  // A variation selector, a combining mark or a skin tone the printer cannot print: nothing (the base character stays).
  if (MARK.test(ch) || EMOJI_MODIFIER.test(ch)) return '';
  for (const form of [ch.normalize('NFKC'), ch.normalize('NFD').replace(MARKS, '')]) {
    // ™ -> TM, ñ -> n, Ø stays out (no decomposition).
    if (form !== '' && form !== ch && [...form].every(inGbk)) return form;
  }
  return '?';
}

/**
 * `text` with every character a GBK printer cannot print in Chinese mode
 * replaced: `¥` by `￥`, accented letters outside GBK by their base letter
 * (`ñ` -> `n`), compatibility forms by their plain form (`™` -> `TM`),
 * anything else (emoji) by `?`. Text that prints as is comes back as is.
 */
export function gbPrintable(text: string): string {
  let out: string | null = null;
  let i = 0;
  for (const ch of text) {
    if (!inGbk(ch)) {
      out ??= text.slice(0, i);
      out += standIn(ch);
    } else if (out !== null) {
      out += ch;
    }
    i += ch.length;
  }
  return out ?? text;
}

/** Printed width in columns in Chinese mode (non-ASCII = 2; for text already passed through `gbPrintable`). */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/**
 * Splits `text` into chunks of at most `width` columns. Breaks at the last
 * space when a chunk would cut an ASCII word (keeps order numbers whole when
 * they fit), otherwise between characters (CJK has no word spaces).
 */
export function wrap(text: string, width: number): string[] {
  if (width < 2) throw new RangeError('wrap width too small');
  const out: string[] = [];
  let rest = [...text.replace(/\s+/g, ' ').trim()];
  while (rest.length > 0) {
    let w = 0;
    let i = 0;
    while (i < rest.length && w + charWidth(rest[i] as string) <= width) {
      w += charWidth(rest[i] as string);
      i++;
    }
    if (i < rest.length) {
      const space = rest.lastIndexOf(' ', i);
      if (space > 0 && rest[i] !== ' ') i = space;
    }
    out.push(rest.slice(0, i).join('').trimEnd());
    rest = rest.slice(i);
    while (rest[0] === ' ') rest.shift();
  }
  return out.length > 0 ? out : [''];
}

/** Pads on the left so `text` ends at column `width`. */
export function padStartCols(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(text))) + text;
}

/**
 * A label on the left and its value right-aligned on the same line when both
 * fit (with at least one space between); otherwise the label on its own line
 * and the value wrapped below it, each piece right-aligned, so a cashier's
 * eye always finds values in the right-hand column.
 */
export function labelValue(label: string, value: string, width: number): string[] {
  const lw = displayWidth(label);
  const vw = displayWidth(value);
  if (lw + 1 + vw <= width) return [label + ' '.repeat(width - lw - vw) + value];
  return [label, ...wrap(value, width).map((piece) => padStartCols(piece, width))];
}
