/**
 * A process given a printer of its own (the CLI's --printer or
 * UPAY_POS_PRINTER) prints only the receipts it asks for: the counter's
 * waiting receipts stay for the counter's printer. Before, `upay-pos printer
 * test --printer <another>` beside a counter out of paper printed the
 * customer's 撤销凭证 on the other printer and marked it printed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualPrinter, type VirtualPrinter } from '../../main/sandbox';
import { runMain } from '../support/cli-main';
import { createHarness, until, type Harness } from '../support/harness';

let h: Harness | undefined;
let other: VirtualPrinter | undefined;
afterEach(async () => {
  await other?.close();
  await h?.close();
  h = other = undefined;
});

describe('a printer of its own', () => {
  it("prints its own test page, not the counter's waiting receipt, which prints once at the counter when the paper is back", async () => {
    h = await createHarness();
    other = await createVirtualPrinter();
    const counter = h.sandbox.printer;
    counter.setPaperOut(true);
    const o = h.paidOrder();
    const r = await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
    expect(r.state).toBe('revoked');
    const job = h.rt.printing.receiptForRevoke(r.id)!.job;
    expect(h.rt.printing.job(job.id)!.state).toBe('pending');

    // What the CLI does for `printer test --printer <other>`, and for a revoke or a drain with workers running.
    const cli = h.runtime({ printer: other.uri, printScope: 'own' });
    const id = cli.printing.testPrint('cli:it');
    expect((await cli.printing.waitForJob(id, 15_000))?.state).toBe('printed');
    await new Promise((res) => setTimeout(res, 300)); // the CLI's own worker had its chance at the counter's job
    expect(other.jobs()).toHaveLength(1);
    expect(cli.printing.job(job.id)!.state).toBe('pending');

    counter.setPaperOut(false);
    await until(() => h!.rt.printing.job(job.id)!.state === 'printed', 10_000);
    expect(counter.jobs()).toHaveLength(1);
    expect(other.jobs()).toHaveLength(1);
  });

  it('the CLI given --printer runs with its own scope', async () => {
    h = await createHarness();
    other = await createVirtualPrinter();
    h.sandbox.printer.setPaperOut(true);
    const o = h.paidOrder();
    await h.rt.revokes.request({ sn: o.sn }, 'cashier', 'test');
    const res = await runMain(['printer', 'test', '--data-dir', h.dataDir, '--api-domain', h.sandbox.gateway.url, '--printer', other.uri, '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(other.jobs()).toHaveLength(1);
    expect(h.rt.printing.jobs({}).filter((j) => j.kind === 'revoke' && j.state === 'pending')).toHaveLength(1);
  });
});
