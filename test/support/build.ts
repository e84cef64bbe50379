/** Tests that run built JS (the CLI bin, crash workers) build once if dist/ is missing (`npm test` builds first). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export function ensureBuilt(...files: string[]): void {
  if (files.every((f) => fs.existsSync(path.join(ROOT, f)))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}
