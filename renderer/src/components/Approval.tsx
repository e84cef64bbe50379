/**
 * THE confirmation of a money operation, one sheet for every kind (revoke,
 * refund, later payments): what is being done pinned in its header (kind,
 * amount, order), the amount on an on-screen keypad when the kind takes
 * one, and, when the policy asks a supervisor for this amount, the
 * approvers as name buttons and a PIN pad. Confirm stays disabled until
 * everything it needs is there; a wrong PIN keeps the sheet open with the
 * approver kept and says how many tries are left. Main checks the PIN
 * (counted, lockout) and decides again.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApprovalInput } from '../../../main/ipc/contract';
import type { ErrorView } from '../bridge';
import { formatCny } from '../format';
import { useI18n } from '../i18n';
import { approvalRule, needsApproval, useSessionContext, type ApprovalKind } from '../session';
import { PIN_MIN, PinPad } from './PinPad';
import { ErrorNotice, Modal, Spinner } from './ui';

/** Errors the sheet answers itself (the sheet stays open): everything else goes back to the screen. */
export const APPROVAL_ERRORS = ['PIN_INVALID', 'OPERATOR_LOCKED', 'APPROVAL_REQUIRED', 'APPROVER_NOT_ALLOWED', 'OPERATOR_UNKNOWN'];

export interface MoneySheetProps {
  kind: ApprovalKind;
  title: string;
  /** The confirm button's words for an amount. */
  okLabel: (amount: string) => string;
  /** The order (none for a payment: it has no order yet). */
  orderSn?: string;
  payway: string;
  /** The fixed amount (revoke), or the default and the most a keypad may take (refund). */
  amountCents: number;
  /** The amount is typed on the sheet's keypad, up to `amountCents`. */
  editable?: boolean;
  /** Runs the operation; an error the sheet does not answer itself closes it (the screen shows it). */
  onConfirm: (amountCents: number, approval: ApprovalInput | null) => Promise<ErrorView | null>;
  onCancel: () => void;
  /** Lines under the header (why, what happens to the money). */
  children?: ComponentChildren;
}

export function MoneySheet(props: MoneySheetProps) {
  const { t } = useI18n();
  const session = useSessionContext();
  const [typed, setTyped] = useState<string | null>(null);
  const amount = props.editable && typed !== null ? Number(typed || '0') : props.amountCents;
  const approvers = session.roster.filter((o) => (o.role === 'supervisor' || o.role === 'store_it') && o.id !== session.state?.signedIn?.operatorId);
  const [approverId, setApproverId] = useState<number | null>(approvers.length === 1 && !approvers[0]!.locked ? approvers[0]!.id : null);
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorView | null>(null);
  const inflight = useRef(false);
  const okRef = useRef<HTMLButtonElement>(null);
  const needed = needsApproval(session.state, amount, props.kind);
  const tooHigh = amount > props.amountCents;
  const amountOk = amount > 0 && !tooHigh;
  const lockedUntil = error?.code === 'OPERATOR_LOCKED' && typeof error.details?.lockedUntil === 'number' ? error.details.lockedUntil : null;
  const readyWith = (p: string) => amountOk && !busy && (!needed || (approverId !== null && p.length >= PIN_MIN && lockedUntil === null));
  const ready = readyWith(pin);

  /** `typedPin`: the PIN as the pad had it when Enter came (it may be ahead of this render). */
  const confirm = async (typedPin = pin) => {
    if (!readyWith(typedPin) || inflight.current) return;
    inflight.current = true;
    setBusy(true);
    setError(null);
    const err = await props.onConfirm(amount, needed && approverId !== null ? { operatorId: approverId, pin: typedPin } : null);
    inflight.current = false;
    setBusy(false);
    if (!err) return;
    if (!APPROVAL_ERRORS.includes(err.code)) return props.onCancel();
    // The approver stays chosen; only the PIN is typed again.
    setPin('');
    setError(err);
    void session.refresh();
  };

  const remaining = error?.code === 'PIN_INVALID' && typeof error.details?.remaining === 'number' ? error.details.remaining : null;
  const rule = session.state ? approvalRule(session.state, props.kind) : null;

  return (
    <Modal
      class="dialog money-sheet"
      labelledBy="money-sheet-title"
      onCancel={props.onCancel}
      // Nothing to type: Enter confirms at once (focus on the confirm button). A PIN or an amount: the pads take the keys.
      onOpen={() => (needed || props.editable ? okRef.current?.blur() : okRef.current?.focus())}
    >
      <header class="money-sheet__head" data-sheet-head>
        <h2 id="money-sheet-title" class="money-sheet__title">
          {props.title}
        </h2>
        <p class="money-sheet__amount" data-amount-cents={amount}>
          {formatCny(amount)}
        </p>
        <p class="money-sheet__order">
          {props.payway}
          {props.orderSn !== undefined && (
            <>
              {' · '}
              {t('detail.sn')} <code>{props.orderSn}</code>
            </>
          )}
        </p>
      </header>
      <div class={`money-sheet__body${props.editable ? ' money-sheet__body--two' : ''}${needed ? ' money-sheet__body--approval' : ''}`}>
        {props.editable && (
          <section class="money-sheet__step" data-step="amount">
            <AmountPad value={typed ?? String(props.amountCents)} onChange={setTyped} maxCents={props.amountCents} />
            {tooHigh && (
              <p class="notice notice--warn" data-amount-too-high>
                {t('refund.tooHigh', { amount: formatCny(props.amountCents) })}
              </p>
            )}
          </section>
        )}
        {needed ? (
          <section class="money-sheet__step approval" data-step="approval">
            <p class="approval__why">{rule?.rule === 'above' ? t(`approval.above.${props.kind}` as const, { amount: formatCny(rule.aboveCents) }) : t(`approval.always.${props.kind}` as const)}</p>
            {approvers.length === 0 ? (
              <p class="notice notice--warn">{t('approval.none')}</p>
            ) : (
              <>
                <div class="approval__who" role="radiogroup" aria-label={t('approval.who')}>
                  {approvers.map((o) => (
                    <button
                      type="button"
                      key={o.id}
                      role="radio"
                      aria-checked={approverId === o.id}
                      class={`roster__person roster__person--small${approverId === o.id ? ' roster__person--chosen' : ''}`}
                      data-approver={o.name}
                      disabled={o.locked}
                      onClick={() => {
                        setApproverId(o.id);
                        setError(null);
                      }}
                    >
                      <span class="roster__name">{o.name}</span>
                      {o.locked && <span class="roster__locked">{t('signin.locked')}</span>}
                    </button>
                  ))}
                </div>
                {remaining !== null && (
                  <p class="notice notice--error" role="alert" data-tries-left={remaining}>
                    {t('approval.wrongPin', { n: remaining })}
                  </p>
                )}
                {lockedUntil !== null && <LockedNotice until={lockedUntil} onOver={() => setError(null)} />}
                <PinPad
                  value={pin}
                  onChange={setPin}
                  onSubmit={(typedPin) => void confirm(typedPin)}
                  disabled={approverId === null || lockedUntil !== null || busy}
                  label={t('approval.pin')}
                  name="approval"
                />
              </>
            )}
          </section>
        ) : (
          !props.editable && props.children
        )}
        {error && remaining === null && lockedUntil === null && <ErrorNotice error={error} />}
      </div>
      <footer class="money-sheet__foot">
        <button type="button" class="btn btn--secondary btn--large" data-action="cancel" onClick={props.onCancel}>
          {t('confirm.cancel')}
        </button>
        <button type="button" ref={okRef} class="btn btn--danger btn--large" data-action="confirm" disabled={!ready} onClick={() => void confirm()}>
          {busy && <Spinner />} {props.okLabel(formatCny(amount))}
        </button>
      </footer>
    </Modal>
  );
}

/** "已锁定，mm:ss 后可再试": the lockout's countdown, from `lockedUntil` (epoch ms) as main reported it. */
function LockedNotice({ until, onOver }: { until: number; onOver: () => void }) {
  const { t } = useI18n();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => {
      const n = Date.now();
      setNow(n);
      if (n >= until) onOver();
    }, 1000);
    return () => window.clearInterval(timer);
  }, [until]);
  const left = Math.max(0, Math.ceil((until - now) / 1000));
  return (
    <p class="notice notice--error" role="alert" data-locked-until={until}>
      {t('approval.locked', { time: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` })}
    </p>
  );
}

/**
 * An amount keypad as on a cash register: digits come in from the right in
 * cents (1, 2, 3, 4 is ￥12.34), ⌫ takes the last one back, 全额 puts the most
 * it may take (a refund's; a payment has no most: 清除 empties it instead). The value is a string of cents digits.
 */
/** Cents digits after one more digit key ('0'…'9' or '00'): leading zeros dropped; undefined past 10 digits. */
export function withDigit(digits: string, key: string): string | undefined {
  const next = `${digits}${key}`.replace(/^0+/, '');
  return next.length <= 10 ? next : undefined;
}

export function AmountPad({ value, onChange, maxCents }: { value: string; onChange: (cents: string) => void; maxCents?: number }) {
  const { t } = useI18n();
  // The first digit replaces the proposed amount; later ones add to it.
  const fresh = useRef(maxCents !== undefined);
  const press = (key: string) => {
    const base = fresh.current ? '' : value;
    fresh.current = false;
    if (key === 'back') return onChange(base.slice(0, -1));
    if (key === 'clear') return onChange('');
    if (key === 'all' && maxCents !== undefined) {
      fresh.current = true;
      return onChange(String(maxCents));
    }
    const next = withDigit(base, key);
    if (next !== undefined) onChange(next);
  };
  const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '00', '0', 'back'];
  return (
    <div class="amountpad" data-amountpad>
      {maxCents !== undefined && <p class="amountpad__label">{t('refund.amount')}</p>}
      <div class="amountpad__keys">
        {keys.map((k) => (
          <button type="button" key={k} class={`pinpad__key${k === 'back' ? ' pinpad__key--back' : ''}`} data-amount-key={k} aria-label={k === 'back' ? t('pin.back') : k} onClick={() => press(k)}>
            {k === 'back' ? t('pin.back') : k}
          </button>
        ))}
      </div>
      {maxCents !== undefined ? (
        <button type="button" class="btn btn--secondary amountpad__all" data-amount-key="all" onClick={() => press('all')}>
          {t('refund.all', { amount: formatCny(maxCents) })}
        </button>
      ) : (
        <button type="button" class="btn btn--secondary amountpad__all" data-amount-key="clear" onClick={() => press('clear')}>
          {t('pay.clear')}
        </button>
      )}
    </div>
  );
}
