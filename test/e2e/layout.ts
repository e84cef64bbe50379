/** Layout checks shared by the e2e suites: nothing outside the window, nothing clipped sideways, touch-sized targets; text contrast. */

/** Page-side layout checks (a string: this file is typechecked without the DOM lib). */
export const LAYOUT_PROBE = `(() => {
  const vw = window.innerWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + (el.textContent ? ' "' + el.textContent.trim().slice(0, 30) + '"' : '');
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const all = [...document.querySelectorAll('body *')].filter(visible);
  const outside = all.filter((el) => { const r = el.getBoundingClientRect(); return r.right > vw + 1 || r.left < -1; }).map(describe);
  // Boxes that hide or scroll their overflow must not be hiding content sideways (ellipsised order numbers excepted).
  const clipped = all
    .filter((el) => getComputedStyle(el).overflowX !== 'visible' && !['order__sn', 'order__subject', 'order__operator', 'order__payway', 'order__badge', 'visually-hidden'].some((c) => el.classList.contains(c)))
    .filter((el) => el.scrollWidth > el.clientWidth + 1)
    .map((el) => describe(el) + ' ' + el.scrollWidth + '>' + el.clientWidth);
  const targets = [...document.querySelectorAll('button, input:not([type=checkbox]):not([type=radio]), select, textarea, .check, .choice__option, a[href]')].filter(visible);
  const small = targets.filter((el) => { const r = el.getBoundingClientRect(); return r.height < 48 || r.width < 48; }).map((el) => describe(el) + ' ' + Math.round(el.getBoundingClientRect().width) + 'x' + Math.round(el.getBoundingClientRect().height));
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth: vw, outside: outside.slice(0, 8), clipped: clipped.slice(0, 8), small: small.slice(0, 8) };
})()`;

export interface LayoutProbe {
  scrollWidth: number;
  innerWidth: number;
  outside: string[];
  clipped: string[];
  small: string[];
}

/**
 * Page-side (pasted into a probe's function body): `contrast(el)`, the WCAG contrast ratio of an element's text colour
 * against the first mostly opaque background behind it.
 */
export const CONTRAST = `const parse = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
  const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; }
    return parse(getComputedStyle(document.body).backgroundColor);
  };
  const contrast = (el) => { const a = lum(parse(getComputedStyle(el).color)); const b = lum(background(el)); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };`;
