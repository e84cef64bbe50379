/**
 * Reliability, light part: the store full (SQLite max_page_count cap) and
 * read-only (PRAGMA query_only) — portable versions of the chaos suite's
 * tmpfs tests. A write fails with STORE_UNWRITABLE (toPosError and the IPC
 * envelope), nothing committed before is lost, the runtime keeps reading.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, databaseOf } from '../../main/runtime';
import { closedPort } from '../support/chaos-net';
import { dumpDb, tempDir } from '../support/chaos-env';
import { fillUntilRefused } from '../support/chaos-disk';
import { signedInHandlers } from '../support/operators';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function runtime(): Promise<{ rt: Runtime; dir: string; api: string }> {
  const dir = tempDir('upay-pos-disk-');
  const api = `http://127.0.0.1:${await closedPort()}`;
  const rt = createRuntime({ dataDir: dir, apiDomain: api, printer: 'none', startWorkers: false });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => rt.close());
  return { rt, dir, api };
}

describe('reliability: disk (light)', () => {
  it('a full store answers STORE_UNWRITABLE and keeps every committed row', async () => {
    const { rt, dir, api } = await runtime();
    // Signed in while the disk still takes writes (a sign-in writes nothing but the operator made for it).
    const h = await signedInHandlers(rt, { mode: 'sandbox', version: 't', vendor: null });
    const before = fillUntilRefused(rt, '11', 20);
    expect(before.code).toBeNull();
    const pages = databaseOf(rt).pragma('page_count', { simple: true }) as number;
    databaseOf(rt).pragma(`max_page_count = ${pages + 2}`);
    const full = fillUntilRefused(rt, '22', 5_000);
    console.log(`reliability-disk: full after ${full.committed.length} more orders: ${full.raw} -> ${full.code}`);
    expect(full.code).toBe('STORE_UNWRITABLE');
    const r = await h['settings.set']({ paperWidth: 58 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('STORE_UNWRITABLE');
    const listed = await h['orders.list']({});
    expect(listed.ok).toBe(true);
    await rt.close();
    const again = createRuntime({ dataDir: dir, apiDomain: api, printer: 'none', startWorkers: false });
    try {
      for (const sn of [...before.committed, ...full.committed]) expect(again.orders.get(sn)?.sn).toBe(sn);
    } finally {
      await again.close();
    }
  });

  it('a read-only store answers STORE_UNWRITABLE and changes nothing', async () => {
    const { rt } = await runtime();
    const h = await signedInHandlers(rt, { mode: 'sandbox', version: 't', vendor: null });
    fillUntilRefused(rt, '33', 10);
    const snapshot = dumpDb(databaseOf(rt));
    databaseOf(rt).pragma('query_only = 1');
    const ro = fillUntilRefused(rt, '44', 10);
    expect(ro.committed).toEqual([]);
    expect(ro.code).toBe('STORE_UNWRITABLE');
    const r = await h['printer.test']({});
    expect(r.ok ? 'ok' : r.error.code).toBe('STORE_UNWRITABLE');
    databaseOf(rt).pragma('query_only = 0');
    expect(dumpDb(databaseOf(rt))).toBe(snapshot);
  });
});
