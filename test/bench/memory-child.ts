/**
 * Memory figure of `npm run bench`, in its own process (run with --expose-gc):
 * the runtime revokes 1,000 then the rest of `total` paid orders against the
 * sandbox in the parent process; RSS after a full GC at each point.
 * argv: dataDir gatewayUrl clockOffsetMs total. Prints one JSON line.
 */
import v8 from 'node:v8';
import { createRuntime, databaseOf } from '../../main/runtime';
// Only the clock: the child loads the runtime alone (the sandbox runs in the parent).
import { offsetClock } from '../support/clock';

const gc = (globalThis as { gc?: () => void }).gc;

function settleGc(): void {
  for (let i = 0; i < 3; i++) gc?.();
}

/** V8's committed size per heap space, MB (where RSS above the baseline sits). */
function spaces(): Record<string, number> {
  return Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, Math.round((s.physical_space_size / 1_048_576) * 10) / 10]));
}

async function run(): Promise<void> {
  const [dataDir, url, offset, totalText] = process.argv.slice(2);
  if (!dataDir || !url || !gc) throw new Error('usage: node --expose-gc memory-child.js dataDir url offset total');
  const total = Number(totalText);
  settleGc();
  const baseline = process.memoryUsage().rss;
  const spaces0 = spaces();
  const started = Date.now();
  const rt = createRuntime({ dataDir, apiDomain: url, clock: offsetClock(Number(offset)), printer: 'none' });
  const sns = (databaseOf(rt).prepare("SELECT sn FROM orders WHERE status = 'PAID' ORDER BY sn").all() as Array<{ sn: string }>).map((r) => r.sn);
  let revoked = 0;
  let rss1k = 0;
  let heap1k = 0;
  // Four lanes at once (a busy counter plus its queue); the measurement points are after 1,000 and after all.
  const revokeRange = async (from: number, to: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < to) {
          const r = await rt.revokes.request({ sn: sns[next++]! }, 'bench', 'bench');
          if (r.state === 'revoked') revoked++;
        }
      }),
    );
  };
  const n = Math.min(total, sns.length);
  await revokeRange(0, Math.min(1_000, n));
  await new Promise((res) => setTimeout(res, 50));
  settleGc();
  rss1k = process.memoryUsage().rss;
  heap1k = process.memoryUsage().heapUsed;
  await revokeRange(Math.min(1_000, n), n);
  await new Promise((res) => setTimeout(res, 50));
  settleGc();
  const mem = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({
      baseline,
      rss1k,
      rssAll: mem.rss,
      heap1k,
      heapAll: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      spacesBefore: spaces0,
      spacesAfter: spaces(),
      revoked,
      ms: Date.now() - started,
    }) + '\n',
  );
  await rt.close();
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`memory-child: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
