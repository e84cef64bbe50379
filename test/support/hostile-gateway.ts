/**
 * A hostile gateway on loopback for the attack tests: it forwards each call
 * to a real sandbox gateway (so the call is applied there), then answers the
 * way a hostile or broken gateway would, per path:
 * - `pass`: the sandbox's answer unchanged;
 * - `huge`: 200 with a chunked body of `hugeBytes` (no content-length),
 *   written only as fast as the client reads it;
 * - `drip`: 200 headers, then one byte a second, for ever;
 * - `rewrite`: the sandbox's JSON answer passed through `rewrite` first.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type HostileMode = 'pass' | 'huge' | 'drip' | 'rewrite';

export interface HostileGateway {
  url: string;
  /** Decides the answer for a path (e.g. /upay/v2/revoke); default `pass`. */
  mode: (path: string) => HostileMode;
  rewrite: (path: string, json: Record<string, unknown>) => unknown;
  hugeBytes: number;
  /** Bytes of hostile body written (huge and drip). */
  written(): number;
  /** Requests seen, by path. */
  seen(): string[];
  close(): Promise<void>;
}

export async function createHostileGateway(upstream: string): Promise<HostileGateway> {
  let written = 0;
  const seen: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const gw: HostileGateway = {
    url: '',
    mode: () => 'pass',
    rewrite: (_p, json) => json,
    hugeBytes: 300 * 1024 * 1024,
    written: () => written,
    seen: () => [...seen],
    close: async () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const forward = (path: string, headers: http.IncomingHttpHeaders, body: Buffer) =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = http.request(upstream + path, { method: 'POST', headers: { 'content-type': String(headers['content-type'] ?? ''), authorization: String(headers.authorization ?? '') } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push(path);
      void forward(path, req.headers, Buffer.concat(chunks)).then(
        (up) => answer(path, up, res),
        () => res.destroy(),
      );
    });
  });
  const answer = (path: string, up: { status: number; body: Buffer }, res: http.ServerResponse) => {
    const mode = gw.mode(path);
    if (mode === 'pass') {
      res.writeHead(up.status, { 'content-type': 'application/json; charset=utf-8' }).end(up.body);
    } else if (mode === 'rewrite') {
      const json = gw.rewrite(path, JSON.parse(up.body.toString('utf8')) as Record<string, unknown>);
      res.writeHead(up.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(json));
    } else if (mode === 'huge') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let left = gw.hugeBytes;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          left -= chunk.length;
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      res.on('error', () => {});
      res.write('{"result_code":"200","biz_response":{"result_code":"');
      pump();
    } else {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.write('{');
      const t = setInterval(() => {
        if (res.destroyed) {
          clearInterval(t);
          timers.delete(t);
          return;
        }
        written += 1;
        res.write(' ');
      }, 1000);
      timers.add(t);
      res.on('close', () => {
        clearInterval(t);
        timers.delete(t);
      });
    }
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  gw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return gw;
}
