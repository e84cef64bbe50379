/**
 * Store IT's money policy: when a revoke, a refund or a payment needs a
 * supervisor's PIN (always, above an amount, never). Saved through `settings.set`, which
 * main allows to store IT only and writes to the audit log.
 */
import { useEffect, useState } from 'preact/hooks';
import { parseTypedAmount } from '../../../main/common/money';
import { call, type ErrorView, type SettingsView } from '../bridge';
import { useI18n } from '../i18n';
import { useSessionContext } from '../session';
import { ErrorNotice } from './ui';

type Rule = SettingsView['revokeApproval'];
const RULES: readonly Rule[] = ['always', 'above', 'never'];

type Kind = 'revoke' | 'refund' | 'pay';
const KINDS: readonly Kind[] = ['revoke', 'refund', 'pay'];

/** Per kind: its rule and the amount above which it applies (as typed, yuan). */
type PolicyForm = Record<Kind, { rule: Rule; above: string }>;

const yuan = (cents: number) => (cents / 100).toFixed(2);
/** "500" or "500.00" as cents; undefined when it is not an amount. */
const cents = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text.trim()) * 100 : parseTypedAmount(text));

export function PolicyCard() {
  const { t } = useI18n();
  const session = useSessionContext();
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [error, setError] = useState<ErrorView | null>(null);
  const [done, setDone] = useState(false);

  useEffect(() => {
    void call((p) => p.settingsGet()).then((r) => {
      if (!r.ok) return setError(r.error);
      const s = r.value;
      setForm({
        revoke: { rule: s.revokeApproval, above: yuan(s.revokeApprovalAboveCents) },
        refund: { rule: s.refundApproval, above: yuan(s.refundApprovalAboveCents) },
        pay: { rule: s.payApproval, above: yuan(s.payApprovalAboveCents) },
      });
    });
  }, []);
  if (!form) return error ? <ErrorNotice error={error} /> : null;

  const above = { revoke: cents(form.revoke.above), refund: cents(form.refund.above), pay: cents(form.pay.above) };
  const valid = KINDS.every((k) => above[k] !== undefined);
  const save = async (e: Event) => {
    e.preventDefault();
    if (!valid) return;
    setDone(false);
    const r = await call((p) =>
      p.settingsSet({
        revokeApproval: form.revoke.rule,
        revokeApprovalAboveCents: above.revoke,
        refundApproval: form.refund.rule,
        refundApprovalAboveCents: above.refund,
        payApproval: form.pay.rule,
        payApprovalAboveCents: above.pay,
      }),
    );
    if (!r.ok) return setError(r.error);
    setError(null);
    setDone(true);
    await session.refresh();
  };
  const rule = (kind: Kind) => {
    const key = `${kind}Approval`;
    const set = (patch: Partial<PolicyForm[Kind]>) => setForm({ ...form, [kind]: { ...form[kind], ...patch } });
    return (
      <fieldset class="policy__rule" data-policy={kind}>
        <legend>{t(`policy.${kind}` as const)}</legend>
        <label class="field">
          <span class="field__label">{t('policy.when')}</span>
          <select class="input" name={key} value={form[kind].rule} onChange={(e) => set({ rule: e.currentTarget.value as Rule })}>
            {RULES.map((r) => (
              <option key={r} value={r}>
                {t(`policy.rule.${r}` as const)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="field__label">{t('policy.above')}</span>
          <input
            class="input"
            name={`${kind}Above`}
            inputMode="decimal"
            disabled={form[kind].rule !== 'above'}
            value={form[kind].above}
            onInput={(e) => set({ above: e.currentTarget.value })}
          />
        </label>
      </fieldset>
    );
  };
  return (
    <section class="card card--wide" aria-labelledby="policy-title" data-card="policy">
      <h2 id="policy-title" class="card__title">
        {t('policy.title')}
      </h2>
      <p class="card__hint">{t('policy.hint')}</p>
      <form class="form policy" onSubmit={(e) => void save(e)} data-form="policy">
        {KINDS.map(rule)}
        {!valid && <p class="notice notice--warn">{t('refund.amountInvalid')}</p>}
        <button type="submit" class="btn btn--primary btn--large" data-action="save-policy" disabled={!valid}>
          {t('policy.save')}
        </button>
      </form>
      {done && (
        <p class="notice notice--ok" role="status" data-saved="policy">
          {t('setup.saved')}
        </p>
      )}
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
    </section>
  );
}
