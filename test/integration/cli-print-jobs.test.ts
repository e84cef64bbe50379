/** Store IT sees failed print jobs with their error and retries them from the CLI (in-process `main`). */
import { Writable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { main } from '../../main/cli';
import { listJobs } from '../../main/printer';
import { createHarness, until, type Harness } from '../support/harness';
import { databaseOf } from '../../main/runtime';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function cli(h: Harness, args: string[]): Promise<{ code: number; doc: Record<string, unknown> }> {
  const stdout = new Sink();
  const code = await main(['--data-dir', h.dataDir, '--api-domain', h.sandbox.gateway.url, '--printer', h.sandbox.printer.uri, '--json', ...args], {
    stdout,
    stderr: new Sink(),
    env: { UPAY_POS_QUIET: '1' },
  });
  return { code, doc: JSON.parse(stdout.text) as Record<string, unknown> };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('receipt jobs lists a failed job with its error; receipt retry prints it once', async () => {
  h = await createHarness();
  await h.rt.printing.stop();
  const o = h.paidOrder();
  const r = await h.rt.revokes.request({ sn: o.sn }, null, 'test');
  expect(r.state).toBe('revoked');
  const [job] = listJobs(databaseOf(h.rt), { orderSn: o.sn });
  // As the worker leaves a job after its last failed attempt.
  databaseOf(h.rt).prepare("UPDATE print_jobs SET state = 'failed', attempts = 20, last_error = 'printer write timed out' WHERE id = ?").run(job!.id);

  const listed = await cli(h, ['receipt', 'jobs', '--state', 'failed']);
  expect(listed.code).toBe(0);
  expect(listed.doc.jobs).toEqual([expect.objectContaining({ id: job!.id, state: 'failed', lastError: 'printer write timed out' })]);

  const retried = await cli(h, ['receipt', 'retry', '--job', String(job!.id)]);
  expect(retried.code).toBe(0);
  expect(retried.doc.job).toMatchObject({ id: job!.id, state: 'printed' });
  await until(() => h!.sandbox.printer.jobs().length === 1);
  expect(h.sandbox.printer.jobs()[0]!.decoded.qr).toContain(o.sn);

  // A printed job is not retried (a reprint makes a COPY), and bad input is refused.
  expect((await cli(h, ['receipt', 'retry', '--job', String(job!.id)])).doc).toMatchObject({ error: { code: 'PRINT_JOB_PRINTED' } });
  expect((await cli(h, ['receipt', 'retry', '--job', 'x'])).code).toBe(2);
  expect((await cli(h, ['receipt', 'jobs', '--state', 'lost'])).code).toBe(2);
  expect(h.sandbox.printer.jobs()).toHaveLength(1);
});
