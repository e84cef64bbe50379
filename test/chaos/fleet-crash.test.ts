/**
 * Chaos: the shipper (`upay-pos fleet ship`, its own process) SIGKILLed at
 * random moments, ≥ 50 times, while the counter keeps writing revokes and
 * audit entries; head office is a real PostgreSQL started here. Every event
 * arrives exactly once: each audit entry once, each revoke transition once,
 * and the per-terminal sequence numbers are all there.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { businessDayStart } from '../../main/common/time';
import { describeUrl } from '../../main/fleet/config';
import { withHeadOffice } from '../../main/fleet/head-office';
import { backlog } from '../../main/fleet/outbox';
import { migrateHeadOffice } from '../../main/fleet/schema';
import { mulberry32 } from '../../main/util/prng';
import { cliEnv, ensureCliBuilt, removeCliSnapshot } from '../support/cli-run';
import { daysAgo } from '../support/days';
import { counterDir, revokeThrough, startPg, type TestPg } from '../support/fleet-pg';

const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const KILLS = Number(process.env.CHAOS_FLEET_KILLS ?? 60);

let pg: TestPg;
let cli: string;
beforeAll(async () => {
  cli = ensureCliBuilt();
  pg = await startPg();
}, 180_000);
afterAll(async () => {
  await pg?.stop();
  removeCliSnapshot();
});

describe('chaos: the fleet shipper SIGKILLed at random moments', () => {
  it(`every event reaches head office exactly once after ${KILLS} kills`, async () => {
    const url = await pg.database('ho_chaos');
    await withHeadOffice({ url, shown: describeUrl(url), source: 'env' }, migrateHeadOffice);
    const rand = mulberry32(SEED);
    const c = counterDir('TK', { sn: 'SK', name: 'chaos' });
    const env = cliEnv({ UPAY_POS_FLEET_URL: url, UPAY_POS_FLEET_POLL_MS: '5', UPAY_POS_FLEET_HEARTBEAT_MS: '40', UPAY_POS_FLEET_BACKOFF_MS: '10', UPAY_POS_FLEET_BACKOFF_MAX_MS: '50', UPAY_POS_QUIET: '1' });
    const t0 = businessDayStart(daysAgo(14)) + 8 * 3_600_000;
    let transitions = 0;
    let n = 0;
    const write = (count: number) => {
      for (let i = 0; i < count; i++) {
        const states = rand() < 0.7 ? ['sending', 'revoked'] : ['sending', 'pending', 'needs_attention'];
        revokeThrough(c.db, t0 + n * 1000, 100 + (n % 50), rand() < 0.5 ? 'alipay' : 'wechat', `op${n % 3}`, states);
        transitions += states.length;
        n++;
      }
    };
    let kills = 0;
    let shippedWhileKilled = 0;
    const started = Date.now();
    while (kills < KILLS) {
      write(1 + Math.floor(rand() * 12));
      const before = backlog(c.db, Date.now()).shippedTotal;
      const child = spawn(process.execPath, [cli, 'fleet', 'ship', '--data-dir', c.dir], {
        env: { ...env, UPAY_POS_FLEET_BATCH: String(1 + Math.floor(rand() * 9)) },
        stdio: 'ignore',
      });
      let gone = false;
      const exited = new Promise((r) => child.once('exit', r)).then(() => (gone = true));
      // Event-driven, not a fixed pause (a loaded machine takes seconds to start node): once the child is
      // connected to head office, it is killed at a random moment of its shipping.
      for (const t0 = Date.now(); !gone && Date.now() - t0 < 30_000; ) {
        const up = await pg.query('postgres', "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'upay-pos-fleet'");
        if (up.rows[0].n > 0 || backlog(c.db, Date.now()).shippedTotal > before) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 300)));
      write(Math.floor(rand() * 4));
      child.kill('SIGKILL');
      await exited;
      kills++;
      shippedWhileKilled += backlog(c.db, Date.now()).shippedTotal - before;
    }
    // Calm after the storm: one last shipper runs until the outbox is empty.
    const last = spawn(process.execPath, [cli, 'fleet', 'ship', '--once', '--data-dir', c.dir], { env, stdio: 'ignore' });
    expect(await new Promise((r) => last.once('exit', r))).toBe(0);
    const b = backlog(c.db, Date.now());
    expect(b.events - b.heartbeats).toBe(0);

    const audits = c.db.prepare('SELECT count(*) FROM audit_log').pluck().get() as number;
    const ev = await pg.query(
      'ho_chaos',
      `SELECT count(*) FILTER (WHERE kind = 'audit')::int AS audits,
              count(DISTINCT (payload->>'id')) FILTER (WHERE kind = 'audit')::int AS distinct_audits,
              count(*) FILTER (WHERE kind = 'revoke')::int AS revoke_events,
              count(DISTINCT (op_id, op_state)) FILTER (WHERE kind = 'revoke')::int AS distinct_transitions,
              count(DISTINCT seq)::int AS seqs, count(*)::int AS all_events,
              max(seq) FILTER (WHERE kind != 'heartbeat')::int AS max_seq
       FROM fleet.events WHERE terminal_sn = 'TK'`,
    );
    const r = ev.rows[0] as Record<string, number>;
    const ops = await pg.query('ho_chaos', "SELECT count(*)::int AS n FROM fleet.operations WHERE terminal_sn = 'TK'");
    console.log(
      `fleet-chaos: seed=${SEED} kills=${kills} revokes=${n} transitions=${transitions} audits=${audits} ` +
        `pg_audit_events=${r.audits} pg_revoke_events=${r.revoke_events} pg_events=${r.all_events} shipped_while_killed=${shippedWhileKilled} elapsed_ms=${Date.now() - started}`,
    );
    expect(kills).toBeGreaterThanOrEqual(50);
    expect(shippedWhileKilled).toBeGreaterThan(0);
    expect(r.audits).toBe(audits);
    expect(r.distinct_audits).toBe(audits);
    expect(r.revoke_events).toBe(transitions);
    expect(r.distinct_transitions).toBe(transitions);
    expect(r.seqs).toBe(r.all_events);
    expect(ops.rows[0].n).toBe(n);
    c.db.close();
  });
});
