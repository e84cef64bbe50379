/**
 * The one backoff of the app: the wait before another try after `attempts`
 * failed ones, doubling from `baseMs` up to `capMs`. With `random`, half of
 * the wait is jittered (many tills retrying one gateway do not beat in step).
 * Used by the money-operation outbox, the print worker, the Electron crash
 * policy and the fleet shipper's restarts.
 */
export function backoff(attempts: number, baseMs: number, capMs: number, random?: () => number): number {
  const tries = Math.max(1, attempts);
  const delay = Math.min(capMs, baseMs * 2 ** Math.min(tries - 1, 20));
  return random ? Math.round(delay / 2 + random() * (delay / 2)) : delay;
}
