/**
 * Packaging: the configuration (targets, icons, USB printer access, Electron
 * fuses), then electron-builder --dir --linux on the real project, offline
 * (a placeholder Electron distribution carrying a fuse wire, no native
 * rebuild), and the result is read: the compiled main process, the bundled
 * preload, the renderer and its font, package.json, the production
 * dependencies trimmed to what runs, and nothing else of ours (no TypeScript,
 * tests, docs or source maps; no dev tools); the fuses flipped in the binary.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as asar from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const ELECTRON_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;
const BUILT = ['dist/main/index.js', 'dist/main/electron/main.js', 'dist/main/ipc/contract.js', 'dist/preload/index.js', 'dist/renderer/index.html'];

interface TargetSpec {
  target: string;
  arch?: string[];
}
interface BuilderConfig {
  files: string[];
  npmRebuild: boolean;
  electronFuses: Record<string, boolean>;
  linux: { target: TargetSpec[]; icon: string; executableArgs: string[] };
  deb: { depends: string[]; fpm: string[] };
  win: { target: TargetSpec[]; icon: string };
}
const CONFIG = yaml.load(fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

/** What runs in the app: the production dependencies less prebuild-install (install time only) and what only it needs. */
const PRODUCTION_MODULES = ['better-sqlite3', 'bindings', 'file-uri-to-path', 'iconv-lite', 'safer-buffer', 'node-thermal-printer', 'pngjs', 'unorm', 'write-file-queue', 'dank-do-while', 'undici', 'zod',
  // pg (the fleet shipper) and its own dependencies
  'pg', 'pg-cloudflare', 'pg-connection-string', 'pg-int8', 'pg-pool', 'pg-protocol', 'pg-types', 'pgpass', 'postgres-array', 'postgres-bytea', 'postgres-date', 'postgres-interval', 'split2', 'xtend'];

/**
 * A stand-in for the Electron binary (none can be downloaded here) holding
 * the fuse wire as Electron ships it: sentinel, wire version 1, 8 fuses
 * (RunAsNode, NODE_OPTIONS, --inspect and file:// privileges on; the rest off).
 */
const PLACEHOLDER_ELECTRON = '#!/bin/sh\necho placeholder electron\n# dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX\x01\x0810110001\n';

function ensureBuilt(): void {
  // `npm test` builds first; a stand-alone run builds once (never while others may be reading dist/).
  if (BUILT.every((f) => fs.existsSync(path.join(ROOT, f)))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

describe('packaging configuration (electron-builder.yml)', () => {
  it('Linux AppImage and deb for x64 and arm64; Windows NSIS for x64; icons', () => {
    const archs = (targets: TargetSpec[], name: string) => targets.find((t) => t.target === name)?.arch ?? [];
    expect(new Set(archs(CONFIG.linux.target, 'AppImage'))).toEqual(new Set(['x64', 'arm64']));
    expect(new Set(archs(CONFIG.linux.target, 'deb'))).toEqual(new Set(['x64', 'arm64']));
    expect(archs(CONFIG.win.target, 'nsis')).toEqual(['x64']);
    const png = fs.readFileSync(path.join(ROOT, CONFIG.linux.icon));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(256);
    const ico = fs.readFileSync(path.join(ROOT, CONFIG.win.icon));
    expect([...ico.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    expect(ico[6]).toBe(0); // 0 = 256 px
  });

  it('the deb installs a udev rule giving USB receipt printers to the lp group and the seat user', () => {
    const mapping = CONFIG.deb.fpm.find((a) => a.includes('udev/rules.d'))!;
    const [src, dst] = mapping.split('=');
    expect(dst).toMatch(/^\/usr\/lib\/udev\/rules\.d\/([0-6]\d|7[0-2])-[\w-]+\.rules$/); // before 73-seat-late.rules, which applies uaccess
    const rule = fs.readFileSync(path.join(ROOT, src!), 'utf8');
    expect(rule).toMatch(/^SUBSYSTEM=="usbmisc", KERNEL=="lp\[0-9\]\*", MODE="0660", GROUP="lp", TAG\+="uaccess"$/m);
  });

  it('Electron fuses: no run-as-node, no NODE_OPTIONS, no --inspect, asar integrity checked, app only from asar', () => {
    expect(CONFIG.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
    expect(CONFIG.npmRebuild).toBe(true);
  });
});

describe('the Linux arm64 deb (electron-builder, offline, stopped before fpm)', () => {
  it('is built for arm64 and installs the udev rule for USB printers; its binary has the fuses flipped', { timeout: 300_000 }, async () => {
    ensureBuilt();
    const { build, Platform, Arch } = await import('electron-builder');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-deb-'));
    const electronDist = path.join(tmp, 'electron-dist');
    fs.mkdirSync(electronDist);
    fs.writeFileSync(path.join(electronDist, 'electron'), PLACEHOLDER_ELECTRON, { mode: 0o755 });
    const fpmArgs: string[][] = [];
    const offline = process.env.ELECTRON_BUILDER_OFFLINE;
    process.env.ELECTRON_BUILDER_OFFLINE = '1';
    try {
      await build({
        projectDir: ROOT,
        targets: Platform.LINUX.createTarget(['deb'], Arch.arm64),
        config: { electronDist, npmRebuild: false, electronVersion: ELECTRON_VERSION, directories: { output: path.join(tmp, 'out') } },
        publish: 'never',
        // electron-builder hands over the fpm arguments here; answering true skips fpm (a download).
        effectiveOptionComputed: async (options: unknown) => {
          if (Array.isArray(options) && Array.isArray(options[0])) fpmArgs.push(options[0] as string[]);
          return true;
        },
      });
    } finally {
      if (offline === undefined) delete process.env.ELECTRON_BUILDER_OFFLINE;
      else process.env.ELECTRON_BUILDER_OFFLINE = offline;
    }
    const args = fpmArgs[0]!;
    expect(args[args.indexOf('--architecture') + 1]).toBe('arm64');
    expect(args).toContain('build/linux/70-upay-pos-printers.rules=/usr/lib/udev/rules.d/70-upay-pos-printers.rules');
    expect(args.some((a) => a.endsWith('linux-arm64-unpacked/=/opt/Upay POS'))).toBe(true);
    const wire = await getCurrentFuseWire(path.join(tmp, 'out', 'linux-arm64-unpacked', 'upay-pos'));
    // RunAsNode, cookie encryption, NODE_OPTIONS, --inspect, asar integrity, only asar, V8 snapshot, file:// privileges.
    expect(String.fromCharCode(...(Object.values(wire).slice(0, 8) as number[]))).toBe('01001100');
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});

describe('packaging (electron-builder --dir --linux, offline)', () => {
  it('app.asar holds the built app and trimmed production dependencies only; the fuses are flipped', { timeout: 300_000 }, async () => {
    ensureBuilt();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pack-'));
    const electronDist = path.join(tmp, 'electron-dist');
    fs.mkdirSync(electronDist);
    fs.writeFileSync(path.join(electronDist, 'electron'), PLACEHOLDER_ELECTRON, { mode: 0o755 });
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

    // Production dependencies only, without the install-time downloader and what only it needs.
    const modules = new Set(entries.filter((e) => /^node_modules\/(@[^/]+\/)?[^/@]+$/.test(e)).map((e) => e.slice('node_modules/'.length)));
    const nested = entries.filter((e) => /^node_modules\/[^/]+\/node_modules\/[^/]+$/.test(e)).map((e) => e.split('/').at(-1)!);
    expect([...modules].sort()).toEqual([...PRODUCTION_MODULES].sort());
    for (const dev of ['electron', 'electron-builder', 'vitest', 'typescript', 'esbuild', 'eslint', '@doyensec/electronegativity', 'playwright-core', 'preact', 'fast-check', 'prebuild-install', 'node-abi', 'tar-fs']) {
      expect(modules.has(dev) || nested.includes(dev), `${dev} packaged`).toBe(false);
    }

    // better-sqlite3: lib/, package.json and the one binary; no SQLite or C++ sources, object files or test extension.
    const sqlite = entries.filter((e) => e.startsWith('node_modules/better-sqlite3/')).map((e) => e.slice('node_modules/better-sqlite3/'.length));
    for (const e of sqlite) {
      expect(e, e).not.toMatch(/^(deps|src|docs|benchmark)(\/|$)|^binding\.gyp$|^build\/(Makefile|.*\.mk|config\.gypi|deps)|^build\/Release\/(obj|\.deps)|\.(a|o|c|cpp|h|hpp|gyp|gypi)$|test_extension/);
    }
    expect(sqlite).toContain('lib/index.js');

    // The unpacked folder (on disk beside app.asar: electron-builder unpacks a package holding a .node whole) is
    // better-sqlite3's runtime files only.
    const unpackedRoot = path.join(resources, 'app.asar.unpacked');
    const unpackedFiles = (fs.readdirSync(unpackedRoot, { recursive: true, encoding: 'utf8' }) as string[])
      .filter((f) => fs.statSync(path.join(unpackedRoot, f)).isFile())
      .map((f) => f.split(path.sep).join('/'));
    expect(unpackedFiles).toContain('node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    for (const f of unpackedFiles) expect(f, f).toMatch(/^node_modules\/better-sqlite3\/(LICENSE|package\.json|lib\/[\w/-]+\.js|build\/Release\/better_sqlite3\.node)$/);

    // The bundled font is in the renderer.
    expect(ours.some((e) => /^dist\/renderer\/fonts\/noto-sans-sc-chinese-simplified-400-normal\.woff2$/.test(e))).toBe(true);
    expect(ours).toContain('dist/renderer/fonts.css');

    // The fuses electron-builder flipped in the shipped binary (each fuse is an ASCII '0' or '1').
    const FuseState = { DISABLE: 0x30, ENABLE: 0x31 };
    const wire = await getCurrentFuseWire(path.join(out, 'linux-unpacked', 'upay-pos'));
    expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.EnableCookieEncryption]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(FuseState.DISABLE);

    // The packaged package.json points at the packaged shell; the preload is one sandbox-safe bundle.
    const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString()) as { main: string };
    expect(ours).toContain(pkg.main);
    const preload = asar.extractFile(archive, 'dist/preload/index.js').toString();
    const requires = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(new Set(requires)).toEqual(new Set(['electron']));
    expect(preload).toContain('exposeInMainWorld');
  });
});
