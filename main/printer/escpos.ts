/**
 * Receipt model -> printer bytes, synchronously (safe inside a SQLite
 * transaction: no I/O, no promises). node-thermal-printer supplies the
 * command vocabulary for EPSON and STAR (alignment, emphasis, size, QR, cut)
 * through its in-memory buffer; we encode every piece of text ourselves and
 * append it as raw bytes, because its text path picks code pages per
 * character (a `¥` or any CJK char makes it emit ESC t / ESC R) and its
 * CharacterSet.CHINA encodes GBK without ever entering Chinese mode.
 *
 * Chinese text: GB18030 (iconv-lite) sent inside the printer's double-byte
 * mode, entered and left around each line that needs it, so the single-byte
 * code page is never touched:
 *  - EPSON (ESC/POS, also the Chinese clones: Xprinter, GPrinter, Sunmi...):
 *    FS & (1C 26) selects Kanji/Chinese character mode, FS . (1C 2E) cancels it.
 *  - STAR (Star Line Mode): ESC p (1B 70) "specify Chinese character mode" and
 *    ESC q (1B 71) cancel; on Star's GB models (TSP100/TSP650II "China") this is
 *    the GB2312/GB18030 double-byte mode. (ESC $ n is Shift-JIS: not used.)
 * Character size uses GS ! on EPSON because ESC ! does not magnify Kanji in
 * Chinese mode; STAR's ESC i applies to both.
 */
import type iconv from 'iconv-lite';
import type * as Thermal from 'node-thermal-printer';
import type { ReceiptModel, TextLine } from './receipt';

/*
 * Both libraries are loaded on the first render, not when the runtime starts:
 * a counter without a printer never renders a receipt (the print worker
 * renders a job only when the printer is ready), and node-thermal-printer
 * (with pngjs) and iconv-lite's tables cost ~9 MB of RSS in every process.
 */
let thermalLib: typeof Thermal | null = null;
let iconvLib: typeof iconv | null = null;

function thermal(): typeof Thermal {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (see above)
  return (thermalLib ??= require('node-thermal-printer') as typeof Thermal);
}

function gb18030(text: string): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (see above)
  return (iconvLib ??= require('iconv-lite') as typeof iconv).encode(text, 'gb18030');
}

export type PrinterType = 'EPSON' | 'STAR';

export interface EscPosOptions {
  printerType: PrinterType;
}

const CHINESE_MODE: Record<PrinterType, { enter: Buffer; leave: Buffer }> = {
  EPSON: { enter: Buffer.from([0x1c, 0x26]), leave: Buffer.from([0x1c, 0x2e]) },
  STAR: { enter: Buffer.from([0x1b, 0x70]), leave: Buffer.from([0x1b, 0x71]) },
};

/** ESC @: the same initialise command on both; node-thermal-printer only emits it after a cut. */
const INIT = Buffer.from([0x1b, 0x40]);

const ASCII_PRINTABLE = /^[\x20-\x7e]*$/;

/** QR module size in dots: ~25 modules * 5 = 125 dots of a 384-dot (58 mm) head, 6 on 80 mm. */
function qrCellSize(columns: number): number {
  return columns >= 48 ? 6 : 5;
}

/**
 * STAR QR by hand: node-thermal-printer 4.6's Star printQR leaves out the
 * "set data" command header (ESC GS y D 1 0), so the printer would print the
 * payload as text. Star Line Mode: model, correction, cell size, data, print.
 */
function starQr(data: string, cellSize: number): Buffer {
  const payload = Buffer.from(data, 'ascii');
  return Buffer.concat([
    Buffer.from([0x1b, 0x1d, 0x79, 0x53, 0x30, 0x02]), // model 2
    Buffer.from([0x1b, 0x1d, 0x79, 0x53, 0x31, 0x01]), // correction M
    Buffer.from([0x1b, 0x1d, 0x79, 0x53, 0x32, cellSize]),
    Buffer.from([0x1b, 0x1d, 0x79, 0x44, 0x31, 0x00, payload.length & 0xff, payload.length >> 8]),
    payload,
    Buffer.from([0x1b, 0x1d, 0x79, 0x50]), // print
  ]);
}

/** The bytes of one line's text: ASCII as is, anything else GB18030 inside Chinese mode. */
export function encodeText(text: string, chinese: boolean, printerType: PrinterType): Buffer {
  if (ASCII_PRINTABLE.test(text)) return Buffer.from(text, 'ascii');
  if (!chinese) {
    // An ASCII-only receipt never carries other bytes; the builder already replaced them.
    return Buffer.from(text.replace(/[^\x20-\x7e]/gu, '?'), 'ascii');
  }
  const mode = CHINESE_MODE[printerType];
  return Buffer.concat([mode.enter, gb18030(text), mode.leave]);
}

/** Renders a receipt model to the bytes a printer of `printerType` prints (ends with a cut). */
export function renderEscPos(model: ReceiptModel, options: EscPosOptions): Buffer {
  const type = options.printerType;
  // No `interface`: the library then builds a buffer only and never opens a device or socket.
  const { PrinterTypes, ThermalPrinter } = thermal();
  const p = new ThermalPrinter({ type: type === 'STAR' ? PrinterTypes.STAR : PrinterTypes.EPSON, interface: '', width: model.columns });
  p.add(INIT);

  let align: TextLine['align'] = 'left';
  let bold = false;
  let size: TextLine['size'] = 1;
  const setAlign = (next: TextLine['align']): void => {
    if (next === align) return;
    align = next;
    if (next === 'center') p.alignCenter();
    else if (next === 'right') p.alignRight();
    else p.alignLeft();
  };
  const setSize = (next: TextLine['size']): void => {
    if (next === size) return;
    size = next;
    if (type === 'EPSON') p.setTextSize(next - 1, next - 1);
    else if (next === 2) p.setTextQuadArea();
    else p.setTextNormal();
  };
  const setBold = (next: boolean): void => {
    if (next === bold) return;
    bold = next;
    p.bold(next);
  };

  for (const item of model.items) {
    if (item.type === 'qr') {
      setAlign('center');
      if (type === 'STAR') p.add(starQr(item.data, qrCellSize(model.columns)));
      else p.printQR(item.data, { cellSize: qrCellSize(model.columns), correction: 'M', model: 2 });
      continue;
    }
    setAlign(item.align);
    setSize(item.size);
    setBold(item.bold);
    p.add(encodeText(item.text, model.chinese, type));
    p.newLine();
  }
  setAlign('left');
  setSize(1);
  setBold(false);
  p.cut();
  return Buffer.from(p.getBuffer());
}
