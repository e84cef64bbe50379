/**
 * Which better-sqlite3 binary a process loads. Node and Electron speak
 * different native ABIs, and `npm ci` builds better-sqlite3 for Node (the
 * CLI and the tests use it as is). Under Electron the binary built by
 * `scripts/build-electron-sqlite.mjs` into `native/electron-<abi>-<platform>-<arch>/`
 * is used instead (`npm start` builds it first). Without it, better-sqlite3's
 * own build is used when it loads (a packaged app: electron-builder rebuilt
 * it for Electron; a host app that rebuilt node_modules with @electron/rebuild).
 * Plain Node: no Electron import, unit-tested with injected versions and paths.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';

export const ELECTRON_SQLITE_SCRIPT = 'scripts/build-electron-sqlite.mjs';
export const ELECTRON_SQLITE_COMMAND = 'npm run build:electron-sqlite';

/** The nearest folder above this file holding a package.json: the checkout, or app.asar when packaged. */
function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

export interface BindingContext {
  /** process.versions: `electron` is set only inside Electron; `modules` is the native ABI. */
  versions: { electron?: string | undefined; modules: string };
  platform: string;
  arch: string;
  root: string;
  exists(file: string): boolean;
  /** Whether better-sqlite3's own build loads in this process (it fails on another ABI). */
  defaultLoads(): boolean;
}

/** Where the Electron build of better_sqlite3.node lives for an ABI, platform and arch. */
export function electronBindingPath(root: string, abi: string, platform: string, arch: string): string {
  return path.join(root, 'native', `electron-${abi}-${platform}-${arch}`, 'better_sqlite3.node');
}

/**
 * The `nativeBinding` option for `new Database(...)`: undefined means
 * better-sqlite3's own build. Throws when Electron has neither its own
 * build nor a loadable default.
 */
export function selectNativeBinding(ctx: BindingContext): string | undefined {
  const electron = ctx.versions.electron;
  if (!electron) return undefined;
  const file = electronBindingPath(ctx.root, ctx.versions.modules, ctx.platform, ctx.arch);
  if (ctx.exists(file)) return file;
  if (ctx.defaultLoads()) return undefined;
  throw new Error(
    `better-sqlite3 has no build for Electron ${electron} (ABI ${ctx.versions.modules}, ${ctx.platform}-${ctx.arch}): ` +
      `run \`${ELECTRON_SQLITE_COMMAND}\` (${ELECTRON_SQLITE_SCRIPT}; \`npm start\` runs it first), which writes ${path.relative(ctx.root, file)}; ` +
      'a packaged app gets it from electron-builder (npmRebuild)',
  );
}

function defaultLoads(): boolean {
  try {
    new Database(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

let selected: { nativeBinding?: string } | undefined;

/** Options to spread into `new Database(...)` for this process (decided once). */
export function nativeBindingOption(): { nativeBinding?: string } {
  if (!selected) {
    const file = selectNativeBinding({ versions: process.versions, platform: process.platform, arch: process.arch, root: packageRoot(), exists: fs.existsSync, defaultLoads });
    selected = file ? { nativeBinding: file } : {};
  }
  return selected;
}
