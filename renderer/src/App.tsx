/** The window: sign-in until someone is signed in; then the status bar, deadline banner, and the cashier or store-setup view; the colour theme. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call } from './bridge';
import { Cashier, type OpenRequest } from './components/Cashier';
import { PaymentScreen } from './components/Payment';
import { StoreItOnly } from './components/Operators';
import { SignIn } from './components/SignIn';
import { Setup } from './components/Setup';
import { StatusBar, WarningBanner, type Tab, type Theme } from './components/StatusBar';
import { I18nContext, makeI18n, type Lang } from './i18n';
import { LiveContext, useLive } from './live';
import { usePayments } from './payments';
import { SessionContext, useSession } from './session';

const THEME_KEY = 'upay-pos.theme';

function storedTheme(): Theme {
  try {
    const v = window.localStorage.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' ? v : 'auto';
  } catch {
    return 'auto';
  }
}

export function App() {
  const live = useLive();
  // --- operators: the session decides what this window shows, and its operator's language wins.
  const session = useSession();
  const signedIn = session.state?.signedIn ?? null;
  const [lang, setLang] = useState<Lang>('zh-CN');
  const [tab, setTab] = useState<Tab>('cashier');
  const [theme, setTheme] = useState<Theme>(storedTheme);
  const [openRequest, setOpenRequest] = useState<OpenRequest | null>(null);
  const decided = useRef({ lang: false, tab: false });
  const i18n = useMemo(() => makeI18n(lang), [lang]);
  // --- payments: followed at the window's level, so leaving the 收款 screen (or a reload) loses none.
  const payments = usePayments(signedIn !== null);

  // The stored language and "not activated yet -> setup" apply once, at start.
  useEffect(() => {
    if (live.info && !decided.current.lang) {
      decided.current.lang = true;
      setLang(live.info.language);
    }
  }, [live.info]);
  useEffect(() => {
    if (live.terminal && !decided.current.tab) {
      decided.current.tab = true;
      if (!live.terminal.activated) setTab('setup');
    }
  }, [live.terminal]);
  // --- operators: on sign-in (and user switch) the operator's own language, else the store's; fresh status for the bar.
  const who = signedIn ? `${signedIn.operatorId ?? signedIn.name}` : null;
  useEffect(() => {
    if (!signedIn) return;
    if (signedIn.language) setLang(signedIn.language);
    else if (live.info) setLang(live.info.language);
    void live.refresh();
    void call((p) => p.printerStatus()).then((r) => r.ok && live.setPrinter(r.value));
    if (signedIn.role !== 'store_it' && live.terminal?.activated !== false) setTab('cashier');
  }, [who]);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = i18n.t('app.title');
  }, [lang, i18n]);
  // `auto` follows prefers-color-scheme as it changes; a manual choice overrides it on this machine.
  useEffect(() => {
    const system = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => {
      document.documentElement.dataset.theme = theme === 'auto' ? (system.matches ? 'dark' : 'light') : theme;
      document.documentElement.dataset.themeChoice = theme;
    };
    apply();
    system.addEventListener('change', apply);
    try {
      window.localStorage.setItem(THEME_KEY, theme);
    } catch {
      // Storage unavailable: the choice lasts for this session.
    }
    return () => system.removeEventListener('change', apply);
  }, [theme]);

  const toggleLanguage = () => {
    const next: Lang = lang === 'zh-CN' ? 'en' : 'zh-CN';
    decided.current.lang = true;
    setLang(next);
    // --- operators: the choice is the signed-in operator's own, not the store's.
    if (signedIn) void session.setLanguage(next);
  };

  // --- payments: the 收款 tab (touch), or F2; Escape there goes back to the cashier (not while a sheet is open: Escape closes the sheet).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('dialog[open]')) return;
      if (e.key === 'F2') setTab('pay');
      else if (e.key === 'Escape') setTab((t) => (t === 'pay' ? 'cashier' : t));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const openOrder = (sn: string) => {
    setTab('cashier');
    setOpenRequest((r) => ({ sn, n: (r?.n ?? 0) + 1 }));
  };
  // --- payments: the 待处理 list's entry for a payment opens the 收款 screen on it.
  const openPayment = (id: number) => {
    payments.show(id);
    setTab('pay');
  };

  if (!signedIn) {
    return (
      <I18nContext.Provider value={i18n}>
        <SessionContext.Provider value={session}>
          <SignIn session={session} onToggleLanguage={toggleLanguage} />
        </SessionContext.Provider>
      </I18nContext.Provider>
    );
  }

  return (
    <I18nContext.Provider value={i18n}>
      <LiveContext.Provider value={live}>
        <SessionContext.Provider value={session}>
        <div class="app" data-lang={lang}>
          <StatusBar tab={tab} onTab={setTab} onToggleLanguage={toggleLanguage} theme={theme} onTheme={setTheme} onOpenOrder={openOrder} onOpenPayment={openPayment} />
          <WarningBanner />
          <main class="main" data-view={tab}>
            {tab === 'cashier' ? <Cashier onGoSetup={() => setTab('setup')} openRequest={openRequest} /> : tab === 'pay' ? <PaymentScreen payments={payments} /> : signedIn.role === 'store_it' ? <Setup /> : <StoreItOnly />}
          </main>
        </div>
        </SessionContext.Provider>
      </LiveContext.Provider>
    </I18nContext.Provider>
  );
}
