/**
 * `orders.import` records the order asked about and nothing else: a broken or
 * hostile gateway may answer a query with another order, and that answer is
 * refused with nothing written. An order paid at another till of the
 * merchant imports (a till may void or refund it: docs/cli.md), and the
 * sandbox's real answers about our own orders import. Real HTTP to the
 * sandbox (and through a rewriting gateway in front of it), real SQLite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { databaseOf, type Runtime } from '../../main/runtime';
import { createHarness, type Harness } from '../support/harness';
import { createHostileGateway, type HostileGateway } from '../support/hostile-gateway';

let h: Harness | undefined;
let hostile: HostileGateway | undefined;
afterEach(async () => {
  await hostile?.close();
  await h?.close();
  hostile = undefined;
  h = undefined;
});

/** Rows an import writes (the order, its audit line, any revoke). */
function counts(rt: Runtime): Record<string, number> {
  const db = databaseOf(rt);
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    orders: n('SELECT COUNT(*) AS n FROM orders'),
    imported: n(`SELECT COUNT(*) AS n FROM audit_log WHERE action = 'order.imported'`),
    revokes: n('SELECT COUNT(*) AS n FROM revokes'),
  };
}

/** The query answer's order (`data`), rewritten. */
const rewriteOrder = (change: (data: Record<string, unknown>) => Record<string, unknown>) => (path: string, json: Record<string, unknown>) => {
  if (path !== '/upay/v2/query') return json;
  const biz = json.biz_response as { data?: Record<string, unknown> } | undefined;
  if (!biz?.data) return json;
  return { ...json, biz_response: { ...biz, data: change(biz.data) } };
};

describe('orders.import: the order asked about, and nothing else', () => {
  it('our own order, and one paid at another till of the merchant, import from the sandbox’s real answers', async () => {
    h = await createHarness();
    const ours = h.sandbox.gateway.seedOrder({ terminalSn: h.terminalSn, totalCents: 1234, subject: '本机' });
    const a = await h.rt.orders.import({ sn: ours.sn }, 'test');
    expect(a).toMatchObject({ sn: ours.sn, clientSn: ours.clientSn, totalCents: 1234 });
    const b = await h.rt.orders.import({ clientSn: ours.clientSn }, 'test');
    expect(b.sn).toBe(ours.sn);
    const till2 = h.sandbox.gateway.createTerminal('till-2');
    const theirs = h.sandbox.gateway.seedOrder({ terminalSn: till2.terminalSn, totalCents: 2500, subject: '别的收银台' });
    expect(await h.rt.orders.import({ sn: theirs.sn }, 'test')).toMatchObject({ sn: theirs.sn, totalCents: 2500 });
    expect(counts(h.rt)).toMatchObject({ orders: 2, imported: 3 });
  });

  it('a hostile answer about another order than the one asked: refused, nothing written; unchanged, it imports', async () => {
    h = await createHarness();
    hostile = await createHostileGateway(h.sandbox.gateway.url);
    const rt = h.runtime({ apiDomain: hostile.url });
    const ours = h.sandbox.gateway.seedOrder({ terminalSn: h.terminalSn, totalCents: 4321 });
    const mine2 = h.sandbox.gateway.seedOrder({ terminalSn: h.terminalSn, totalCents: 999 });
    const before = counts(rt);
    hostile.mode = () => 'rewrite';
    hostile.rewrite = rewriteOrder((d) => ({ ...d, sn: mine2.sn, client_sn: mine2.clientSn }));
    await expect(rt.orders.import({ sn: ours.sn }, 'test')).rejects.toMatchObject({ code: 'GATEWAY_UNCERTAIN', details: { field: 'sn' } });
    await expect(rt.orders.import({ clientSn: ours.clientSn }, 'test')).rejects.toMatchObject({ code: 'GATEWAY_UNCERTAIN', details: { field: 'client_sn' } });
    // A revoke of it finds nothing to import, and sends nothing.
    await expect(rt.revokes.request({ sn: ours.sn }, null, 'test')).rejects.toMatchObject({ code: 'GATEWAY_UNCERTAIN' });
    expect(h.sandbox.gateway.effects('revoke', ours.sn)).toBe(0);
    expect(rt.orders.get(ours.sn)).toBeUndefined();
    expect(rt.orders.get(mine2.sn)).toBeUndefined();
    expect(counts(rt)).toEqual(before);

    hostile.mode = () => 'pass';
    expect(await rt.orders.import({ sn: ours.sn }, 'test')).toMatchObject({ sn: ours.sn, totalCents: 4321 });
  });
});
