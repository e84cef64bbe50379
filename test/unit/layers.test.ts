/**
 * The layers hold by rule: each per-layer ESLint rule is proven by a
 * deliberate bad import, main/ has no folder loop and no file cycle (type
 * imports included), there is one backoff function, and no class in
 * main/operations/ is over 200 lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '../..');
const MAIN = path.join(ROOT, 'main');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every relative import and re-export of each file in main/ (type-only ones too), resolved to files. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(MAIN)) {
    const text = fs.readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/gms)) {
      const base = path.resolve(path.dirname(file), m[1]!);
      const hit = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((c) => fs.existsSync(c));
      if (hit) targets.push(hit);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one member (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.map((f) => path.relative(MAIN, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** main/'s top-level part a file belongs to: its folder, or the file itself at the top. */
const part = (file: string) => path.relative(MAIN, file).split(path.sep)[0]!;

describe('the import graph of main/', () => {
  const graph = importGraph();

  it('has no file cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no folder loop (folders and top-level files as nodes)', () => {
    const parts = new Map<string, string[]>();
    for (const [file, targets] of graph) {
      const from = part(file);
      const list = parts.get(path.join(MAIN, from)) ?? [];
      for (const t of targets) if (part(t) !== from) list.push(path.join(MAIN, part(t)));
      parts.set(path.join(MAIN, from), list);
    }
    expect(cycles(parts)).toEqual([]);
  });
});

describe('per-layer ESLint rules, each proven by a deliberate bad import', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const restricted = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    return result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
  };

  it.each([
    ['main/store/bad.ts', "import { Outbox } from '../operations/outbox';\nexport const x = Outbox;\n", /main\/store\/ imports only/],
    ['main/store/bad.ts', "import { shipBatch } from '../fleet/shipper';\nexport const x = shipBatch;\n", /main\/store\/ imports only/],
    ['main/store/bad.ts', "import { checkGatewayUrl } from '../upay/gateway-url';\nexport const x = checkGatewayUrl;\n", /main\/store\/ imports only/],
    ['main/store/migrations/999-bad.ts', "import { operationTriggers } from '../../fleet/outbox-sql';\nexport const x = operationTriggers;\n", /frozen literal SQL/],
    ['main/printer/bad.ts', "import { RevokeEngine } from '../operations/revoke/engine';\nexport const x = RevokeEngine;\n", /imports nothing of main\/operations/],
    ['main/printer/bad.ts', "import type { Step } from '../operations/kind';\nexport type X = Step<never>;\n", /imports nothing of main\/operations/],
    ['main/store/bad.ts', "import { app } from 'electron';\nexport const x = app;\n", /electron/],
  ])('%s: %s is refused', async (file, code, message) => {
    const messages = await restricted(file, code);
    expect(messages.some((m) => message.test(m)), messages.join('\n')).toBe(true);
  });

  it.each([
    ['main/store/good.ts', "import { businessDay } from '../common/time';\nimport { PosError } from '../errors';\nimport type { Order } from '../domain';\nimport { tx } from './db';\nexport const x = [businessDay, PosError, tx] as unknown as Order;\n"],
    ['main/store/migrations/999-good.ts', "import type { Migration } from './migration';\nexport const m: Migration | null = null;\n"],
    ['main/printer/good.ts', "import type { RevokeRow } from '../store/revokes';\nexport type X = RevokeRow;\n"],
  ])('%s: allowed imports pass', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});

describe('written once', () => {
  it('one backoff function: nothing in main/ but common/backoff.ts doubles a delay', () => {
    const doubling = sources(MAIN).filter((f) => /\*\s*2\s*\*\*|Math\.pow\(\s*2/.test(fs.readFileSync(f, 'utf8')));
    expect(doubling.map((f) => path.relative(MAIN, f))).toEqual(['common/backoff.ts']);
  });

  it('no class in main/operations/ is over 200 lines; no file in main/ over 400', () => {
    for (const file of sources(MAIN)) {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      expect(lines.length, path.relative(MAIN, file)).toBeLessThanOrEqual(400);
      if (!file.startsWith(path.join(MAIN, 'operations'))) continue;
      let start = -1;
      lines.forEach((line, i) => {
        if (/^export (abstract )?class |^class /.test(line)) start = i;
        else if (start >= 0 && line === '}') {
          expect(i - start + 1, `${path.relative(MAIN, file)}:${start + 1}`).toBeLessThanOrEqual(200);
          start = -1;
        }
      });
    }
  });
});
