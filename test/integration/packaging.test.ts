/**
 * Packaging smoke test: electron-builder --dir --linux on the real project,
 * offline (a placeholder Electron distribution, no native rebuild), then the
 * resulting app.asar is read: the compiled main process, the bundled preload,
 * the renderer and package.json, the production dependencies, and nothing
 * else of ours (no TypeScript, tests, docs or source maps; no dev tools).
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as asar from '@electron/asar';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const ELECTRON_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;
const BUILT = ['dist/main/index.js', 'dist/main/electron/main.js', 'dist/main/ipc/contract.js', 'dist/preload/index.js', 'dist/renderer/index.html'];

function ensureBuilt(): void {
  // `npm test` builds first; a stand-alone run builds once (never while others may be reading dist/).
  if (BUILT.every((f) => fs.existsSync(path.join(ROOT, f)))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

describe('packaging (electron-builder --dir --linux, offline)', () => {
  it('app.asar holds the built app and production dependencies only', { timeout: 300_000 }, async () => {
    ensureBuilt();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pack-'));
    const electronDist = path.join(tmp, 'electron-dist');
    fs.mkdirSync(electronDist);
    fs.writeFileSync(path.join(electronDist, 'electron'), '#!/bin/sh\necho placeholder electron\n', { mode: 0o755 });
    const out = path.join(tmp, 'out');

    const { stdout, stderr } = await run(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/electron-builder/cli.js'),
        '--dir',
        '--linux',
        '--x64',
        `-c.electronDist=${electronDist}`,
        '-c.npmRebuild=false',
        `-c.electronVersion=${ELECTRON_VERSION}`,
        `-c.directories.output=${out}`,
        '--publish',
        'never',
      ],
      { cwd: ROOT, timeout: 280_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ELECTRON_BUILDER_OFFLINE: '1', CSC_IDENTITY_AUTO_DISCOVERY: 'false' } },
    ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`electron-builder failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    const log = `${stdout}\n${stderr}`;

    const resources = path.join(out, 'linux-unpacked', 'resources');
    const archive = path.join(resources, 'app.asar');
    expect(fs.existsSync(archive), log).toBe(true);
    expect(fs.existsSync(path.join(out, 'linux-unpacked', 'upay-pos')), 'renamed executable').toBe(true);

    const entries = asar.listPackage(archive, { isPack: false }).map((e) => e.split(path.sep).join('/').replace(/^\//, ''));
    const ours = entries.filter((e) => !e.startsWith('node_modules/') && e !== 'node_modules');
    const files = ours.filter((e) => path.extname(e) !== '');

    // What must be there.
    for (const f of [...BUILT, 'package.json', 'dist/main/ipc/register.js', 'dist/main/runtime.js', 'dist/renderer/app.js']) expect(ours, f).toContain(f);

    // Nothing else of ours: only dist/{main,preload,renderer} and package.json, no sources, maps, tests, docs.
    for (const e of ours) {
      expect(e === 'package.json' || e === 'dist' || /^dist\/(main|preload|renderer)(\/|$)/.test(e), `unexpected ${e}`).toBe(true);
    }
    for (const f of files) {
      expect(f, f).not.toMatch(/\.(ts|tsx|mts|map)$/);
      expect(f, f).not.toMatch(/(^|\/)(test|tests|docs)\//);
    }
    expect(ours.some((e) => e.startsWith('dist/test'))).toBe(false);
    for (const src of ['main', 'preload', 'renderer', 'test', 'docs', 'scripts', 'electron-builder.yml', 'tsconfig.json', 'README.md']) expect(ours, src).not.toContain(src);

    // Production dependencies only.
    const modules = new Set(entries.filter((e) => /^node_modules\/(@[^/]+\/)?[^/@]+$/.test(e)).map((e) => e.slice('node_modules/'.length)));
    for (const dep of ['better-sqlite3', 'bindings', 'iconv-lite', 'node-thermal-printer', 'undici', 'zod']) expect(modules, dep).toContain(dep);
    for (const dev of ['electron', 'electron-builder', 'vitest', 'typescript', 'esbuild', 'eslint', '@doyensec/electronegativity', 'playwright-core', 'preact', 'fast-check']) {
      expect(modules.has(dev), `dev dependency ${dev} packaged`).toBe(false);
    }
    // The SQLite binding is loadable from disk.
    const unpacked = path.join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    expect(fs.existsSync(unpacked), 'better_sqlite3.node unpacked').toBe(true);

    // The packaged package.json points at the packaged shell; the preload is one sandbox-safe bundle.
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString()) as { main: string };
    expect(ours).toContain(pkg.main);
    const preload = asar.extractFile(archive, 'dist/preload/index.js').toString();
    const requires = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(new Set(requires)).toEqual(new Set(['electron']));
    expect(preload).toContain('exposeInMainWorld');
  });
});
