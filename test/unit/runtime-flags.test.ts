/** The runtime's V8 flags are stated once (main/runtime.ts) and used by every launcher. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { RUNTIME_NODE_FLAGS } from '../../main/runtime';

const root = path.resolve(__dirname, '../..');

it('the packaged app and `npm start` start the main process with RUNTIME_NODE_FLAGS', () => {
  const jsFlags = `--js-flags=${RUNTIME_NODE_FLAGS.join(' ')}`;
  expect(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')).toContain(`"${jsFlags}"`);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.start).toContain(jsFlags);
});
