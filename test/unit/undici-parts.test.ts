/**
 * The client loads undici's Agent and request API from their own modules
 * (main/upay/http.ts), not from the package's index: they are the package's
 * very classes and function, and a request through them behaves as undici's
 * own `request` does (a round trip to a loopback server, the path and query
 * kept, the body streamed back).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as undici from 'undici';
import { Agent, request } from '../../main/upay/http';

let server: http.Server;
let base = '';
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("undici's parts", () => {
  it("are the package's own Agent (the index exports the same class)", () => {
    expect(Agent).toBe(undici.Agent);
  });

  it("request through them as through undici's request: method, path with query, headers, body", async () => {
    const agent = new Agent({ keepAliveTimeout: 1_000 });
    try {
      const opts = { method: 'POST' as const, dispatcher: agent, headers: { authorization: 'T1 sig' }, body: '{"a":1}' };
      const ours = await request(`${base}/upay/v2/revoke?x=1`, opts);
      const theirs = await undici.request(`${base}/upay/v2/revoke?x=1`, opts);
      expect(ours.statusCode).toBe(200);
      const a = (await ours.body.json()) as Record<string, unknown>;
      const b = (await theirs.body.json()) as Record<string, unknown>;
      expect(a).toEqual({ method: 'POST', url: '/upay/v2/revoke?x=1', body: '{"a":1}', auth: 'T1 sig' });
      expect(a).toEqual(b);
    } finally {
      await agent.close();
    }
  });
});
