/**
 * How the app is launched on a counter machine, as pure decisions (no
 * Electron import; unit-tested under plain Node): the V8 flags of every
 * process, and starting at login when the `kiosk` setting is on.
 */
import path from 'node:path';
import { hasRuntimeFlags, RUNTIME_NODE_FLAGS } from '../runtime';

/** The value of Chromium's --js-flags switch: the runtime's V8 flags. */
export const JS_FLAGS = RUNTIME_NODE_FLAGS.join(' ');

/** Set in the environment of a relaunch, so a launch that still lacks the flags never loops. */
export const RELAUNCH_ENV = 'UPAY_POS_FLAGS_RELAUNCH';

/**
 * The main process's V8 heap is set up before any of our code runs, so
 * `app.commandLine.appendSwitch('js-flags')` reaches only the processes
 * Electron starts later (renderer, utility). The Linux launcher and
 * `npm start` pass the flags on the command line; anywhere else (a Windows
 * shortcut, macOS) the packaged app relaunches itself once with them.
 * Returns the arguments for `app.relaunch`, or null when no relaunch is needed.
 */
export function relaunchArgs(argv: readonly string[], env: NodeJS.ProcessEnv, isPackaged: boolean): string[] | null {
  if (!isPackaged || env[RELAUNCH_ENV] === '1') return null;
  const given = argv
    .filter((a) => a.startsWith('--js-flags='))
    .flatMap((a) => a.slice('--js-flags='.length).replace(/^"|"$/g, '').split(/\s+/));
  if (hasRuntimeFlags(given)) return null;
  return [...argv.slice(1), `--js-flags=${JS_FLAGS}`];
}

export type AutostartPlan =
  | { kind: 'login-item'; openAtLogin: boolean }
  | { kind: 'xdg'; file: string; content: string | null }
  | { kind: 'none' };

/**
 * Start at login follows the `kiosk` setting (a counter machine), only for
 * an installed app. Windows and macOS: the OS login item. Linux: an XDG
 * autostart entry in the user's config (removed when kiosk is off); an
 * AppImage is started through its own file ($APPIMAGE), not the mount.
 */
export function autostartPlan(opts: { platform: NodeJS.Platform; kiosk: boolean; isPackaged: boolean; execPath: string; env: NodeJS.ProcessEnv; home: string }): AutostartPlan {
  if (!opts.isPackaged) return { kind: 'none' };
  if (opts.platform === 'win32' || opts.platform === 'darwin') return { kind: 'login-item', openAtLogin: opts.kiosk };
  if (opts.platform !== 'linux') return { kind: 'none' };
  const configHome = opts.env.XDG_CONFIG_HOME || path.join(opts.home, '.config');
  const file = path.join(configHome, 'autostart', 'upay-pos.desktop');
  if (!opts.kiosk) return { kind: 'xdg', file, content: null };
  const exec = opts.env.APPIMAGE || opts.execPath;
  const quoted = `"${exec.replace(/(["`$\\])/g, '\\$1')}"`;
  const content = ['[Desktop Entry]', 'Type=Application', 'Name=Upay POS', `Exec=${quoted} "--js-flags=${JS_FLAGS}"`, 'X-GNOME-Autostart-enabled=true', 'NoDisplay=true', ''].join('\n');
  return { kind: 'xdg', file, content };
}
