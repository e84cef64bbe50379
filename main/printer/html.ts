/**
 * Receipt model -> HTML fragment for the cashier's preview. Same lines as
 * the paper (the model is already laid out); styling only through class
 * names so the renderer's strict CSP (no inline style/script) holds:
 *   .receipt .receipt--w32|w48 [.receipt--copy]
 *   .rl .rl--<role> .rl--left|center|right [.rl--bold] [.rl--x2]
 *   .rl--qr[data-qr] — the renderer draws the QR from data-qr.
 * Lines need `white-space: pre` and a monospace CJK font (2:1) in the CSS.
 */
import { safeText } from '../util/text';
import type { ReceiptModel } from './receipt';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function renderHtml(model: ReceiptModel): string {
  const rootClasses = ['receipt', `receipt--w${model.columns}`, `receipt--${model.kind}`];
  if (model.copy) rootClasses.push('receipt--copy');
  const lines = model.items.map((item) => {
    if (item.type === 'qr') {
      return `<div class="rl rl--qr rl--center" data-qr="${escapeHtml(safeText(item.data))}"></div>`;
    }
    const classes = ['rl', `rl--${item.role}`, `rl--${item.align}`];
    if (item.bold) classes.push('rl--bold');
    if (item.size === 2) classes.push('rl--x2');
    // Stored models are rendered again for the preview: clean them here too, whatever version built them.
    return `<div class="${classes.join(' ')}">${escapeHtml(safeText(item.text))}</div>`;
  });
  return `<div class="${rootClasses.join(' ')}" lang="${model.chinese ? 'zh-CN' : 'en'}">${lines.join('')}</div>`;
}
