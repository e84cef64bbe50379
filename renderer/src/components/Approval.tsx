/**
 * The approval step inside the revoke confirmation: when the policy asks a
 * supervisor for this amount, the supervisor picks their name and types
 * their PIN here. Main checks the PIN (counted, lockout) and decides again.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApprovalInput } from '../../../main/ipc/contract';
import { formatCny } from '../format';
import { useI18n } from '../i18n';
import { needsApproval, useSessionContext } from '../session';
import { PinPad } from './PinPad';

export function ApprovalStep({ amountCents, onChange }: { amountCents: number; onChange: (approval: ApprovalInput | null) => void }) {
  const { t } = useI18n();
  const session = useSessionContext();
  const approvers = session.roster.filter((o) => (o.role === 'supervisor' || o.role === 'store_it') && o.id !== session.state?.signedIn?.operatorId);
  const [approverId, setApproverId] = useState<number | null>(approvers.length === 1 ? approvers[0]!.id : null);
  const [pin, setPin] = useState('');
  const needed = needsApproval(session.state, amountCents);

  useEffect(() => {
    onChange(needed && approverId !== null && pin.length >= 4 ? { operatorId: approverId, pin } : null);
  }, [needed, approverId, pin, onChange]);

  if (!needed) return null;
  const s = session.state!;
  return (
    <section class="approval" data-step="approval">
      <h3 class="approval__title">{t('approval.title')}</h3>
      <p class="approval__why">
        {s.revokeApproval === 'always' ? t('approval.always') : t('approval.above', { amount: formatCny(s.revokeApprovalAboveCents) })}
      </p>
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
                onClick={() => setApproverId(o.id)}
              >
                <span class="roster__name">{o.name}</span>
                {o.locked && <span class="roster__locked">{t('signin.locked')}</span>}
              </button>
            ))}
          </div>
          <PinPad value={pin} onChange={setPin} disabled={approverId === null} label={t('approval.pin')} name="approval" />
        </>
      )}
    </section>
  );
}
