// Builds better-sqlite3 for the installed Electron's ABI into its own folder,
// native/electron-<abi>-<platform>-<arch>/better_sqlite3.node, leaving Node's
// build (node_modules/better-sqlite3/build) untouched: the CLI and the tests
// keep using it, and main/store/native-binding.ts picks this one under
// Electron. `npm start` runs this first; it does nothing when the build is
// already there. Needs what @electron/rebuild needs: Electron's prebuilt
// better-sqlite3 or Electron's headers (download) plus a C++ toolchain.
// Packaging does not use this folder: electron-builder rebuilds the module
// for Electron while it packages (npmRebuild in electron-builder.yml).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const electronVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/electron/package.json'), 'utf8')).version;
const sqliteVersion = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')).version;
const arch = process.env.npm_config_arch || process.arch;
const abi = require('node-abi').getAbi(electronVersion, 'electron');
const outDir = path.join(root, 'native', `electron-${abi}-${process.platform}-${arch}`);
const out = path.join(outDir, 'better_sqlite3.node');
const stamp = path.join(outDir, 'build.json');
const want = { electron: electronVersion, betterSqlite3: sqliteVersion, abi };

const fail = (message) => {
  console.error(`build-electron-sqlite: ${message}`);
  process.exit(1);
};

if (fs.existsSync(out) && fs.existsSync(stamp)) {
  const have = JSON.parse(fs.readFileSync(stamp, 'utf8'));
  if (have.electron === want.electron && have.betterSqlite3 === want.betterSqlite3) {
    console.error(`build-electron-sqlite: up to date (${path.relative(root, out)})`);
    process.exit(0);
  }
}

// npm passes its `nodedir` setting to node-gyp through the environment; it would point the
// build at Node's headers instead of Electron's and silently produce Node's ABI.
for (const key of Object.keys(process.env)) if (/^npm_config_(nodedir|target|runtime|disturl|dist_url)$/i.test(key)) delete process.env[key];

// Build in a scratch project holding a copy of better-sqlite3's sources: the rebuild happens
// there, never in node_modules.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-electron-sqlite-'));
try {
  const src = path.join(root, 'node_modules/better-sqlite3');
  const dst = path.join(scratch, 'node_modules/better-sqlite3');
  fs.cpSync(src, dst, { recursive: true, filter: (p) => path.relative(src, p) !== 'build' });
  // better-sqlite3's own downloader, reachable from the copy: @electron/rebuild tries Electron's
  // prebuilt binary with it before compiling.
  fs.symlinkSync(path.join(root, 'node_modules/prebuild-install'), path.join(scratch, 'node_modules/prebuild-install'), 'junction');
  fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'electron-sqlite', version: '0.0.0', dependencies: { 'better-sqlite3': sqliteVersion } }));
  const { rebuild } = await import('@electron/rebuild');
  console.error(`build-electron-sqlite: better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} (ABI ${abi}, ${process.platform}-${arch})`);
  try {
    await rebuild({ buildPath: scratch, electronVersion, arch, onlyModules: ['better-sqlite3'], force: true, mode: 'sequential' });
  } catch (err) {
    fail(
      `could not build better-sqlite3 for Electron ${electronVersion}: ${err?.message ?? err}\n` +
        'It needs a prebuilt binary or Electron headers from the network, and a C++ toolchain (python3, make, g++ / MSVC).\n' +
        'Without them the app cannot open its database under Electron; the CLI (`upay-pos`), `npm run demo` and `npm test` run on Node and do not need this.',
    );
  }
  const built = path.join(dst, 'build/Release/better_sqlite3.node');
  if (!fs.existsSync(built)) fail(`the rebuild left no ${path.relative(scratch, built)}`);
  // Node must refuse it: a binary Node can load was built for Node's ABI, not Electron's.
  try {
    require(built);
    fail('the binary built loads in Node: it was built for Node, not Electron (check npm_config_* settings)');
  } catch (err) {
    if (!/NODE_MODULE_VERSION/.test(String(err?.message))) throw err;
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(built, out);
  fs.writeFileSync(stamp, JSON.stringify(want, null, 2) + '\n');
  console.error(`build-electron-sqlite: ok (${path.relative(root, out)})`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
