/**
 * The quick look at outgoing requests (main/upay/request-check.ts) against
 * the schemas it stands before (requestSchemas, main/upay/schemas.ts): it
 * never passes a request the schema refuses or would change, on generated
 * requests (every field absent, empty, at its limit, one past it, multibyte,
 * of the wrong type, an unknown key, an `undefined`) and hostile shapes; and
 * it does pass the requests the runtime's own kinds build, so the money path
 * really skips the parse.
 */
import { describe, expect, it } from 'vitest';
import { plainRequestOk } from '../../main/upay/request-check';
import { requestSchemas, type Endpoint } from '../../main/upay/schemas';
import { mulberry32 } from '../../main/util/prng';

const ENDPOINTS = Object.keys(requestSchemas) as Endpoint[];

/** Values for any field: valid-looking, at and past limits, multibyte, wrong types. */
function generator(seed: number) {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(rnd() * 10))).join('');
  const values = (): unknown =>
    pick<() => unknown>([
      () => digits(1 + Math.floor(rnd() * 18)),
      () => '0' + digits(3),
      () => 'x'.repeat(Math.floor(rnd() * 70)),
      () => '收'.repeat(Math.floor(rnd() * 40)),
      () => 'a1B2'.repeat(Math.floor(rnd() * 10)),
      () => '',
      () => ' ',
      () => digits(10),
      () => digits(11),
      () => '-12.5',
      () => 12,
      () => null,
      () => undefined,
      () => ['1'],
      () => ({ a: '1' }),
    ])();
  const FIELDS = [
    'terminal_sn', 'sn', 'client_sn', 'refund_request_no', 'refund_amount', 'operator', 'client_tsn', 'total_amount', 'dynamic_id',
    'subject', 'payway', 'sub_payway', 'description', 'extended', 'goods_details', 'longitude', 'latitude', 'device_id', 'app_id', 'code', 'other',
  ];
  return (): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    const n = Math.floor(rnd() * 9);
    for (let i = 0; i < n; i++) o[pick(FIELDS)] = values();
    return o;
  };
}

/** A request the runtime builds for each endpoint, then mutated one field at a time. */
const BUILT: Partial<Record<Endpoint, Record<string, unknown>>> = {
  revoke: { sn: '7894259244096169', terminal_sn: '100000330000000001' },
  cancel: { client_sn: 'P2026120700000000000000000000001', terminal_sn: '100000330000000001' },
  query: { sn: '7894259244096169', terminal_sn: '100000330000000001', refund_request_no: '1' },
  refund: { sn: '7894259244096169', terminal_sn: '100000330000000001', refund_request_no: '20261207000001', refund_amount: '1234', operator: '小王' },
  pay: { terminal_sn: '100000330000000001', client_sn: 'P2026120700000001', total_amount: '500', dynamic_id: '134567890123456789', subject: '收款', operator: '收银员小王' },
  precreate: { terminal_sn: '100000330000000001', client_sn: 'P2026120700000002', total_amount: '500', payway: '3', subject: '收款', operator: '收银员小王' },
};

function agrees(endpoint: Endpoint, req: unknown): void {
  if (!plainRequestOk(endpoint, req)) return;
  const r = requestSchemas[endpoint].safeParse(req);
  expect(r.success, `${endpoint} ${JSON.stringify(req)}`).toBe(true);
  // Unchanged: what is signed and sent is the request as given.
  expect(r.data, `${endpoint} ${JSON.stringify(req)}`).toEqual(req);
}

describe('the quick look at a request never passes what the schema refuses', () => {
  it('the runtime-built requests pass it (the money path skips the parse)', () => {
    for (const [endpoint, req] of Object.entries(BUILT)) {
      expect(plainRequestOk(endpoint as Endpoint, req), endpoint).toBe(true);
      agrees(endpoint as Endpoint, req);
    }
    // Activation and check-in are always the schema's.
    expect(plainRequestOk('checkin', { terminal_sn: '1', device_id: 'd' })).toBe(false);
  });

  it('20,000 generated requests and every built one mutated field by field: quick "yes" implies the schema accepts it unchanged', () => {
    const gen = generator(20261207);
    let passed = 0;
    for (let i = 0; i < 20_000; i++) {
      const endpoint = ENDPOINTS[i % ENDPOINTS.length]!;
      const base = BUILT[endpoint];
      const req = base && i % 2 === 0 ? { ...base, ...gen() } : gen();
      if (i % 7 === 0 && base) delete (req as Record<string, unknown>)[Object.keys(base)[i % Object.keys(base).length]!];
      if (plainRequestOk(endpoint, req)) passed++;
      agrees(endpoint, req);
    }
    // The generator does reach the quick path, so the agreement above is not vacuous.
    expect(passed).toBeGreaterThan(500);
  });

  it('limits at and one past: the same verdict as the schema where the quick look answers', () => {
    const edges: Array<[Endpoint, Record<string, unknown>]> = [
      ['refund', { ...BUILT.refund, operator: 'x'.repeat(64) }],
      ['refund', { ...BUILT.refund, operator: 'x'.repeat(65) }],
      ['refund', { ...BUILT.refund, refund_request_no: '1'.repeat(21) }],
      ['refund', { ...BUILT.refund, refund_amount: '0' }],
      ['refund', { ...BUILT.refund, refund_amount: '12345678901' }],
      ['pay', { ...BUILT.pay, operator: '收'.repeat(10) }],
      ['pay', { ...BUILT.pay, operator: '收'.repeat(11) }],
      ['pay', { ...BUILT.pay, subject: '收'.repeat(21) }],
      ['pay', { ...BUILT.pay, subject: '收'.repeat(22) }],
      ['pay', { ...BUILT.pay, subject: '收'.repeat(21) + 'a' }],
      ['pay', { ...BUILT.pay, subject: '收'.repeat(21) + 'ab' }],
      ['pay', { ...BUILT.pay, operator: '收'.repeat(10) + 'ab' }],
      ['pay', { ...BUILT.pay, operator: '收'.repeat(10) + 'abc' }],
      ['precreate', { ...BUILT.precreate, subject: '收'.repeat(21) + 'ab' }],
      ['precreate', { ...BUILT.precreate, operator: '收'.repeat(10) + 'abc' }],
      ['pay', { ...BUILT.pay, dynamic_id: '1'.repeat(33) }],
      ['pay', { ...BUILT.pay, longitude: '121.5' }],
      ['revoke', { terminal_sn: '1'.repeat(33), sn: '1' }],
      ['revoke', { terminal_sn: '1' }],
      ['revoke', { terminal_sn: '1', sn: undefined, client_sn: 'c' }],
      ['query', { terminal_sn: '1', client_sn: 'c'.repeat(33) }],
      ['precreate', { ...BUILT.precreate, payway: '1234' }],
    ];
    for (const [endpoint, req] of edges) {
      const quick = plainRequestOk(endpoint, req);
      const schema = requestSchemas[endpoint].safeParse(req).success;
      if (quick) expect(schema, `${endpoint} ${JSON.stringify(req)}`).toBe(true);
      if (!schema) expect(quick).toBe(false);
    }
    // Hostile shapes are left to the schema.
    for (const req of [null, 'x', [], Object.create(null), Object.assign(Object.create({ sn: '1' }), { terminal_sn: '1' })]) {
      for (const endpoint of ENDPOINTS) expect(plainRequestOk(endpoint, req)).toBe(false);
    }
  });
});
