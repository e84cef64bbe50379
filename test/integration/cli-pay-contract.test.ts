/**
 * The acceptance audit of `upay-pos pay` / `pay query` (issue 24), run from
 * source: `main(argv, io)` in this process against the harness's sandbox
 * gateway over HTTP (the built bin is covered by pay-cli.test.ts). What the
 * audit found and fixed:
 * - a flag of `pay` given twice was read as its last value (`--amount 1
 *   --amount 2` charged 2 yuan): refused now, exit 2, nothing sent;
 * - a failure after the command's document was printed (closing the
 *   runtime) printed a second JSON document: stdout stays one document.
 * And the edges a strict reading tries: amount and barcode forms, flags
 * that go together, `pay query` with both or neither reference, an unknown
 * payment (exit 1), one JSON document on stdout every time.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../main/cli';
import type * as RuntimeModule from '../../main/runtime';
import { TextSink } from '../support/cli-main';
import { createHarness, tempDir, type Harness } from '../support/harness';
import { CUSTOMER_BARCODE as BARCODE } from '../support/pay';

/** When set, the next runtime made has a close() that fails after closing (as a disk error would). */
const closeFails = vi.hoisted(() => ({ next: false }));

vi.mock('../../main/runtime', async (importOriginal) => {
  const real = await importOriginal<typeof RuntimeModule>();
  return {
    ...real,
    createRuntime: (options: Parameters<typeof real.createRuntime>[0]) => {
      const rt = real.createRuntime(options);
      if (closeFails.next) {
        closeFails.next = false;
        const close = rt.close.bind(rt);
        rt.close = async () => {
          await close();
          throw new Error('disk I/O error while closing');
        };
      }
      return rt;
    },
  };
});

interface PayDoc {
  outcome: string;
  order: { sn: string; client_sn: string; total_amount: string; order_status: string | null } | null;
  payment: { id: number; clientSn: string; amountCents: number; state: string };
  qrCode: string | null;
  error: { code: string; message: string } | null;
  receipt: unknown;
}

let h: Harness;
let home: string;

beforeAll(async () => {
  h = await createHarness({ runtime: { startWorkers: false } });
  home = tempDir('upay-pos-pay-contract-home-');
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

beforeEach(() => {
  h.sandbox.gateway.clearLog();
});

/** Runs `upay-pos ARGS --json` on the harness's data dir and gateway; stdout must be exactly one JSON line. */
async function cli<T = PayDoc>(args: string[], opts: { json?: boolean } = {}): Promise<{ code: number; doc: T; stdout: string; stderr: string }> {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const json = opts.json ?? true;
  const code = await main(['--data-dir', h.dataDir, '--api-domain', h.sandbox.gateway.url, '--printer', 'none', ...args, ...(json ? ['--json'] : [])], {
    stdout,
    stderr,
    env: { UPAY_POS_QUIET: '1', HOME: home, XDG_CONFIG_HOME: home },
  });
  let doc = undefined as T;
  if (json) {
    const lines = stdout.text.split('\n').filter((l) => l.trim() !== '');
    expect(lines, `stdout of ${args.join(' ')}:\n${stdout.text}\nstderr: ${stderr.text}`).toHaveLength(1);
    doc = JSON.parse(lines[0]!) as T;
  }
  return { code, doc, stdout: stdout.text, stderr: stderr.text };
}

const paySent = () => h.sandbox.gateway.log().filter((e) => e.endpoint === 'pay' || e.endpoint === 'precreate');

describe('pay: invalid input → exit 2, one {"error"} document, nothing sent', () => {
  const bad: Array<[string, string[]]> = [
    ['--amount given twice', ['--amount', '1', '--amount', '2', '--barcode', BARCODE]],
    ['--barcode given twice', ['--amount', '1', '--barcode', BARCODE, '--barcode', '134567890123456780']],
    ['--payway given twice', ['--amount', '1', '--qr', '--payway', 'alipay', '--payway', 'wechat']],
    ['--operator given twice', ['--amount', '1', '--barcode', BARCODE, '--operator', 'a', '--operator', 'b']],
    ['--amount .5', ['--amount', '.5', '--barcode', BARCODE]],
    ['--amount 5.', ['--amount', '5.', '--barcode', BARCODE]],
    ['--amount " 1"', ['--amount', ' 1', '--barcode', BARCODE]],
    ['--amount 1e2', ['--amount', '1e2', '--barcode', BARCODE]],
    ['--amount +1', ['--amount', '+1', '--barcode', BARCODE]],
    ['--amount 0.00', ['--amount', '0.00', '--barcode', BARCODE]],
    ['--amount=-1', ['--amount=-1', '--barcode', BARCODE]],
    ['--amount -1', ['--amount', '-1', '--barcode', BARCODE]],
    ['--amount 100000000.00', ['--amount', '100000000.00', '--barcode', BARCODE]],
    ['--barcode of 9 digits', ['--amount', '1', '--barcode', '123456789']],
    ['--barcode of 33 digits', ['--amount', '1', '--barcode', '1'.repeat(33)]],
    ['--barcode with full-width digits', ['--amount', '1', '--barcode', '１２３４５６７８９０１２']],
    ['--qr without --payway', ['--amount', '1', '--qr']],
    ['--payway without --qr or --barcode', ['--amount', '1', '--payway', 'alipay']],
    ['--payway 0', ['--amount', '1', '--qr', '--payway', '0']],
    ['--payway 1000', ['--amount', '1', '--qr', '--payway', '1000']],
    ['--wait 3601', ['--amount', '1', '--barcode', BARCODE, '--wait', '3601']],
    ['--wait 1.5', ['--amount', '1', '--barcode', BARCODE, '--wait', '1.5']],
    ['an extra word', ['--amount', '1', '--barcode', BARCODE, 'now']],
  ];
  for (const [name, args] of bad) {
    it(name, async () => {
      const r = await cli<{ error: { code: string } }>(['pay', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(Object.keys(r.doc)).toEqual(['error']);
      expect(['INVALID_INPUT', 'USAGE']).toContain(r.doc.error.code);
      expect(r.stderr).toMatch(/^upay-pos: (INVALID_INPUT|USAGE): /);
      expect(h.sandbox.gateway.log()).toHaveLength(0);
    });
  }
});

describe('pay: the forms that are taken', () => {
  const good: Array<[string, number]> = [
    ['1.2', 120],
    ['01.00', 100],
    ['000000001.00', 100],
    ['0.01', 1],
    ['99999999.99', 9_999_999_999],
  ];
  for (const [amount, cents] of good) {
    it(`--amount ${amount} → ${cents} cents sent, paid (exit 0)`, async () => {
      const r = await cli(['pay', '--amount', amount, '--barcode', BARCODE]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.doc).toMatchObject({ outcome: 'paid', error: null, qrCode: null, payment: { amountCents: cents, state: 'paid' } });
      const sent = paySent();
      expect(sent).toHaveLength(1);
      expect(sent[0]!.body).toMatchObject({ client_sn: r.doc.payment.clientSn, total_amount: String(cents), dynamic_id: BARCODE });
      expect(r.doc.order).toMatchObject({ client_sn: r.doc.payment.clientSn, total_amount: String(cents), order_status: 'PAID' });
    });
  }

  it('barcodes of 10 and 32 digits are taken', async () => {
    for (const code of ['1345678901', '13456789012345678901234567890123']) {
      h.sandbox.gateway.clearLog();
      const r = await cli(['pay', '--amount', '1.10', '--barcode', code]);
      expect(r.code, r.stderr).toBe(0);
      expect(paySent()[0]!.body).toMatchObject({ dynamic_id: code, client_sn: r.doc.payment.clientSn });
    }
  });

  it('--qr --payway 3 (a payway number) → awaiting_customer (exit 4) with the gateway qr_code, sent as payway 3', async () => {
    const r = await cli(['pay', '--amount', '2.50', '--qr', '--payway', '3']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.doc.outcome).toBe('awaiting_customer');
    const sent = paySent();
    expect(sent.map((e) => e.endpoint)).toEqual(['precreate']);
    expect(sent[0]!.body).toMatchObject({ client_sn: r.doc.payment.clientSn, payway: '3', total_amount: '250' });
    const order = h.sandbox.gateway.getOrder(r.doc.payment.clientSn)!;
    expect(r.doc.qrCode).toBeTruthy();
    expect(r.doc.qrCode).toContain(order.sn);
    expect(r.doc.order).toMatchObject({ sn: order.sn, client_sn: r.doc.payment.clientSn });
  });
});

describe('pay query', () => {
  it('both or neither of --client-sn/--id, or a bad --id: exit 2 and nothing sent', async () => {
    for (const args of [[], ['--id', '1', '--client-sn', 'X'], ['--id', '0'], ['--id', 'one'], ['--id', '1', '--id', '2']]) {
      const r = await cli<{ error: { code: string } }>(['pay', 'query', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(['INVALID_INPUT', 'USAGE']).toContain(r.doc.error.code);
    }
    expect(h.sandbox.gateway.log()).toHaveLength(0);
  });

  it('a payment this data dir does not have: PAYMENT_NOT_FOUND, exit 1, one document', async () => {
    for (const args of [['--id', '999999'], ['--client-sn', 'PNOSUCHPAYMENT']]) {
      const r = await cli<{ error: { code: string } }>(['pay', 'query', ...args]);
      expect(r.code).toBe(1);
      expect(r.doc.error.code).toBe('PAYMENT_NOT_FOUND');
    }
    expect(h.sandbox.gateway.log()).toHaveLength(0);
  });

  it('a lost answer (--wait 0, pending, exit 4) is resolved by pay query --client-sn → paid (exit 0), one pay request', async () => {
    h.sandbox.gateway.inject('pay', { kind: 'drop_after' });
    const first = await cli(['pay', '--amount', '4.56', '--barcode', BARCODE, '--wait', '0', '--timeout-ms', '1000']);
    expect(first.code, first.stderr).toBe(4);
    expect(first.doc.outcome).toBe('pending');
    const q = await cli(['pay', 'query', '--client-sn', first.doc.payment.clientSn]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.doc).toMatchObject({ outcome: 'paid', payment: { id: first.doc.payment.id, clientSn: first.doc.payment.clientSn } });
    expect(h.sandbox.gateway.counters(first.doc.payment.clientSn)).toMatchObject({ pay: 1, cancel: 0, moneyTaken: true });
  });
});

describe('--json: exactly one document on stdout', () => {
  it('a failure after the document was printed (closing the runtime) goes to stderr only; the exit code says it failed', async () => {
    closeFails.next = true;
    const r = await cli(['pay', '--amount', '7.89', '--barcode', BARCODE]);
    expect(closeFails.next).toBe(false);
    expect(r.doc).toMatchObject({ outcome: 'paid', payment: { amountCents: 789 } });
    expect(r.stderr).toMatch(/^upay-pos: INTERNAL: /m);
    expect(r.code).toBe(1);
  });

  it('human output is text, not JSON, and names the outcome', async () => {
    const r = await cli(['pay', '--amount', '1.23', '--barcode', BARCODE], { json: false });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^outcome: paid\n/);
  });
});
