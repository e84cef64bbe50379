// Bundles what runs inside Chromium: the renderer (preact, DOM only) and the
// preload (Electron's sandboxed preload: `electron` external, nothing else
// from Node). Called by scripts/build.mjs after tsc; also runnable alone.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rendererOut = path.join(root, 'dist/renderer');
const preloadOut = path.join(root, 'dist/preload');

fs.rmSync(rendererOut, { recursive: true, force: true });
fs.mkdirSync(rendererOut, { recursive: true });

await esbuild.build({
  entryPoints: [path.join(root, 'renderer/src/main.tsx')],
  outfile: path.join(rendererOut, 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  // Electron 45 ships Chromium 140.
  target: 'chrome120',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});

// Static assets: HTML pages and the stylesheet. No fonts: the system's CJK fonts are used.
const STATIC = [
  ['renderer/index.html', 'index.html'],
  ['renderer/error.html', 'error.html'],
  ['renderer/styles/app.css', 'app.css'],
  ['renderer/styles/error.css', 'error.css'],
];
for (const [from, to] of STATIC) fs.copyFileSync(path.join(root, from), path.join(rendererOut, to));

const preloadEntry = path.join(root, 'preload/index.ts');
if (fs.existsSync(preloadEntry)) {
  // Overwrites tsc's per-file CommonJS output of the preload with one bundle.
  await esbuild.build({
    entryPoints: [preloadEntry],
    outfile: path.join(preloadOut, 'index.js'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['electron'],
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
} else {
  console.error('build-ui: preload/index.ts not found, preload bundle skipped');
}
console.error('build-ui: ok');
