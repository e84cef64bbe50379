/**
 * Which better-sqlite3 binary a process loads: Node's own build under Node,
 * the one scripts/build-electron-sqlite.mjs writes under Electron (found by
 * the ABI Electron reports), else better-sqlite3's own build when it loads
 * (a packaged app's Electron rebuild), else a clear error naming the script.
 * Versions and paths are injected; the chosen path is then handed to
 * better-sqlite3 for real.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { electronBindingPath, ELECTRON_SQLITE_COMMAND, ELECTRON_SQLITE_SCRIPT, nativeBindingOption, selectNativeBinding } from '../../main/store/native-binding';

const ROOT = path.resolve(__dirname, '../..');
const NODE_BINARY = path.join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
const ELECTRON = { electron: '45.5.0', modules: '150' };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-native-binding-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('native binding selection', () => {
  it('Node: better-sqlite3 loads its own build (no nativeBinding option)', () => {
    expect(selectNativeBinding({ versions: { modules: process.versions.modules }, platform: 'linux', arch: 'x64', root: tmp, exists: () => true, defaultLoads: () => true })).toBeUndefined();
    // This very process is Node: the option is empty and the real database opens with Node's binary.
    expect(nativeBindingOption()).toEqual({});
    const db = new Database(':memory:', nativeBindingOption());
    expect(db.prepare('select sqlite_version() as v').get()).toMatchObject({ v: expect.any(String) });
    db.close();
  });

  it("Electron: the binary built for Electron's ABI, platform and arch, kept apart from Node's", () => {
    const root = path.join(tmp, 'checkout');
    const file = electronBindingPath(root, ELECTRON.modules, 'linux', 'arm64');
    expect(file).toBe(path.join(root, 'native', 'electron-150-linux-arm64', 'better_sqlite3.node'));
    expect(file).not.toContain('node_modules');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // A stand-in with a loadable binary: proves the chosen path is what better-sqlite3 loads.
    fs.copyFileSync(NODE_BINARY, file);
    // Preferred even where the default would load.
    const chosen = selectNativeBinding({ versions: ELECTRON, platform: 'linux', arch: 'arm64', root, exists: fs.existsSync, defaultLoads: () => true });
    expect(chosen).toBe(file);
    const db = new Database(':memory:', { nativeBinding: chosen });
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();
    // Another ABI (a different Electron) does not pick it up.
    expect(() => selectNativeBinding({ versions: { electron: '46.0.0', modules: '151' }, platform: 'linux', arch: 'arm64', root, exists: fs.existsSync, defaultLoads: () => false })).toThrow(/151/);
  });

  it('Electron without its build: a clear error that names the script and the command', () => {
    let message = '';
    try {
      selectNativeBinding({ versions: ELECTRON, platform: 'win32', arch: 'x64', root: path.join(tmp, 'empty'), exists: () => false, defaultLoads: () => false });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('Electron 45.5.0');
    expect(message).toContain('ABI 150');
    expect(message).toContain(ELECTRON_SQLITE_COMMAND);
    expect(message).toContain(ELECTRON_SQLITE_SCRIPT);
    expect(message).toContain(path.join('native', 'electron-150-win32-x64', 'better_sqlite3.node'));
    expect(fs.existsSync(path.join(ROOT, ELECTRON_SQLITE_SCRIPT))).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['build:electron-sqlite']).toBe(`node ${ELECTRON_SQLITE_SCRIPT}`);
    // `npm start` builds it before Electron starts.
    expect(pkg.scripts.start).toMatch(/npm run build:electron-sqlite && electron /);
  });

  it("Electron without its build but with better-sqlite3's own build for Electron (a packaged app, a host that ran @electron/rebuild): that one", () => {
    let asked = 0;
    const chosen = selectNativeBinding({ versions: ELECTRON, platform: 'linux', arch: 'x64', root: '/opt/Upay POS/resources/app.asar', exists: () => false, defaultLoads: () => ++asked > 0 });
    expect(chosen).toBeUndefined();
    expect(asked).toBe(1);
  });
});
