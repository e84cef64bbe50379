/** The window: status bar, deadline banner, and the cashier or store-setup view; the colour theme. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call } from './bridge';
import { Cashier, type OpenRequest } from './components/Cashier';
import { Setup } from './components/Setup';
import { StatusBar, WarningBanner, type Tab, type Theme } from './components/StatusBar';
import { I18nContext, makeI18n, type Lang } from './i18n';
import { LiveContext, useLive } from './live';

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
  const [lang, setLang] = useState<Lang>('zh-CN');
  const [tab, setTab] = useState<Tab>('cashier');
  const [theme, setTheme] = useState<Theme>(storedTheme);
  const [openRequest, setOpenRequest] = useState<OpenRequest | null>(null);
  const decided = useRef({ lang: false, tab: false });
  const i18n = useMemo(() => makeI18n(lang), [lang]);

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
    void call((p) => p.settingsSet({ language: next }));
  };

  const openOrder = (sn: string) => {
    setTab('cashier');
    setOpenRequest((r) => ({ sn, n: (r?.n ?? 0) + 1 }));
  };

  return (
    <I18nContext.Provider value={i18n}>
      <LiveContext.Provider value={live}>
        <div class="app" data-lang={lang}>
          <StatusBar tab={tab} onTab={setTab} onToggleLanguage={toggleLanguage} theme={theme} onTheme={setTheme} onOpenOrder={openOrder} />
          <WarningBanner />
          <main class="main" data-view={tab}>
            {tab === 'cashier' ? <Cashier onGoSetup={() => setTab('setup')} openRequest={openRequest} /> : <Setup />}
          </main>
        </div>
      </LiveContext.Provider>
    </I18nContext.Provider>
  );
}
