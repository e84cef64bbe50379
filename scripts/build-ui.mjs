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

// Static assets: HTML pages and the stylesheets.
const STATIC = [
  ['renderer/index.html', 'index.html'],
  ['renderer/error.html', 'error.html'],
  ['renderer/styles/app.css', 'app.css'],
  ['renderer/styles/refunds.css', 'refunds.css'],
  ['renderer/styles/payments.css', 'payments.css'],
  ['renderer/styles/error.css', 'error.css'],
  ['renderer/styles/operators.css', 'operators.css'],
];
for (const [from, to] of STATIC) fs.copyFileSync(path.join(root, from), path.join(rendererOut, to));

// The UI's font ships with the app (a counter PC may have no CJK font at all): Noto Sans SC from
// @fontsource, regular and bold, woff2 only (Chromium reads it): the simplified-Chinese subset
// (no unicode-range: it answers for every character it has) and, declared after it so it wins
// inside its range, the small Latin subset. fonts.css (imported by app.css and error.css) holds
// the @font-face rules; the files go to fonts/, served by app:// under the same CSP.
const FONT_PACKAGE = path.join(root, 'node_modules/@fontsource/noto-sans-sc');
const FONT_FACES = [
  ['chinese-simplified-400.css', 'chinese-simplified-400-normal'],
  ['chinese-simplified-700.css', 'chinese-simplified-700-normal'],
  ['400.css', 'latin-400-normal'],
  ['700.css', 'latin-700-normal'],
];
fs.mkdirSync(path.join(rendererOut, 'fonts'));
const faces = FONT_FACES.map(([cssFile, name]) => {
  const css = fs.readFileSync(path.join(FONT_PACKAGE, cssFile), 'utf8');
  const face = new RegExp(`/\\* noto-sans-sc-${name} \\*/\\s*(@font-face\\s*{[^}]*})`).exec(css)?.[1];
  const file = `noto-sans-sc-${name}.woff2`;
  if (!face || !face.includes(`./files/${file}`)) throw new Error(`build-ui: ${name} not found in @fontsource/noto-sans-sc/${cssFile}`);
  fs.copyFileSync(path.join(FONT_PACKAGE, 'files', file), path.join(rendererOut, 'fonts', file));
  return face.replace(/src:[^;]*;/, `src: url(fonts/${file}) format('woff2');`);
});
fs.writeFileSync(path.join(rendererOut, 'fonts.css'), `/* Noto Sans SC (SIL Open Font License 1.1), from @fontsource/noto-sans-sc. */\n${faces.join('\n')}\n`);

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
