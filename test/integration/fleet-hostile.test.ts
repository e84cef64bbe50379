/**
 * The counter never waits for head office. The runtime starts the shipper in
 * its own process when a fleet address is configured (and stops it on
 * close); pointed at a hostile database (every answer delayed by a proxy,
 * and a partition function that sleeps and answers 100 MB), revokes take as
 * long as with no shipper at all: the ratio of the p50s is printed; what is
 * asserted is that no revoke's p50 comes near one delayed answer of head
 * office, which any wait on it would cost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShipperProcess } from '../../main/fleet/process';
import { databaseOf } from '../../main/runtime';
import { cliEnv, ensureCliBuilt, removeCliSnapshot } from '../support/cli-run';
import { pgProxy, startPg, type PgProxy, type TestPg } from '../support/fleet-pg';
import { createHarness, until, type Harness } from '../support/harness';
import { describeUrl } from '../../main/fleet/config';
import { withHeadOffice } from '../../main/fleet/head-office';
import { migrateHeadOffice } from '../../main/fleet/schema';

/** Every answer of the hostile head office is this late. */
const HOSTILE_DELAY_MS = 400;

let pg: TestPg;
let cli: string;
let proxy: PgProxy | undefined;
beforeAll(async () => {
  cli = ensureCliBuilt();
  pg = await startPg();
}, 180_000);
afterAll(async () => {
  await proxy?.close();
  await pg?.stop();
  removeCliSnapshot();
});

const FAST_ENV = { UPAY_POS_FLEET_TIMEOUT_MS: '2000', UPAY_POS_FLEET_POLL_MS: '20', UPAY_POS_FLEET_HEARTBEAT_MS: '200', UPAY_POS_FLEET_BACKOFF_MS: '50', UPAY_POS_FLEET_BACKOFF_MAX_MS: '200' };

async function revokeTimes(h: Harness, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = h.paidOrder();
    const t = performance.now();
    const r = await h.rt.revokes.request({ sn: o.sn }, 'fleet-test', 'test');
    times.push(performance.now() - t);
    expect(r.state).toBe('revoked');
  }
  return times;
}

const p50 = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

describe('fleet: the shipper is its own process and never slows a revoke', () => {
  it('the runtime starts the shipper when head office is configured; a revoke reaches PostgreSQL; close stops it', async () => {
    const url = await pg.database('ho_runtime');
    await withHeadOffice({ url, shown: describeUrl(url), source: 'env' }, migrateHeadOffice);
    const h = await createHarness({ runtime: { fleet: { cliPath: cli, env: cliEnv({ UPAY_POS_FLEET_URL: url, ...FAST_ENV }) } } });
    try {
      const o = h.paidOrder();
      await h.rt.revokes.request({ sn: o.sn }, 'alice', 'test');
      const deadline = Date.now() + 20_000;
      let found = 0;
      while (Date.now() < deadline && found === 0) {
        const r = await pg.query('ho_runtime', "SELECT count(*)::int AS n FROM fleet.events WHERE kind = 'revoke' AND op_state = 'revoked' AND order_sn = $1", [o.sn]);
        found = r.rows[0].n;
        if (!found) await new Promise((res) => setTimeout(res, 100));
      }
      expect(found).toBe(1);
      const op = await pg.query('ho_runtime', 'SELECT state, operator_name, terminal_sn FROM fleet.operations WHERE order_sn = $1', [o.sn]);
      expect(op.rows).toEqual([{ state: 'revoked', operator_name: 'alice', terminal_sn: h.terminalSn }]);
    } finally {
      await h.close();
    }
    // Nothing is left connected after close: the shipper's process is gone.
    const left = await pg.query('postgres', "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'upay-pos-fleet'");
    expect(left.rows[0].n).toBe(0);
  });

  it('a hostile head office (slow, huge answers) leaves revoke latency unchanged', async () => {
    await pg.database('ho_hostile');
    await pg.query(
      'ho_hostile',
      `CREATE SCHEMA fleet;
       CREATE FUNCTION fleet.ensure_day(d date) RETURNS text LANGUAGE sql AS $$ SELECT repeat('x', 100 * 1024 * 1024) FROM pg_sleep(0.3) $$;`,
    );
    proxy = await pgProxy(pg.port);
    proxy.delay(HOSTILE_DELAY_MS);
    const hostileUrl = pg.url('ho_hostile', proxy.port);
    const h = await createHarness({ runtime: { fleet: false } });
    try {
      await revokeTimes(h, 5); // warm-up
      // Without a shipper before and after the hostile run, so the machine's drift (shared cores) falls on both sides.
      const bareSamples = await revokeTimes(h, 20);
      const logs: string[] = [];
      const shipper = new ShipperProcess({ dataDir: h.dataDir, cliPath: cli, env: cliEnv({ UPAY_POS_FLEET_URL: hostileUrl, ...FAST_ENV }), restartBaseMs: 100, restartMaxMs: 500, log: (l) => logs.push(l) });
      shipper.start();
      // The shipper meets the hostile database before we measure: a query timed out, or the child died of the answer.
      const lastError = () => databaseOf(h.rt).prepare('SELECT last_error FROM fleet_state').pluck().get() as string | null;
      await until(() => shipper.restartCount > 0 || lastError() !== null, 30_000, 100);
      let hostile: number;
      try {
        hostile = p50(await revokeTimes(h, 40));
      } finally {
        await shipper.stop();
      }
      bareSamples.push(...(await revokeTimes(h, 20)));
      const bare = p50(bareSamples);
      const state = lastError();
      const backlog = databaseOf(h.rt).prepare("SELECT count(*) FROM fleet_outbox WHERE kind != 'heartbeat'").pluck().get() as number;
      console.log(
        `fleet-hostile: revoke_p50_no_shipper_ms=${bare.toFixed(2)} revoke_p50_hostile_shipper_ms=${hostile.toFixed(2)} ratio=${(hostile / bare).toFixed(2)} ` +
          `shipper_restarts=${shipper.restartCount} backlog=${backlog} last_error=${JSON.stringify(state)}`,
      );
      // Not a speed target (the machine's load moves the ratio): a revoke that waited on head office at all would
      // take at least the proxy's delay on every answer.
      expect(hostile).toBeLessThan(HOSTILE_DELAY_MS);
      // Nothing was shipped and nothing was lost: the revokes wait in the outbox.
      expect(backlog).toBeGreaterThanOrEqual(160);
      expect(`${state ?? ''}${logs.join('\n')}`).not.toContain('fleet-test-pw');
    } finally {
      await h.close();
    }
  });
});
