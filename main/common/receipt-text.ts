/** A receipt as plain text lines (CLI output, the preview's text, tests): the QR code shown by its data. */

export type ReceiptLineItem = { type: 'text'; text: string } | { type: 'qr'; data: string };

export function receiptLines(items: readonly ReceiptLineItem[]): string[] {
  return items.map((item) => (item.type === 'qr' ? `[QR] ${item.data}` : item.text));
}
