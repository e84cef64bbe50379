/**
 * Column arithmetic for receipts: how wide a string prints on a thermal
 * printer (CJK and fullwidth forms take two columns, as the printer's 24-dot
 * Chinese font does), and the line layouts built on it (label/value rows,
 * wrapping). Pure functions, shared by the receipt builder and the tests.
 */

/** Columns per line for the two paper widths we support (font A, 12x24). */
export const COLUMNS = { 58: 32, 80: 48 } as const;
export type PaperWidth = keyof typeof COLUMNS;

/**
 * East Asian Wide/Fullwidth ranges (Unicode UAX #11, condensed). Thermal
 * printers render every GB18030 double-byte glyph at double width, which is
 * exactly this set for the characters a receipt can contain.
 */
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x20000, 0x3fffd],
];

export function charWidth(ch: string): 1 | 2 {
  const cp = ch.codePointAt(0) ?? 0;
  // Below the first wide range (ASCII, Latin): most of a receipt's characters, no table walk.
  if (cp < 0x1100) return 1;
  for (const [lo, hi] of WIDE_RANGES) if (cp >= lo && cp <= hi) return 2;
  return 1;
}

/** Printed width in columns (CJK = 2). */
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
