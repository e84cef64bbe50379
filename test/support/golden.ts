/**
 * Golden receipts: a receipt model rendered to ESC/POS, read back as paper
 * text, and compared with test/fixtures/<name>.bin and .txt. Fixed inputs and
 * clock make a diff a layout change; rerun with UPDATE_GOLDEN=1 if it is
 * deliberate.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { lineFits, renderEscPos, type ReceiptModel, type TextLine } from '../../main/printer';
import { decodeEscPos, toPaperText } from '../../main/sandbox/escpos-decoder';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

export const textLines = (m: ReceiptModel): TextLine[] => m.items.filter((i): i is TextLine => i.type === 'text');

/** Checks `model` against its golden files (every line fits its paper too) and returns its paper text. */
export function expectGolden(name: string, model: ReceiptModel, printerType: 'EPSON' | 'STAR' = 'EPSON'): string {
  for (const line of textLines(model)) expect(lineFits(line, model.columns), line.text).toBe(true);
  const bytes = renderEscPos(model, { printerType });
  const paperText = toPaperText(decodeEscPos(bytes, { dialect: printerType === 'STAR' ? 'star' : 'escpos' }), model.columns) + '\n';
  const bin = path.join(FIXTURES, `${name}.bin`);
  const txt = path.join(FIXTURES, `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(FIXTURES, { recursive: true });
    fs.writeFileSync(bin, bytes);
    fs.writeFileSync(txt, paperText);
  }
  expect(paperText).toBe(fs.readFileSync(txt, 'utf8'));
  expect(bytes.toString('hex')).toBe(fs.readFileSync(bin).toString('hex'));
  return paperText;
}
