/**
 * A barcode scanner is a keyboard that types fast: a burst of characters,
 * each within a few milliseconds of the last, ending in Enter. People type
 * far slower. The detector tells the two apart from key timings alone, so a
 * scan is caught wherever the focus is on the cashier screen.
 */
import { useLayoutEffect, useRef } from 'preact/hooks';

/** Longest gap between two keys of one scan (scanners send a key every 1–20 ms; a person's keys come ≥ 80 ms apart). */
export const SCAN_GAP_MS = 50;
/** Shortest code taken for a scan (our order numbers and merchant order numbers are longer). */
export const SCAN_MIN_LENGTH = 6;

export class ScanDetector {
  private buffer = '';
  private lastAt = -Infinity;

  /** Feeds one key; returns the scanned code when this key (Enter) ends a scan, else null. */
  key(key: string, at: number): string | null {
    const fast = at - this.lastAt <= SCAN_GAP_MS;
    this.lastAt = at;
    if (key === 'Enter') {
      const code = fast ? this.buffer : '';
      this.buffer = '';
      return code.length >= SCAN_MIN_LENGTH ? code : null;
    }
    if (key.length !== 1) {
      this.buffer = '';
      return null;
    }
    this.buffer = fast ? this.buffer + key : key;
    return null;
  }

  /** Characters of the burst so far (to take them back out of a text field they were typed into). */
  get pending(): number {
    return this.buffer.length;
  }
}

/**
 * Calls `onScan(code)` for every scan typed anywhere in the window while
 * `active`. The Enter ending a scan is swallowed (it must not press the
 * focused button); characters a scan typed into a text field are removed.
 */
export function useScanner(onScan: (code: string) => void, active: boolean): void {
  const handler = useRef(onScan);
  handler.current = onScan;
  // A layout effect: listening from the moment the screen is drawn, so a scan right after it opens is not lost.
  useLayoutEffect(() => {
    if (!active) return;
    const detector = new ScanDetector();
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return;
      const typed = detector.pending;
      const code = detector.key(e.key, e.timeStamp);
      if (code === null) return;
      e.preventDefault();
      e.stopPropagation();
      const field = e.target;
      if (field instanceof HTMLInputElement && field.value.endsWith(code.slice(-typed))) {
        field.value = field.value.slice(0, field.value.length - typed);
        field.dispatchEvent(new Event('input', { bubbles: true }));
      }
      handler.current(code);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [active]);
}
