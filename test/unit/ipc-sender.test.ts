/** Sender validation: only a top-level frame on app://pos may call the contract (fake events, no Electron). */
import { describe, expect, it } from 'vitest';
import { isAllowedFrame, isAllowedSender, isAppUrl, type FrameLike } from '../../main/ipc/sender';

function top(url: string, origin?: string): FrameLike {
  const f: { url: string; origin?: string; parent: null; top?: unknown } = { url, parent: null };
  if (origin !== undefined) f.origin = origin;
  f.top = f;
  return f;
}

describe('isAllowedSender', () => {
  it('accepts the app page (top-level frame on app://pos)', () => {
    expect(isAllowedSender({ senderFrame: top('app://pos/index.html', 'app://pos') })).toBe(true);
    expect(isAllowedSender({ senderFrame: top('app://pos/', 'app://pos') })).toBe(true);
    expect(isAllowedSender({ senderFrame: top('app://pos/index.html?x=1#y') })).toBe(true);
  });

  it.each([
    ['another origin', 'https://evil.example/', 'https://evil.example'],
    ['http://localhost', 'http://localhost:5173/index.html', 'http://localhost:5173'],
    ['file://', 'file:///opt/app/resources/app.asar/dist/renderer/index.html', 'file://'],
    ['another app:// host', 'app://evil/index.html', 'app://evil'],
    ['a host that starts with pos', 'app://pos.evil.com/', 'app://pos.evil.com'],
    ['app://pos with a port', 'app://pos:8080/', 'app://pos:8080'],
    ['app://pos with credentials', 'app://user:pw@pos/', 'app://pos'],
    ['about:blank', 'about:blank', 'null'],
    ['data: URL', 'data:text/html,<script>1</script>', 'null'],
    ['javascript:', 'javascript:alert(1)', 'null'],
    ['a devtools page', 'devtools://devtools/bundled/inspector.html', 'devtools://devtools'],
  ])('refuses %s', (_name, url, origin) => {
    expect(isAllowedSender({ senderFrame: top(url, origin) })).toBe(false);
    expect(isAllowedSender({ senderFrame: top(url) })).toBe(false);
  });

  it('refuses a subframe, even one showing app://pos', () => {
    const parent = top('app://pos/index.html', 'app://pos');
    const sub = { url: 'app://pos/index.html', origin: 'app://pos', parent, top: parent };
    expect(isAllowedSender({ senderFrame: sub })).toBe(false);
    const foreignSub = { url: 'https://evil.example/', origin: 'https://evil.example', parent, top: parent };
    expect(isAllowedSender({ senderFrame: foreignSub })).toBe(false);
  });

  it('refuses a frame whose URL and origin disagree (an opaque-origin document on an app:// URL)', () => {
    expect(isAllowedSender({ senderFrame: top('app://pos/index.html', 'null') })).toBe(false);
  });

  it('refuses a missing, detached or unreadable frame', () => {
    expect(isAllowedSender({ senderFrame: null })).toBe(false);
    expect(isAllowedSender({ senderFrame: undefined })).toBe(false);
    expect(isAllowedSender(null)).toBe(false);
    expect(isAllowedSender({ senderFrame: { ...top('app://pos/'), detached: true } })).toBe(false);
    const throwing = {
      get senderFrame(): FrameLike {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
    };
    expect(isAllowedSender(throwing)).toBe(false);
    expect(isAllowedFrame({ url: 42 as unknown as string, parent: null })).toBe(false);
  });

  it('isAppUrl compares scheme and host exactly', () => {
    expect(isAppUrl('app://pos/a/b.js')).toBe(true);
    expect(isAppUrl('APP://pos/a')).toBe(true);
    // Chromium lower-cases a standard scheme's host; anything else is not our page.
    expect(isAppUrl('app://POS/a')).toBe(false);
    expect(isAppUrl('app://pos.')).toBe(false);
    expect(isAppUrl('app:pos')).toBe(false);
    expect(isAppUrl('app:///pos')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});
