/**
 * `activate --force` while money operations are open (review 3, defect 4):
 * the old terminal's open revokes, refunds and payments would be queried or
 * canceled under the new terminal, so it is refused (OPERATIONS_OPEN, zh-CN
 * and en, how many are open, `upay-pos queue drain`), with nothing sent and
 * nothing stored; `allowOpenOperations` (the CLI's --allow-open-operations)
 * is store IT's escape hatch. Real SQLite, real HTTP to the strict sandbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { databaseOf, type Runtime } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import { TerminalRepo } from '../../main/store/terminal';
import { runMain } from '../support/cli-main';
import { createHarness, rejection, until, type Harness } from '../support/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function reactivate(harness: Harness, rt: Runtime, extra: { allowOpenOperations?: boolean } = {}) {
  const v = harness.sandbox.gateway.vendor;
  const code = harness.sandbox.gateway.activationCodes()[0]!;
  return rt.terminal.activate({ appId: v.appId, code, deviceId: 'test-counter', vendorSn: v.vendorSn, vendorKey: v.vendorKey, force: true, ...extra }, 'it');
}

/** A revoke left queued (the gateway under maintenance), with no worker to send it again. */
async function openRevoke(harness: Harness) {
  const o = harness.paidOrder();
  harness.sandbox.gateway.inject('revoke', { kind: 'envelope', resultCode: '500', errorCode: 'MAINTENANCE_INPROGRESS' });
  const r = await harness.rt.revokes.request({ sn: o.sn }, null, 'test');
  expect(r.state).toBe('queued');
  return r;
}

describe('activate --force with open money operations', () => {
  it('is refused with the count and `queue drain`: no gateway call, the code unused, the terminal, key and audit unchanged', async () => {
    h = await createHarness({ runtime: { startWorkers: false } });
    await openRevoke(h);
    const db = databaseOf(h.rt);
    const before = new TerminalRepo(db).get();
    const audit = listAudit(db);
    const codes = h.sandbox.gateway.activationCodes();
    h.sandbox.gateway.clearLog();

    const err = await rejection(reactivate(h, h.rt));
    expect(err.code).toBe('OPERATIONS_OPEN');
    expect(err.messageZh).toContain(`终端 ${h.terminalSn} 还有 1 笔未完成的资金操作（撤销 1 笔）`);
    expect(err.messageZh).toContain('upay-pos queue drain');
    expect(err.messageEn).toContain(`Terminal ${h.terminalSn} still has 1 open money operation(s) (1 revoke(s))`);
    expect(err.messageEn).toContain('upay-pos queue drain');
    expect(err.messageEn).toContain('--allow-open-operations');
    expect(err.details).toEqual({ terminalSn: h.terminalSn, open: 1, byKind: { revoke: 1 } });

    expect(h.sandbox.gateway.log()).toEqual([]);
    expect(h.sandbox.gateway.activationCodes()).toEqual(codes);
    expect(new TerminalRepo(db).get()).toEqual(before);
    expect(listAudit(db)).toEqual(audit);
    expect(h.sandbox.gateway.terminals()).toHaveLength(1);

    // Another process on the data dir is refused the same way.
    const other = h.runtime({ startWorkers: false });
    expect((await rejection(reactivate(h, other))).code).toBe('OPERATIONS_OPEN');
    expect(h.sandbox.gateway.log()).toEqual([]);
  });

  it('is allowed once the open operations are settled (what `queue drain` does)', async () => {
    h = await createHarness({ runtime: { startWorkers: false } });
    const r = await openRevoke(h);
    expect((await rejection(reactivate(h, h.rt))).code).toBe('OPERATIONS_OPEN');

    // A runtime with its workers sends the queued revoke again (the gateway is back).
    const worker = h.runtime({ startWorkers: true });
    await until(() => worker.revokes.get(r.id)!.state === 'revoked');
    const info = await reactivate(h, h.rt);
    expect(info.terminalSn).not.toBe(h.terminalSn);
  });

  it('is allowed with allowOpenOperations (--allow-open-operations), and the audit tells how many were open', async () => {
    h = await createHarness({ runtime: { startWorkers: false } });
    await openRevoke(h);
    const info = await reactivate(h, h.rt, { allowOpenOperations: true });
    expect(info.terminalSn).not.toBe(h.terminalSn);
    expect(listAudit(databaseOf(h.rt))[0]).toMatchObject({
      action: 'terminal.activated',
      subject: info.terminalSn,
      details: { forced: true, previousTerminalSn: h.terminalSn, openOperations: 1 },
    });
  });

  it('without --force the answer is still ALREADY_ACTIVATED (open operations or not)', async () => {
    h = await createHarness({ runtime: { startWorkers: false } });
    await openRevoke(h);
    const v = h.sandbox.gateway.vendor;
    const err = await rejection(
      h.rt.terminal.activate({ appId: v.appId, code: h.sandbox.gateway.activationCodes()[0]!, deviceId: 'x', vendorSn: v.vendorSn, vendorKey: v.vendorKey, allowOpenOperations: true }, 'it'),
    );
    expect(err.code).toBe('ALREADY_ACTIVATED');
  });

  it('the CLI: exit 1 OPERATIONS_OPEN for --force; --allow-open-operations only with --force (exit 2); both: activated', async () => {
    h = await createHarness({ runtime: { startWorkers: false } });
    await openRevoke(h);
    const v = h.sandbox.gateway.vendor;
    const env = { UPAY_VENDOR_KEY: v.vendorKey };
    const base = ['activate', '--app-id', v.appId, '--device-id', 'counter-1', '--vendor-sn', v.vendorSn, '--data-dir', h.dataDir, '--api-domain', h.sandbox.gateway.url, '--printer', 'none', '--json'];
    const code = () => ['--code', h!.sandbox.gateway.activationCodes()[0]!];
    h.sandbox.gateway.clearLog();

    const refused = await runMain([...base, ...code(), '--force'], '', env);
    expect(refused.code).toBe(1);
    expect(refused.json).toMatchObject({ error: { code: 'OPERATIONS_OPEN', details: { open: 1 } } });
    expect(JSON.stringify(refused.json)).toContain('upay-pos queue drain');

    const alone = await runMain([...base, ...code(), '--allow-open-operations'], '', env);
    expect(alone.code).toBe(2);
    expect(alone.stderr + JSON.stringify(alone.json)).toContain('--allow-open-operations');
    expect(h.sandbox.gateway.log()).toEqual([]);

    const done = await runMain([...base, ...code(), '--force', '--allow-open-operations'], '', env);
    expect(done.code).toBe(0);
    expect(done.json).toMatchObject({ terminal: { terminalSn: expect.not.stringMatching(h.terminalSn) } });
    expect(h.sandbox.gateway.log().map((e) => e.endpoint)).toEqual(['activate']);
  });
});
