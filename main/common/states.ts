/**
 * The revoke state machine's state names and the outcome callers see (CLI
 * JSON, IPC, screens): one list, imported by the store, the contract and the UI.
 */

export const REVOKE_STATES = ['sending', 'queued', 'pending', 'revoked', 'rejected', 'needs_attention', 'expired'] as const;
export type RevokeState = (typeof REVOKE_STATES)[number];

/** States a revoke never leaves. `needs_attention` is open: a person can query again. */
export const FINAL_REVOKE_STATES: readonly RevokeState[] = ['revoked', 'rejected', 'expired'];

export function isFinalRevokeState(state: string): boolean {
  return (FINAL_REVOKE_STATES as readonly string[]).includes(state);
}

export const REVOKE_OUTCOMES = ['revoked', 'rejected', 'pending', 'needs_attention', 'queued', 'expired'] as const;
/** The outcome vocabulary shown to callers. */
export type RevokeOutcome = (typeof REVOKE_OUTCOMES)[number];

/** `sending` is in flight (maybe in another process): not final, like pending. */
export function revokeOutcome(state: RevokeState): RevokeOutcome {
  return state === 'sending' ? 'pending' : state;
}

/** A money operation's kind (the order lock's `kind`) as a cashier or store IT reads it. */
export const MONEY_KIND_ZH: Readonly<Record<string, string>> = { revoke: '撤销', refund: '退款', pay: '收款' };
export const MONEY_KIND_EN: Readonly<Record<string, string>> = { revoke: 'revoke', refund: 'refund', pay: 'payment' };
