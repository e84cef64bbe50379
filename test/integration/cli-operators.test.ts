/**
 * `upay-pos operators …` and `--operator` through main(argv, io) in-process:
 * the PIN comes from standard input (never argv), nothing secret is printed,
 * and CLI commands record who ran them (the OS user by default) with no PIN.
 */
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlerSet } from '../../main/ipc/handlers';
import { databaseOf } from '../../main/runtime';
import { listAudit } from '../../main/store/audit';
import { createHarness, type Harness } from '../support/harness';
import { newWindow } from '../support/operators';
import { runMain } from '../support/cli-main';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const cli = (args: string[], stdin = '') => runMain([...args, '--data-dir', h.dataDir, '--api-domain', h.sandbox.gateway.url, '--printer', 'none', '--json'], stdin);

describe('upay-pos operators', () => {
  it('add (PIN from stdin), list, disable, enable, reset-pin; the PIN signs in at the counter; nothing secret printed', async () => {
    const added = await cli(['operators', 'add', '--name', '李主管', '--role', 'supervisor'], '482913\n');
    expect(added.code, added.stderr).toBe(0);
    const id = (added.json.operator as { id: number }).id;
    expect(added.json).toMatchObject({ operator: { name: '李主管', role: 'supervisor', active: true } });

    const set = createHandlerSet(h.rt, { mode: 'sandbox', version: 't', vendor: null });
    expect(await set.handlers['session.signIn']({ operatorId: id, pin: '482913' }, newWindow())).toMatchObject({ ok: true });

    const listed = await cli(['operators', 'list']);
    expect(listed.json).toMatchObject({ operators: [{ id, name: '李主管', role: 'supervisor', active: true, lockedUntil: null }] });
    expect(listed.stdout + added.stdout + added.stderr).not.toMatch(/482913|scrypt/);

    expect((await cli(['operators', 'disable', '--id', String(id)])).json).toMatchObject({ operator: { active: false } });
    expect(await set.handlers['session.signIn']({ operatorId: id, pin: '482913' }, newWindow())).toMatchObject({ ok: false, error: { code: 'OPERATOR_UNKNOWN' } });
    expect((await cli(['operators', 'enable', '--name', '李主管'])).json).toMatchObject({ operator: { active: true } });

    const reset = await cli(['operators', 'reset-pin', '--id', String(id)], '7391\n');
    expect(reset.code, reset.stderr).toBe(0);
    expect(await set.handlers['session.signIn']({ operatorId: id, pin: '7391' }, newWindow())).toMatchObject({ ok: true });
    const actions = listAudit(databaseOf(h.rt), 50).filter((e) => e.action.startsWith('operator.'));
    expect(actions.map((e) => e.action)).toEqual(['operator.pin_reset', 'operator.enabled', 'operator.disabled', 'operator.added']);
    expect(actions.every((e) => e.actor === `cli:${os.userInfo().username}`)).toBe(true);
  });

  it('a PIN is never taken from the command line; bad input exits 2 and adds nothing', async () => {
    for (const [args, stdin] of [
      [['operators', 'add', '--name', 'x', '--role', 'cashier', '--pin', '1234'], '1234\n'],
      [['operators', 'add', '--name', 'x', '--role', 'cashier', '1234'], ''],
      [['operators', 'add', '--name', 'x', '--role', 'cashier'], ''],
      [['operators', 'add', '--name', 'x', '--role', 'cashier'], '12a4\n'],
      [['operators', 'add', '--name', 'x', '--role', 'admin'], '1234\n'],
      [['operators', 'disable'], ''],
      [['operators', 'reset-pin', '--id', 'x'], '1234\n'],
    ] as Array<[string[], string]>) {
      const r = await cli(args, stdin);
      expect(r.code, args.join(' ')).toBe(2);
      // (A PIN typed as a stray argument is named in the usage error: it is in argv, and `ps`, already.)
      if (!args.includes('1234')) expect(r.stdout + r.stderr).not.toContain('1234');
    }
    expect(h.rt.operators.count()).toBe(0);
  });

  it('the last active store IT operator cannot be disabled', async () => {
    await cli(['operators', 'add', '--name', 'it', '--role', 'store_it'], '1234\n');
    const r = await cli(['operators', 'disable', '--name', 'it']);
    expect(r).toMatchObject({ code: 1, json: { error: { code: 'LAST_STORE_IT' } } });
  });
});

describe('--operator: who runs a CLI command (trusted, no PIN)', () => {
  it('a revoke from the CLI records --operator as who voided, with no operator id and no approver, whatever the amount', async () => {
    const order = h.paidOrder({ totalCents: 900_000 });
    const r = await cli(['revoke', '--sn', order.sn, '--operator', '门店IT']);
    expect(r.code, r.stderr).toBe(0);
    expect(h.rt.revokes.forOrder(order.sn)).toMatchObject({ state: 'revoked', operator: '门店IT', operatorId: null, approverId: null });
    expect(listAudit(databaseOf(h.rt), 50).find((e) => e.action === 'revoke.requested')).toMatchObject({ actor: 'cli:门店IT', details: { operator: '门店IT' } });
  });

  it('without --operator the OS user is recorded; an empty or control-character --operator exits 2', async () => {
    const order = h.paidOrder();
    expect((await cli(['revoke', '--sn', order.sn])).code).toBe(0);
    expect(h.rt.revokes.forOrder(order.sn)?.operator).toBe(os.userInfo().username);
    for (const bad of ['', ' ', 'a\u202eb', 'x'.repeat(33)]) expect((await cli(['status', '--operator', bad])).code).toBe(2);
  });
});
