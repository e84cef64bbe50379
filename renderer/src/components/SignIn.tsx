/**
 * The sign-in screen: who are you (a large button per operator), then your
 * PIN on the pad. On a fresh terminal (no operator yet) it is the first-run
 * setup instead: the first store IT operator's name and PIN, after which
 * store setup (activation) opens. Every rule is the main process's; this
 * screen shows its answers (wrong PIN, locked) in the window's language.
 */
import { useState } from 'preact/hooks';
import type { ErrorView } from '../bridge';
import { useI18n, type MessageKey } from '../i18n';
import type { RosterEntry, Session } from '../session';
import { PinPad, PIN_MIN } from './PinPad';
import { ErrorNotice } from './ui';

export function SignIn({ session, onToggleLanguage }: { session: Session; onToggleLanguage: () => void }) {
  const { t, lang } = useI18n();
  if (session.state?.bootstrap) return <Bootstrap session={session} />;
  return (
    <main class="signin" data-view="sign-in">
      <header class="signin__head">
        <h1 class="signin__title">{t('signin.title')}</h1>
        <button type="button" class="btn btn--quiet" lang={lang === 'zh-CN' ? 'en' : 'zh-CN'} onClick={onToggleLanguage} data-action="language">
          {t('app.switchLanguage')}
        </button>
      </header>
      {session.state?.hostSignIn ? <p class="notice notice--info">{t('signin.byHost')}</p> : <Roster session={session} />}
    </main>
  );
}

function Roster({ session }: { session: Session }) {
  const { t } = useI18n();
  const [chosen, setChosen] = useState<RosterEntry | null>(null);
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorView | null>(null);

  const submit = async (typed: string) => {
    if (!chosen || busy || typed.length < PIN_MIN) return;
    setBusy(true);
    const r = await session.signIn(chosen.id, typed);
    setBusy(false);
    setPin('');
    if (!r.ok) setError(r.error);
  };

  if (!chosen) {
    return (
      <section class="signin__roster" aria-label={t('signin.who')}>
        <h2 class="signin__sub">{t('signin.who')}</h2>
        {session.roster.length === 0 && <p class="notice notice--info">{t('signin.noOperators')}</p>}
        <div class="roster">
          {session.roster.map((o) => (
            <button
              type="button"
              key={o.id}
              class={`roster__person${o.locked ? ' roster__person--locked' : ''}`}
              data-operator={o.name}
              onClick={() => {
                setChosen(o);
                setError(null);
                setPin('');
              }}
            >
              <span class="roster__name">{o.name}</span>
              <span class="roster__role">{t(`role.${o.role}` as MessageKey)}</span>
              {o.locked && <span class="roster__locked">{t('signin.locked')}</span>}
            </button>
          ))}
        </div>
      </section>
    );
  }
  return (
    <section class="signin__pin" data-signing-in={chosen.name}>
      <button type="button" class="btn btn--quiet" data-action="back" onClick={() => setChosen(null)}>
        {t('signin.other')}
      </button>
      <h2 class="signin__sub">
        {chosen.name} <span class="roster__role">{t(`role.${chosen.role}` as MessageKey)}</span>
      </h2>
      {error && <ErrorNotice error={error} onDismiss={() => setError(null)} />}
      <PinPad value={pin} onChange={setPin} onSubmit={(typed) => void submit(typed)} disabled={busy} label={t('signin.pin')} name="sign-in" />
    </section>
  );
}

function Bootstrap({ session }: { session: Session }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [first, setFirst] = useState<string | null>(null);
  const [error, setError] = useState<string | ErrorView | null>(null);
  const [busy, setBusy] = useState(false);

  const next = async (typed: string) => {
    if (busy || typed.length < PIN_MIN) return;
    if (first === null) {
      setFirst(typed);
      setPin('');
      return;
    }
    if (typed !== first) {
      setError(t('bootstrap.mismatch'));
      setFirst(null);
      setPin('');
      return;
    }
    setBusy(true);
    const r = await session.bootstrap(name.trim(), typed);
    setBusy(false);
    if (!r.ok) {
      setError(r.error);
      setFirst(null);
      setPin('');
    }
  };

  return (
    <main class="signin" data-view="bootstrap">
      <h1 class="signin__title">{t('bootstrap.title')}</h1>
      <p class="signin__lead">{t('bootstrap.body')}</p>
      <label class="field">
        <span class="field__label">{t('bootstrap.name')}</span>
        <input class="input" name="operator-name" maxLength={32} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} autoComplete="off" />
      </label>
      {error && (typeof error === 'string' ? <p class="notice notice--error">{error}</p> : <ErrorNotice error={error} onDismiss={() => setError(null)} />)}
      <PinPad
        value={pin}
        onChange={setPin}
        onSubmit={(typed) => void next(typed)}
        disabled={busy || name.trim() === ''}
        label={first === null ? t('bootstrap.pin') : t('bootstrap.pinAgain')}
        name="bootstrap"
      />
    </main>
  );
}
