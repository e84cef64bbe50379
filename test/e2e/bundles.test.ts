/**
 * What runs inside Chromium must not reach Node: the renderer bundle has no
 * `require`, `process`, `module`, Node globals or `node:` imports at all; the
 * preload bundle requires `electron` and nothing else. Checked on the built
 * files with the TypeScript parser (identifiers, not text: "main process"
 * in a message or a method named `process` is fine).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { serveAppRequest } from '../../main/electron/app-protocol';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/policy';
import { ensureUiBuilt, PRELOAD_DIST, RENDERER_DIST } from './harness';

const NODE_GLOBALS = new Set(['require', 'process', 'module', 'exports', '__dirname', '__filename', 'global', 'Buffer', 'setImmediate']);

interface Finding {
  name: string;
  text: string;
}

/** Free references to Node globals (not property names, not members), and every require(...) call with its argument. */
function scan(file: string): { refs: Finding[]; requires: string[]; nodeSpecifiers: string[] } {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const refs: Finding[] = [];
  const requires: string[] = [];
  const nodeSpecifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text) && isReference(node)) {
      refs.push({ name: node.text, text: node.parent.getText(source).slice(0, 80) });
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      const arg = node.arguments[0];
      requires.push(arg && ts.isStringLiteral(arg) ? arg.text : '<dynamic>');
    }
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      nodeSpecifiers.push(node.moduleSpecifier.text);
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) nodeSpecifiers.push('<dynamic import>');
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { refs, requires, nodeSpecifiers };
}

function isReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === id) return false;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) && p.name === id) return false;
  if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isFunctionDeclaration(p) || ts.isBindingElement(p)) && p.name === id) return false;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  return true;
}

describe('bundles that run in Chromium', () => {
  beforeAll(async () => {
    await ensureUiBuilt();
  }, 120_000);

  it('the scanner finds Node globals and ignores look-alikes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-pos-scan-'));
    const file = path.join(dir, 'x.js');
    fs.writeFileSync(file, 'const a = { process: 1, b() { return "main process"; } }; a.process; process.env.X; require("node:fs"); Buffer.from("x");');
    const { refs, requires } = scan(file);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(refs.map((r) => r.name).sort()).toEqual(['Buffer', 'process', 'require']);
    expect(requires).toEqual(['node:fs']);
  });

  it('the renderer bundle uses no Node API', () => {
    const file = path.join(RENDERER_DIST, 'app.js');
    const { refs, requires, nodeSpecifiers } = scan(file);
    expect(refs).toEqual([]);
    expect(requires).toEqual([]);
    expect(nodeSpecifiers).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).not.toMatch(/["'`]node:/);
  });

  it('the preload bundle requires electron and nothing else', () => {
    const { refs, requires, nodeSpecifiers } = scan(PRELOAD_DIST);
    expect(requires).toEqual(['electron']);
    expect(nodeSpecifiers).toEqual([]);
    // esbuild's CommonJS wrapper assigns module.exports; any other Node global is a leak.
    expect(refs.filter((r) => r.name !== 'require' && r.name !== 'module')).toEqual([]);
    expect(refs.filter((r) => r.name === 'module').every((r) => r.text.startsWith('module.exports'))).toBe(true);
    expect(fs.readFileSync(PRELOAD_DIST, 'utf8')).not.toMatch(/require\(["']node:/);
  });

  it('the pages load only local files and carry the CSP', () => {
    for (const page of ['index.html', 'error.html']) {
      const html = fs.readFileSync(path.join(RENDERER_DIST, page), 'utf8');
      expect(html).toMatch(/http-equiv="Content-Security-Policy"/);
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      expect(html).not.toMatch(/\sstyle=/);
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    }
    const error = fs.readFileSync(path.join(RENDERER_DIST, 'error.html'), 'utf8');
    expect(error).not.toMatch(/<script/);
    expect(error).toMatch(/收银程序/);
    expect(error).toMatch(/The POS app stopped/);
  });

  it('the UI font ships in the bundle and app:// serves it under the CSP', async () => {
    const css = fs.readFileSync(path.join(RENDERER_DIST, 'fonts.css'), 'utf8');
    const urls = [...css.matchAll(/url\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(urls.length).toBe(4);
    for (const url of urls) expect(url).toMatch(/^fonts\/noto-sans-sc-[\w-]+\.woff2$/);
    for (const sheet of ['app.css', 'error.css']) expect(fs.readFileSync(path.join(RENDERER_DIST, sheet), 'utf8')).toMatch(/^@import url\("fonts\.css"\);$/m);
    const res = await serveAppRequest(RENDERER_DIST, { url: `app://pos/${urls[0]}`, method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('font/woff2');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.subarray(0, 4).toString('latin1')).toBe('wOF2');
  });
});
