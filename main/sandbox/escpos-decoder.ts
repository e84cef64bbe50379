/**
 * A small in-house ESC/POS decoder for the virtual printer and the tests:
 * turns the bytes a printer would receive back into text lines with their
 * alignment, emphasis and size, the QR payloads, and the cuts. It knows the
 * commands our renderer and node-thermal-printer emit (EPSON ESC/POS, and
 * the Star Line Mode subset with `dialect: 'star'`), GB18030 text inside
 * Chinese mode (FS & / FS . on EPSON, ESC p / ESC q on STAR), and skips the
 * rest by its documented length. Not a full emulator: unknown commands are
 * listed in `unknown` rather than guessed.
 */
import iconv from 'iconv-lite';
import { displayWidth } from '../printer/width';

export type DecodedAlign = 'left' | 'center' | 'right';

export interface DecodedLine {
  text: string;
  align: DecodedAlign;
  bold: boolean;
  /** Width magnification (1 = normal). */
  size: number;
  /** Height magnification. */
  height: number;
}

export interface DecodedReceipt {
  lines: DecodedLine[];
  qr: string[];
  cuts: number;
  /** The lines' text joined with '\n'. */
  text: string;
  /** Commands the decoder did not recognise, as hex, in order. */
  unknown: string[];
  /** Bytes >= 0x80 seen outside Chinese mode (would print as code-page garbage). */
  strayHighBytes: number;
}

export interface DecodeOptions {
  dialect?: 'escpos' | 'star';
}

interface Chunk {
  bytes: number[];
  gb: boolean;
}

const ESC = 0x1b;
const GS = 0x1d;
const FS = 0x1c;
const DLE = 0x10;

export function decodeEscPos(input: Uint8Array, options: DecodeOptions = {}): DecodedReceipt {
  const star = options.dialect === 'star';
  const b = input;
  const lines: DecodedLine[] = [];
  const qr: string[] = [];
  const unknown: string[] = [];
  let cuts = 0;
  let strayHighBytes = 0;

  let align: DecodedAlign = 'left';
  let bold = false;
  let width = 1;
  let height = 1;
  let chinese = false;
  let pendingQr: string | null = null;

  let chunks: Chunk[] = [];
  let lineStyle: Omit<DecodedLine, 'text'> | null = null;

  const style = (): Omit<DecodedLine, 'text'> => ({ align, bold, size: width, height });
  const pushByte = (byte: number, gb: boolean): void => {
    lineStyle ??= style();
    const last = chunks[chunks.length - 1];
    if (last && last.gb === gb) last.bytes.push(byte);
    else chunks.push({ bytes: [byte], gb });
  };
  const textOf = (): string =>
    chunks
      .map((c) => (c.gb ? iconv.decode(Buffer.from(c.bytes), 'gb18030') : iconv.decode(Buffer.from(c.bytes), 'cp437')))
      .join('');
  /** LF ends a line even when empty; feeds, cuts and QR only flush pending text. */
  const flush = (force: boolean): void => {
    if (!force && chunks.length === 0) return;
    lines.push({ text: textOf(), ...(lineStyle ?? style()) });
    chunks = [];
    lineStyle = null;
  };
  const reset = (): void => {
    align = 'left';
    bold = false;
    width = 1;
    height = 1;
    chinese = false;
  };
  const alignOf = (n: number): DecodedAlign => (['left', 'center', 'right'] as const)[n % 48] ?? 'left';
  const at = (i: number): number => b[i] ?? 0;
  const hex = (from: number, len: number): string => Buffer.from(b.subarray(from, from + len)).toString('hex');

  let i = 0;
  while (i < b.length) {
    const c = at(i);
    if (c === 0x0a) {
      flush(true);
      i += 1;
    } else if (c === 0x0d || c === 0x00) {
      i += 1;
    } else if (c === 0x09) {
      pushByte(0x20, false);
      i += 1;
    } else if (c === 0x0c || c === 0x0b) {
      flush(false);
      i += 1;
    } else if (c === DLE) {
      const fn = at(i + 1);
      if (fn === 0x04 || fn === 0x05) i += 3; // DLE EOT n (status) / DLE ENQ n
      else if (fn === 0x14) i += 5; // DLE DC4 fn m t
      else {
        unknown.push(hex(i, 2));
        i += 2;
      }
    } else if (c === ESC) {
      i = star ? starEsc(i) : escposEsc(i);
    } else if (c === FS && !star) {
      const fn = at(i + 1);
      if (fn === 0x26) {
        chinese = true;
        i += 2;
      } else if (fn === 0x2e) {
        chinese = false;
        i += 2;
      } else if (fn === 0x21 || fn === 0x2d || fn === 0x43 || fn === 0x57) i += 3; // FS ! / - / C / W n
      else if (fn === 0x70) i += 4; // FS p n m (NV image)
      else {
        unknown.push(hex(i, 2));
        i += 2;
      }
    } else if (c === GS) {
      i = gs(i);
    } else if (c < 0x20) {
      unknown.push(hex(i, 1));
      i += 1;
    } else if (c < 0x80) {
      pushByte(c, chinese);
      i += 1;
    } else if (chinese && c >= 0x81 && c <= 0xfe) {
      // GB18030: four bytes when the second is a digit, otherwise two.
      const len = at(i + 1) >= 0x30 && at(i + 1) <= 0x39 ? 4 : 2;
      for (let k = 0; k < len; k++) pushByte(at(i + k), true);
      i += len;
    } else {
      strayHighBytes++;
      pushByte(c, false);
      i += 1;
    }
  }
  flush(false);

  return { lines, qr, cuts, text: lines.map((l) => l.text).join('\n'), unknown, strayHighBytes };

  function escposEsc(start: number): number {
    const fn = at(start + 1);
    const n = at(start + 2);
    switch (fn) {
      case 0x40: // ESC @
        reset();
        return start + 2;
      case 0x61: // ESC a n
        align = alignOf(n);
        return start + 3;
      case 0x45: // ESC E n
      case 0x47: // ESC G n (double strike: printed as emphasis)
        bold = (n & 1) === 1;
        return start + 3;
      case 0x21: // ESC ! n
        bold = (n & 0x08) !== 0;
        width = n & 0x20 ? 2 : 1;
        height = n & 0x10 ? 2 : 1;
        return start + 3;
      case 0x64: // ESC d n: feed n lines
      case 0x4a: // ESC J n: feed n dots
        flush(false);
        return start + 3;
      case 0x32: // ESC 2
        return start + 2;
      case 0x2d: // ESC - n
      case 0x33: // ESC 3 n
      case 0x4d: // ESC M n
      case 0x52: // ESC R n
      case 0x74: // ESC t n
      case 0x56: // ESC V n
      case 0x7b: // ESC { n
      case 0x20: // ESC SP n
      case 0x63: // ESC c n (panel)
        return start + 3;
      case 0x42: // ESC B n t (beep)
        return start + 4;
      case 0x70: // ESC p m t1 t2 (drawer)
        return start + 5;
      case 0x44: {
        // ESC D n1..nk NUL (tab stops)
        let j = start + 2;
        while (j < b.length && at(j) !== 0) j++;
        return j + 1;
      }
      default:
        unknown.push(hex(start, 2));
        return start + 2;
    }
  }

  function starEsc(start: number): number {
    const fn = at(start + 1);
    const n = at(start + 2);
    switch (fn) {
      case 0x40:
        reset();
        return start + 2;
      case 0x45:
        bold = true;
        return start + 2;
      case 0x46:
        bold = false;
        return start + 2;
      case 0x70: // ESC p: Chinese character mode
        chinese = true;
        return start + 2;
      case 0x71: // ESC q: cancel Chinese character mode
        chinese = false;
        return start + 2;
      case 0x69: // ESC i n1 n2: height, width expansion
        height = (n % 48) + 1;
        width = (at(start + 3) % 48) + 1;
        return start + 4;
      case 0x64: // ESC d n: cut
        flush(false);
        cuts++;
        return start + 3;
      case 0x34: // ESC 4 / ESC 5: invert
      case 0x35:
        return start + 2;
      case 0x2d: // ESC - n
      case 0x1e: // ESC RS F n (font) / others with one arg after a letter
        return fn === 0x1e ? start + 4 : start + 3;
      case 0x1d: {
        const sub = at(start + 2);
        if (sub === 0x61) {
          // ESC GS a n: alignment
          align = alignOf(at(start + 3));
          return start + 4;
        }
        if (sub === 0x79) {
          // ESC GS y ...: QR
          const op = at(start + 3);
          if (op === 0x53) return start + 6; // S 0|1|2 n
          if (op === 0x44) {
            const len = at(start + 6) + at(start + 7) * 256;
            pendingQr = Buffer.from(b.subarray(start + 8, start + 8 + len)).toString('latin1');
            return start + 8 + len;
          }
          if (op === 0x50) {
            flush(false);
            if (pendingQr !== null) qr.push(pendingQr);
            return start + 4;
          }
        }
        unknown.push(hex(start, 4));
        return start + 4;
      }
      default:
        unknown.push(hex(start, 2));
        return start + 2;
    }
  }

  function gs(start: number): number {
    const fn = at(start + 1);
    const n = at(start + 2);
    switch (fn) {
      case 0x21: // GS ! n
        width = (n >> 4) + 1;
        height = (n & 0x0f) + 1;
        return start + 3;
      case 0x56: // GS V m [n]
        flush(false);
        cuts++;
        return [65, 66, 97, 98, 103, 104].includes(n) ? start + 4 : start + 3;
      case 0x28: {
        // GS ( X pL pH ...
        const len = at(start + 3) + at(start + 4) * 256;
        const body = b.subarray(start + 5, start + 5 + len);
        if (at(start + 2) === 0x6b && body[0] === 0x31) {
          if (body[1] === 0x50) pendingQr = Buffer.from(body.subarray(3)).toString('latin1');
          if (body[1] === 0x51) {
            flush(false);
            if (pendingQr !== null) qr.push(pendingQr);
          }
        }
        return start + 5 + len;
      }
      case 0x42: // GS B n
      case 0x48: // GS H n
      case 0x68: // GS h n
      case 0x77: // GS w n
      case 0x66: // GS f n
      case 0x72: // GS r n (status)
      case 0x61: // GS a n (ASB)
        return start + 3;
      case 0x4c: // GS L nL nH
      case 0x57: // GS W nL nH
        return start + 4;
      case 0x6b: {
        // GS k m ...: barcodes
        if (n <= 6) {
          let j = start + 3;
          while (j < b.length && at(j) !== 0) j++;
          return j + 1;
        }
        return start + 4 + at(start + 3);
      }
      case 0x76: {
        // GS v 0 m xL xH yL yH d...
        const bytes = (at(start + 4) + at(start + 5) * 256) * (at(start + 6) + at(start + 7) * 256);
        return start + 8 + bytes;
      }
      default:
        unknown.push(hex(start, 2));
        return start + 2;
    }
  }
}

/** Lays decoded lines out on paper `columns` wide (alignment applied, CJK = 2 columns), for humans. */
export function toPaperText(decoded: DecodedReceipt, columns: number): string {
  return decoded.lines
    .map((l) => {
      const w = displayWidth(l.text) * l.size;
      const room = Math.max(0, columns - w);
      const pad = l.align === 'center' ? Math.floor(room / 2) : l.align === 'right' ? room : 0;
      return ' '.repeat(pad) + l.text;
    })
    .join('\n');
}
