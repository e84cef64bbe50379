/**
 * Operator management in store setup (store IT only; main refuses everyone
 * else): who may sign in, their role, disable / enable, a new PIN (which
 * also lifts a lockout). PINs go to main and are never shown or read back.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { OperatorView } from '../../../main/ipc/contract';
import { call, type ErrorView } from '../bridge';
import { formatCst } from '../format';
import { useI18n, type MessageKey } from '../i18n';
import { useSessionContext } from '../session';
import { ConfirmDialog, ErrorNotice, Icon } from './ui';

const ROLES = ['cashier', 'supervisor', 'store_it'] as const;
const PIN_PATTERN = '[0-9]{4,8}';

export function OperatorsCard() {
  const { t } = useI18n();
  const session = useSessionContext();
  const [list, setList] = useState<OperatorView[]>([]);
  const [error, setError] = useState<ErrorView | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<(typeof ROLES)[number]>('cashier');
  const [pin, setPin] = useState('');
  const [resetFor, setResetFor] = useState<number | null>(null);
  const [newPin, setNewPin] = useState('');
  const [disabling, setDisabling] = useState<OperatorView | null>(null);
  const setActive = (o: OperatorView, active: boolean) =>
    void call((p) => p.operatorsSetActive({ operatorId: o.id, active })).then((r) => after(r, t(active ? 'operators.enabledOk' : 'operators.disabledOk', { name: o.name })));

  const load = useCallback(async () => {
    const r = await call((p) => p.operatorsList());
    if (r.ok) setList(r.value);
    else setError(r.error);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const after = async (r: { ok: true } | { ok: false; error: ErrorView }, message: string) => {
    if (!r.ok) {
      setError(r.error);
      setDone(null);
      return;
    }
    setError(null);
    setDone(message);
    await load();
    await session.refresh();
  };

  const add = async (e: Event) => {
    e.preventDefault();
    const r = await call((p) => p.operatorsAdd({ name: name.trim(), role, pin }));
    setPin('');
    if (r.ok) setName('');
    await after(r, t('operators.added', { name: name.trim() }));
  };

  const reset = async (e: Event, o: OperatorView) => {
    e.preventDefault();
    const r = await call((p) => p.operatorsResetPin({ operatorId: o.id, pin: newPin }));
    setNewPin('');
    setResetFor(null);
    await after(r, t('operators.pinReset', { name: o.name }));
  };

  return (
    <section class="card card--wide" aria-labelledby="operators-title" data-card="operators">
      <h2 id="operators-title" class="card__title">
        {t('operators.title')}
      </h2>
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      {done && (
        <p class="notice notice--ok" role="status">
          {done}
        </p>
      )}
      <table class="operators">
        <thead>
          <tr>
            <th>{t('operators.name')}</th>
            <th>{t('operators.role')}</th>
            <th>{t('operators.state')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((o) => (
            <tr key={o.id} data-operator-row={o.name} data-active={String(o.active)}>
              <td>{o.name}</td>
              <td>{t(`role.${o.role}` as MessageKey)}</td>
              <td>{!o.active ? t('operators.disabled') : o.lockedUntil !== null ? t('operators.lockedUntil', { time: formatCst(o.lockedUntil) }) : t('operators.active')}</td>
              <td class="operators__actions">
                <button
                  type="button"
                  class="btn btn--secondary"
                  data-action={o.active ? 'disable' : 'enable'}
                  // Disabling someone stops them signing in: asked once more; enabling is harmless.
                  onClick={() => (o.active ? setDisabling(o) : setActive(o, true))}
                >
                  {o.active ? t('operators.disable') : t('operators.enable')}
                </button>
                {resetFor === o.id ? (
                  <form class="operators__reset" onSubmit={(e) => void reset(e, o)}>
                    <label class="field">
                      <span class="field__label">{t('operators.newPinFor', { name: o.name })}</span>
                      <input class="input" type="password" inputMode="numeric" pattern={PIN_PATTERN} required name="new-pin" value={newPin} onInput={(e) => setNewPin(e.currentTarget.value)} autoComplete="off" />
                    </label>
                    <button type="submit" class="btn btn--primary" data-action="save-pin">
                      {t('operators.save')}
                    </button>
                  </form>
                ) : (
                  <button type="button" class="btn btn--secondary" data-action="reset-pin" onClick={() => setResetFor(o.id)}>
                    {t('operators.resetPin')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {disabling && (
        <ConfirmDialog
          title={t('operators.confirmDisable', { name: disabling.name })}
          okLabel={t('operators.disable')}
          cancelLabel={t('confirm.cancel')}
          onOk={() => {
            setActive(disabling, false);
            setDisabling(null);
          }}
          onCancel={() => setDisabling(null)}
        >
          <p>{t('operators.confirmDisableBody')}</p>
        </ConfirmDialog>
      )}
      <form class="form operators__add" onSubmit={(e) => void add(e)} data-form="add-operator">
        <h3 class="card__sub">{t('operators.add')}</h3>
        <label class="field">
          <span class="field__label">{t('operators.name')}</span>
          <input class="input" name="name" required maxLength={32} autoComplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span class="field__label">{t('operators.role')}</span>
          <select class="input" name="role" value={role} onChange={(e) => setRole(e.currentTarget.value as (typeof ROLES)[number])}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="field__label">{t('operators.pin')}</span>
          <input class="input" name="pin" type="password" inputMode="numeric" pattern={PIN_PATTERN} required autoComplete="off" value={pin} onInput={(e) => setPin(e.currentTarget.value)} />
        </label>
        <button type="submit" class="btn btn--primary btn--large" data-action="add-operator">
          {t('operators.addButton')}
        </button>
      </form>
    </section>
  );
}

/** Who is signed in, in the status bar: name, role, and the one tap that signs out (to sign in as someone else). */
export function OperatorBadge() {
  const { t } = useI18n();
  const session = useSessionContext();
  const who = session.state?.signedIn;
  if (!who) return null;
  return (
    <div class="operator-badge" data-signed-in={who.name} data-role={who.role}>
      <span class="operator-badge__name">{who.name}</span>
      <span class="operator-badge__role">{t(`role.${who.role}` as MessageKey)}</span>
      {!session.state?.hostSignIn && (
        <button type="button" class="btn btn--quiet" data-action="sign-out" title={t('session.signOutLong')} aria-label={t('session.switch')} onClick={() => void session.signOut()}>
          <Icon name="user" />
          <span class="operator-badge__switch">{t('session.switch')}</span>
        </button>
      )}
    </div>
  );
}

/** What a signed-in operator who is not store IT sees on the setup tab. */
export function StoreItOnly() {
  const { t } = useI18n();
  return (
    <div class="setup">
      <p class="notice notice--info" data-notice="store-it-only">
        {t('session.storeItOnly')}
      </p>
    </div>
  );
}
