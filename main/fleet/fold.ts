/**
 * Text that comes from head office (a driver error carries the server's
 * message and SQLSTATE verbatim, whatever their size) is folded before it
 * is logged, stored (fleet_state.last_error, a set-aside reason) or shown:
 * one line (line breaks and tabs become a space; other control and format
 * characters, line and paragraph separators and lone surrogates become
 * U+FFFD), at most FOLD_MAX characters. So a hostile or broken server can
 * neither forge lines of the app's log nor flood it. Redact first, then
 * fold: a secret cut in half by the cap would no longer be found.
 */

/** The longest line head office's text makes in a log or in fleet_state. */
export const FOLD_MAX = 500;

/** One line, control characters replaced, at most `max` characters (`…` marks a cut). */
export function foldLine(text: string, max = FOLD_MAX): string {
  // Only the head is read: a megabyte costs what a short message does.
  const cut = text.length > max;
  const head = cut ? text.slice(0, max) : text;
  let s = head.replace(/[\r\n\t\v\f\u0085\u2028\u2029]+/g, ' ').replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, '\ufffd');
  if (cut) {
    s = s.slice(0, max - 1);
    // Never end on half a surrogate pair.
    if (/[\ud800-\udbff]$/.test(s)) s = s.slice(0, -1);
    s += '…';
  }
  return s;
}
