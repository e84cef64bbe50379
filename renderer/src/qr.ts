/**
 * The receipt preview's QR code, drawn from the same data the printer gets
 * (the receipt model's QR item), so the preview scans like the paper.
 * Built with DOM calls (no markup string): nothing here passes the CSP's
 * inline-style rule or the preview's sanitiser.
 */
import qrcode from 'qrcode-generator';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG of `data` as a QR code (error correction M, as the printer's default), quiet zone included. */
export function qrSvg(data: string): SVGSVGElement {
  const qr = qrcode(0, 'M');
  qr.addData(data);
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 2;
  let d = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  }
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${n + 2 * quiet} ${n + 2 * quiet}`);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `QR ${data}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const bg = document.createElementNS(SVG_NS, 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', '#fff');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(bg, path);
  return svg;
}

/** Draws every `[data-qr]` placeholder under `root` (the preview HTML from the main process). */
export function drawQrCodes(root: Element): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-qr]')) {
    const data = el.dataset.qr ?? '';
    if (!data || el.querySelector('svg.qr')) continue;
    el.replaceChildren(qrSvg(data));
  }
}
