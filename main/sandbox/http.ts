/** HTTP plumbing of the sandbox gateway: the Authorization header, body reading and writing, log summaries. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthHeader } from './gateway-state';
import type { LogEntry } from './faults';
import type { Envelope } from './wire';

export const JSON_TYPE = 'application/json; charset=utf-8';

/** `<sn> <sign>` with exactly one space and a 32-hex signature in either case. */
export function parseAuth(header: string | undefined): AuthHeader | undefined {
  const m = /^(\S+) ([0-9a-fA-F]{32})$/.exec(header ?? '');
  return m && m[1] && m[2] ? { sn: m[1], sign: m[2] } : undefined;
}

export const NOT_JSON = Symbol('not json');

export function tryParse(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return NOT_JSON;
  }
}

export function describe(env: Envelope): Pick<LogEntry, 'resultCode' | 'bizResultCode' | 'errorCode'> {
  if (env.result_code !== '200') return { resultCode: env.result_code, errorCode: env.error_code };
  const biz = env.biz_response;
  const out: Pick<LogEntry, 'resultCode' | 'bizResultCode' | 'errorCode'> = { resultCode: '200' };
  if (typeof biz.result_code === 'string') out.bizResultCode = biz.result_code;
  if (typeof biz.error_code === 'string' && biz.error_code !== '') out.errorCode = biz.error_code;
  return out;
}

/**
 * Reads the body. Past `maxBody` the bytes are counted but not kept (the
 * request is answered INVALID_PARAMS); past `maxDrain`, or when the client
 * vanishes, the result is undefined and the socket is gone.
 */
export async function readBody(req: IncomingMessage, maxBody: number, maxDrain: number): Promise<{ body: Buffer; size: number } | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > maxDrain) {
        req.socket.destroy();
        return undefined;
      }
      if (size <= maxBody) chunks.push(b);
    }
  } catch {
    return undefined;
  }
  return { body: Buffer.concat(chunks), size };
}

export function writeBody(res: ServerResponse, status: number, type: string, body: Buffer): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': type, 'content-length': body.length });
  res.end(body);
}

export function writeJson(res: ServerResponse, status: number, env: Envelope): void {
  writeBody(res, status, JSON_TYPE, Buffer.from(JSON.stringify(env), 'utf8'));
}
