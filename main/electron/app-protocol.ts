/**
 * Serves app://pos from the built renderer directory: only files inside it
 * (symlinks included), GET/HEAD only, the CSP on every response. Uses the
 * global Request/Response only (no Electron import), so the whole handler is
 * tested under plain Node; main.ts passes it to protocol.handle.
 */
import fs from 'node:fs/promises';
import { isInside, mimeType, resolveAppPath, securityHeaders } from './policy';

const TEXT = 'text/plain; charset=utf-8';
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };

function refuse(status: number): Response {
  return new Response(STATUS_TEXT[status] ?? 'Error', { status, headers: securityHeaders(TEXT) });
}

export async function serveAppRequest(root: string, request: { url: string; method: string }): Promise<Response> {
  const decision = resolveAppPath(root, request.url, request.method);
  if (!decision.ok) return refuse(decision.status);
  try {
    const [realRoot, realFile] = await Promise.all([fs.realpath(root), fs.realpath(decision.file)]);
    if (!isInside(realRoot, realFile)) return refuse(404);
    const stat = await fs.stat(realFile);
    if (!stat.isFile()) return refuse(404);
    const headers = securityHeaders(mimeType(realFile));
    if (request.method === 'HEAD') return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': String(stat.size) } });
    const body = await fs.readFile(realFile);
    return new Response(body, { status: 200, headers });
  } catch {
    return refuse(404);
  }
}
