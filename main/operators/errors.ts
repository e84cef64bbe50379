/** The operators' errors, in the cashier's two languages (codes are stable: the renderer and the CLI branch on them). */
import { PosError } from '../errors';
import type { Role } from '../store/operators';

export const operatorRequired = (reason: 'none' | 'expired' | 'ended' = 'none') =>
  reason === 'expired'
    ? new PosError('OPERATOR_REQUIRED', '登录已超时，请重新登录。', 'Your session timed out: sign in again.', { reason })
    : reason === 'ended'
      ? new PosError('OPERATOR_REQUIRED', '此账号已被停用或 PIN 已重置，请重新登录。', 'This operator was disabled or their PIN was reset: sign in again.', { reason })
      : new PosError('OPERATOR_REQUIRED', '请先登录收银员账号。', 'Sign in first.', { reason });

const ROLE_NAMES: Record<Role, [zh: string, en: string]> = {
  cashier: ['收银员', 'cashier'],
  supervisor: ['主管', 'supervisor'],
  store_it: ['门店 IT', 'store IT'],
};

export const roleName = (role: Role): [zh: string, en: string] => ROLE_NAMES[role];

export const roleRequired = (roles: readonly Role[]) =>
  new PosError(
    'ROLE_REQUIRED',
    `此操作需要${roles.map((r) => ROLE_NAMES[r][0]).join('或')}权限。`,
    `Only ${roles.map((r) => ROLE_NAMES[r][1]).join(' or ')} may do this.`,
    { roles: [...roles] },
  );

const APPROVAL_WORDS = { revoke: ['撤销', 'revoke'], refund: ['退款', 'refund'], pay: ['收款', 'payment'] } as const;

export const approvalRequired = (action: 'revoke' | 'refund' | 'pay', thresholdCents: number | null) =>
  new PosError(
    'APPROVAL_REQUIRED',
    `此${APPROVAL_WORDS[action][0]}需要主管审批：请主管输入 PIN。`,
    `This ${APPROVAL_WORDS[action][1]} needs a supervisor’s approval: a supervisor enters their PIN.`,
    { action, thresholdCents },
  );

export const pinInvalid = (remaining: number) =>
  new PosError('PIN_INVALID', `PIN 不正确，还可再试 ${remaining} 次。`, `Wrong PIN: ${remaining} ${remaining === 1 ? 'try' : 'tries'} left.`, { remaining });

export const operatorLocked = (lockedUntil: number, now: number) => {
  const minutes = Math.max(1, Math.ceil((lockedUntil - now) / 60_000));
  return new PosError(
    'OPERATOR_LOCKED',
    `PIN 错误次数过多，此账号已锁定，请 ${minutes} 分钟后再试，或请门店 IT 重置 PIN。`,
    `Too many wrong PINs: this operator is locked. Try again in ${minutes} min, or ask store IT to reset the PIN.`,
    { lockedUntil },
  );
};

export const operatorUnknown = () =>
  new PosError('OPERATOR_UNKNOWN', '找不到该操作员，或该账号已停用。', 'No such operator, or the operator is disabled.');

export const approverNotAllowed = () =>
  new PosError('APPROVER_NOT_ALLOWED', '审批人必须是主管或门店 IT（且不能是本人）。', 'The approver must be a supervisor or store IT (and not yourself).');

export const operatorsExist = () =>
  new PosError('OPERATORS_EXIST', '本机已有操作员：请用已有的门店 IT 账号登录。', 'This terminal already has operators: sign in as store IT.');

export const nameTaken = (name: string) =>
  new PosError('OPERATOR_NAME_TAKEN', `已有名为“${name}”的操作员。`, `An operator named “${name}” already exists.`, { name });

export const lastStoreIt = () =>
  new PosError('LAST_STORE_IT', '不能停用最后一个门店 IT 账号。', 'The last active store IT operator cannot be disabled.');

export const signInByHost = () =>
  new PosError('SIGN_IN_BY_HOST', '登录由收银软件负责，请在收银软件中登录。', 'Sign-in is handled by the host application: sign in there.');
