/** Launch decisions of the shell: the runtime's V8 flags in every process on every platform, and start-at-login for counter machines. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autostartPlan, JS_FLAGS, relaunchArgs, RELAUNCH_ENV } from '../../main/electron/launch';
import { RUNTIME_NODE_FLAGS } from '../../main/runtime';

const ROOT = path.resolve(__dirname, '../..');

describe('V8 flags', () => {
  it('main.ts appends the runtime flags for every process before ready, whatever the platform', () => {
    expect(JS_FLAGS).toBe(RUNTIME_NODE_FLAGS.join(' '));
    const main = fs.readFileSync(path.join(ROOT, 'main/electron/main.ts'), 'utf8');
    const append = main.indexOf("app.commandLine.appendSwitch('js-flags', JS_FLAGS);");
    expect(append).toBeGreaterThan(0);
    // Top level (not inside a platform check) and before anything waits for ready.
    expect(main.slice(0, append)).not.toMatch(/process\.platform|whenReady|app\.on\(/);
  });

  it('the main process relaunches once when started without them (a Windows shortcut), never when it has them', () => {
    const flag = `--js-flags=${JS_FLAGS}`;
    expect(relaunchArgs(['C:\\Upay POS\\Upay POS.exe'], {}, true)).toEqual([flag]);
    expect(relaunchArgs(['/Applications/Upay POS.app/Contents/MacOS/Upay POS', '--foo'], {}, true)).toEqual(['--foo', flag]);
    expect(relaunchArgs(['/opt/Upay POS/upay-pos', flag], {}, true)).toBeNull();
    expect(relaunchArgs(['/opt/Upay POS/upay-pos', `--js-flags=--expose-gc ${JS_FLAGS}`], {}, true)).toBeNull();
    // The relaunched process does not loop, and `npm start` (not packaged) passes them itself.
    expect(relaunchArgs(['x.exe'], { [RELAUNCH_ENV]: '1' }, true)).toBeNull();
    expect(relaunchArgs(['electron', '.'], {}, false)).toBeNull();
  });
});

describe('start at login (kiosk)', () => {
  const base = { kiosk: true, isPackaged: true, execPath: '/opt/Upay POS/upay-pos', env: {}, home: '/home/cashier' };

  it('Windows and macOS: the OS login item follows the kiosk setting', () => {
    expect(autostartPlan({ ...base, platform: 'win32' })).toEqual({ kind: 'login-item', openAtLogin: true });
    expect(autostartPlan({ ...base, platform: 'darwin', kiosk: false })).toEqual({ kind: 'login-item', openAtLogin: false });
  });

  it('Linux: an XDG autostart entry with the flags (the AppImage file when run from one), removed when kiosk is off', () => {
    const plan = autostartPlan({ ...base, platform: 'linux' });
    expect(plan).toMatchObject({ kind: 'xdg', file: '/home/cashier/.config/autostart/upay-pos.desktop' });
    const content = (plan as { content: string }).content;
    expect(content).toContain('[Desktop Entry]');
    expect(content).toContain(`Exec="/opt/Upay POS/upay-pos" "--js-flags=${JS_FLAGS}"`);
    const appImage = autostartPlan({ ...base, platform: 'linux', env: { APPIMAGE: '/home/cashier/Upay $POS.AppImage', XDG_CONFIG_HOME: '/cfg' } });
    expect(appImage).toMatchObject({ file: '/cfg/autostart/upay-pos.desktop' });
    expect((appImage as { content: string }).content).toContain('Exec="/home/cashier/Upay \\$POS.AppImage"');
    expect(autostartPlan({ ...base, platform: 'linux', kiosk: false })).toEqual({ kind: 'xdg', file: '/home/cashier/.config/autostart/upay-pos.desktop', content: null });
  });

  it('never from a source checkout (`npm start`)', () => {
    expect(autostartPlan({ ...base, platform: 'linux', isPackaged: false })).toEqual({ kind: 'none' });
  });
});
