// Builds what plain Node and Electron run: tsc for main/ (CommonJS under dist/),
// esbuild bundles for the preload and the renderer (no Node APIs inside them).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
fs.chmodSync(path.join(dist, 'main/cli.js'), 0o755);

const extra = path.join(root, 'scripts/build-ui.mjs');
if (fs.existsSync(extra)) await import(extra);
console.error('build: ok');
