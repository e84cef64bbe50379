/** The window: status bar, deadline banner, and the cashier or store-setup view. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call } from './bridge';
import { Cashier } from './components/Cashier';
import { Setup } from './components/Setup';
import { StatusBar, WarningBanner, type Tab } from './components/StatusBar';
import { I18nContext, makeI18n, type Lang } from './i18n';
import { LiveContext, useLive } from './live';

export function App() {
  const live = useLive();
  const [lang, setLang] = useState<Lang>('zh-CN');
  const [tab, setTab] = useState<Tab>('cashier');
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

  const toggleLanguage = () => {
    const next: Lang = lang === 'zh-CN' ? 'en' : 'zh-CN';
    decided.current.lang = true;
    setLang(next);
    void call((p) => p.settingsSet({ language: next }));
  };

  return (
    <I18nContext.Provider value={i18n}>
      <LiveContext.Provider value={live}>
        <div class="app" data-lang={lang}>
          <StatusBar tab={tab} onTab={setTab} onToggleLanguage={toggleLanguage} />
          <WarningBanner />
          <main class="main" data-view={tab}>
            {tab === 'cashier' ? <Cashier onGoSetup={() => setTab('setup')} /> : <Setup />}
          </main>
        </div>
      </LiveContext.Provider>
    </I18nContext.Provider>
  );
}
