/**
 * The TLS rule judges what pg will actually use: a fake PostgreSQL on
 * 127.0.0.2 (another host as far as the rule goes) that asks for the
 * password in clear receives it under none of the known bypasses: a `host=`
 * override, a repeated sslmode (pg honours the last), `no-verify`,
 * `require` without the opt-in, libpq-compat switches. With TLS the fake
 * server (which cannot speak it) never gets past the SSLRequest.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFleetUrl, describeUrl, FLEET_ALLOW_REQUIRE_ENV } from '../../main/fleet/config';
import { withHeadOffice } from '../../main/fleet/head-office';
import { Shipper } from '../../main/fleet/shipper';
import { systemClock } from '../../main/common/time';
import { cli, counterDir, revokeThrough } from '../support/fleet-pg';

const PASSWORD = 'SeCrEt-pw-4711';
let server: net.Server;
let port: number;
let received = Buffer.alloc(0);
let plainStartups = 0;

/** Answers an SSLRequest with 'N' (no TLS here) and a startup message with "send your password in clear". */
function fakePostgres(socket: net.Socket): void {
  let buf = Buffer.alloc(0);
  let started = false;
  socket.on('error', () => undefined);
  socket.on('data', (b: Buffer) => {
    received = Buffer.concat([received, b]);
    buf = Buffer.concat([buf, b]);
    if (started || buf.length < 8) return;
    const len = buf.readInt32BE(0);
    const code = buf.readInt32BE(4);
    if (len === 8 && code === 80877103) {
      buf = buf.subarray(8);
      socket.write('N');
      return;
    }
    if (buf.length >= len) {
      started = true;
      plainStartups++;
      const auth = Buffer.alloc(9);
      auth.write('R', 0);
      auth.writeInt32BE(8, 1);
      auth.writeInt32BE(3, 5); // AuthenticationCleartextPassword
      socket.write(auth);
    }
  });
}

beforeAll(async () => {
  server = net.createServer(fakePostgres);
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('fleet: the TLS rule judges what pg will use', () => {
  it('the fake server would get the password over a plain connection (the probe works)', async () => {
    const c = new pg.Client({ host: '127.0.0.2', port, user: 'u', database: 'd', password: PASSWORD, connectionTimeoutMillis: 2000 });
    c.on('error', () => undefined);
    const sent = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (received.includes(PASSWORD)) {
          clearInterval(t);
          resolve();
        }
      }, 10);
    });
    void c.connect().catch(() => undefined);
    await sent;
    await c.end().catch(() => undefined);
    received = Buffer.alloc(0);
    plainStartups = 0;
  });

  it('no bypass sends the password: refused before connecting, or TLS asked first', async () => {
    const at = `postgres://u:${PASSWORD}@127.0.0.2:${port}/fleet`;
    const refused = [
      `postgres://u:${PASSWORD}@localhost:${port}/fleet?host=127.0.0.2`,
      `postgres://u:${PASSWORD}@127.0.0.1:${port}/fleet?host=127.0.0.2`,
      `${at}?sslmode=verify-full&sslmode=disable`,
      `${at}?sslmode=disable&sslmode=verify-full`,
      `${at}?sslmode=no-verify`,
      `${at}?sslmode=require`,
      `${at}?sslmode=prefer`,
      `${at}?sslmode=allow`,
      `${at}?sslmode=disable`,
      `${at}?ssl=false`,
      `${at}?sslmode=require&uselibpqcompat=true`,
      `${at}?sslmode=verify-full&options=-c%20x%3D1`,
      at,
    ];
    const c = counterDir('TT', { sn: 'S', name: 's' });
    revokeThrough(c.db, Date.now(), 100, 'alipay', 'a', ['sending']);
    for (const url of refused) {
      expect(() => checkFleetUrl(url), url).toThrow(/invalid/);
      const conf = await cli(['fleet', 'configure', '--url-stdin', '--data-dir', c.dir], { UPAY_POS_QUIET: '1' }, url);
      expect(conf.code, url).toBe(2);
      const ship = await cli(['fleet', 'ship', '--once', '--data-dir', c.dir], { UPAY_POS_QUIET: '1', UPAY_POS_FLEET_URL: url });
      expect(ship.code, url).not.toBe(0);
      expect(ship.err + conf.err).not.toContain(PASSWORD);
      // Even a target made without the check: the client is built only from a judged parse.
      await expect(withHeadOffice({ url, shown: describeUrl(url), source: 'env' }, async () => 1)).rejects.toThrow(/invalid/);
    }
    // Accepted: verify-full, verify-ca, and require with the explicit opt-in. pg asks for TLS first and stops at the 'N'.
    const optIn = { [FLEET_ALLOW_REQUIRE_ENV]: '1' };
    for (const [url, env] of [
      [`${at}?sslmode=verify-full`, {}],
      [`${at}?sslmode=verify-ca`, {}],
      [`${at}?sslmode=require`, optIn],
    ] as const) {
      const logs: string[] = [];
      const s = new Shipper({ db: c.db, target: { url: checkFleetUrl(url, env), shown: describeUrl(url), source: 'env' }, clock: systemClock, env, log: (l) => logs.push(l), timing: { connectTimeoutMs: 2000 } });
      await expect(s.drain()).rejects.toThrow(/SSL|TLS|ssl/);
      s.close();
      if (env === optIn) expect(logs.join('\n')).toContain('NOT verified');
    }
    expect(plainStartups).toBe(0);
    expect(received.includes(PASSWORD)).toBe(false);
    c.db.close();
  });
});
