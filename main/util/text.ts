/**
 * Text that came from outside (gateway strings, operator names, settings,
 * store names) before it is printed or shown. Control characters would be
 * printer commands or break a line; format characters (Unicode Cf: bidi
 * overrides such as U+202E, zero-width spaces, BOM, tag characters) make a
 * receipt or a screen show something other than what is stored, e.g. an
 * amount or an order number read backwards. One function, used by the
 * receipt model, the HTML preview and every IPC view.
 */

/** Cc, Zl, Zp become a space (they separate words); Cf and lone surrogates are dropped. */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cf}\p{Cs}]/u;
const SPACING = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
const INVISIBLE = /[\p{Cf}\p{Cs}]/gu;

export function safeText(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return text.replace(SPACING, ' ').replace(INVISIBLE, '');
}

/**
 * `safeText` on every string inside a JSON-like value (views, events, error
 * envelopes). Returns the very same object when nothing needed cleaning, so
 * identity-based caches of views keep working.
 */
export function safeStrings<T>(value: T): T {
  if (typeof value === 'string') return safeText(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    value.forEach((item, i) => {
      const clean = safeStrings(item);
      if (clean !== item) (out ??= [...value])[i] = clean;
    });
    return (out ?? value) as T;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    let out: Record<string, unknown> | null = null;
    for (const [k, item] of Object.entries(value)) {
      const clean = safeStrings(item);
      if (clean !== item) (out ??= { ...(value as Record<string, unknown>) })[k] = clean;
    }
    return (out ?? value) as T;
  }
  return value;
}
