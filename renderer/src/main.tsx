/** Entry point of the renderer bundle (dist/renderer/app.js). */
import { render } from 'preact';
import { App } from './App';
import { hasBridge } from './bridge';
import { DICTIONARIES } from './i18n';

const root = document.getElementById('app');
if (root) {
  if (hasBridge()) {
    render(<App />, root);
  } else {
    render(
      <div class="fatal" role="alert">
        <p lang="zh-CN">{DICTIONARIES['zh-CN']['app.noBridge']}</p>
        <p lang="en">{DICTIONARIES.en['app.noBridge']}</p>
      </div>,
      root,
    );
  }
}
