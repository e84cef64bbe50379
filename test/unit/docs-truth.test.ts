/**
 * The README's "How a revoke runs" stays true: every file it names exists,
 * and each is reached (imports, or is imported by) a file named before it, so
 * the list is one connected path in the order a revoke takes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_NAMES } from '../../main/ipc/channels';
import { MIGRATIONS } from '../../main/store/migrations';

const ROOT = path.join(__dirname, '../..');

function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`## ${title}`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** Relative imports of a file (type-only ones too), resolved to repository paths. */
function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/gms)) {
    const base = path.resolve(path.dirname(path.join(ROOT, file)), m[1]!);
    const hit = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((c) => fs.existsSync(c));
    if (hit) out.push(path.relative(ROOT, hit));
  }
  return out;
}

describe('README: How a revoke runs', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const steps = section(readme, 'How a revoke runs')
    .split('\n')
    .filter((l) => /^\d+\. `/.test(l))
    .map((l) => l.match(/^\d+\. `([^`]+)`/)![1]!);

  it('names the path (more than the first eight files)', () => {
    expect(steps.length).toBeGreaterThanOrEqual(20);
    expect(steps[0]).toBe('preload/index.ts');
  });

  it('every file named exists', () => {
    for (const f of steps) expect(fs.existsSync(path.join(ROOT, f)), f).toBe(true);
  });

  it('each file is connected to one named before it (it imports it, or is imported by it), in that order', () => {
    // The preload reaches the main process over IPC, not by import: register.ts is the other end of that channel.
    const viaIpc = new Set(['main/ipc/register.ts']);
    for (let i = 1; i < steps.length; i++) {
      const f = steps[i]!;
      if (viaIpc.has(f)) continue;
      const earlier = steps.slice(0, i);
      const connected = earlier.some((e) => imports(e).includes(f) || imports(f).includes(e));
      expect(connected, `${i + 1}. ${f} is not reached from ${earlier.join(', ')}`).toBe(true);
    }
  });

  it('eligibility and the intent row come before the gateway call', () => {
    const at = (f: string) => steps.indexOf(f);
    expect(at('main/operations/revoke/interpret.ts')).toBeLessThan(at('main/upay/client.ts'));
    expect(at('main/operations/revoke/transitions.ts')).toBeLessThan(at('main/upay/client.ts'));
  });
});

describe('docs name what exists', () => {
  it('docs/cli.md names every file of main/cli/', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8');
    for (const f of fs.readdirSync(path.join(ROOT, 'main/cli'))) expect(doc, f).toContain(`\`${f}\``);
  });

  it('docs/ipc-contract-spec.md counts the events there are', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/ipc-contract-spec.md'), 'utf8');
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
    expect(doc).toContain(`only to the ${words[EVENT_NAMES.length]} names above`);
    for (const e of EVENT_NAMES) expect(doc).toContain(`\`${e}\``);
  });

  it('the README names every migration in its history', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const words = ['', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13'];
    for (let v = 2; v <= MIGRATIONS.length; v++) expect(readme, `migration ${v}`).toMatch(new RegExp(`[Vv]ersion ${words[v]}\\b`));
  });
});
