/**
 * Refusals that come before a money operation's row is written: nothing was
 * recorded or sent, no money moved. The ones every request shares, and each
 * kind's own (`extra`).
 */
const BEFORE_ANY_RECORD = [
  'INVALID_INPUT',
  'FORBIDDEN_SENDER',
  'OPERATOR_REQUIRED',
  'ROLE_REQUIRED',
  'APPROVAL_REQUIRED',
  'PIN_INVALID',
  'OPERATOR_LOCKED',
  'APPROVER_NOT_ALLOWED',
  'NOT_ACTIVATED',
];

export function refusedBeforeRecord(...extra: string[]): ReadonlySet<string> {
  return new Set([...BEFORE_ANY_RECORD, ...extra]);
}
