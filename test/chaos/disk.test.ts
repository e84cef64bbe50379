/**
 * Chaos: the database on a real full disk (1 MiB tmpfs) and a real read-only
 * one (the tmpfs remounted ro). Needs root and mount permission; skipped
 * (with a line saying so) where mounting is not permitted — the portable
 * versions run in test/integration/reliability-disk.test.ts.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../main/cli';
import { toPosError } from '../../main/errors';
import { createRuntime } from '../../main/runtime';
import { closedPort } from '../support/chaos-net';
import { tempDir } from '../support/chaos-env';
import { fillUntilRefused, remount, tryMountTmpfs, unmount } from '../support/chaos-disk';

const mnt = path.join(tempDir('upay-pos-tmpfs-'), 'mnt');
const mounted = tryMountTmpfs(mnt, '1m');
if (!mounted) console.log('chaos-disk: mount -t tmpfs not permitted here: skipped (see reliability-disk.test.ts)');
afterAll(() => {
  if (mounted) unmount(mnt);
});

class Sink extends Writable {
  text = '';
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += c.toString();
    cb();
  }
}

const dataDir = path.join(mnt, 'data');
let committed: string[] = [];

function countInFreshProcess(): number {
  // A separate process: no handle of this one (leaked or not) takes part.
  const code = `const D=require(${JSON.stringify(require.resolve('better-sqlite3'))});const d=new D(${JSON.stringify(path.join(dataDir, 'upay-pos.db'))},{readonly:true});const sns=${JSON.stringify(committed)};let n=0;for(const s of sns)if(d.prepare('SELECT 1 FROM orders WHERE sn=?').get(s))n++;console.log(n);`;
  return Number(execFileSync(process.execPath, ['-e', code]).toString().trim());
}

describe.skipIf(!mounted)('chaos: disk full and read-only (tmpfs)', () => {
  it('full disk: STORE_UNWRITABLE and every committed row intact', async () => {
    const api = `http://127.0.0.1:${await closedPort()}`;
    const rt = createRuntime({ dataDir, apiDomain: api, printer: 'none', startWorkers: false });
    const full = fillUntilRefused(rt, '55', 100_000);
    committed = full.committed;
    console.log(`chaos-disk: tmpfs 1 MiB full after ${full.committed.length} orders: ${full.raw} -> ${full.code}`);
    expect(full.committed.length).toBeGreaterThan(0);
    expect(full.code).toBe('STORE_UNWRITABLE');
    await rt.close();
    expect(countInFreshProcess()).toBe(committed.length);
  });

  it('read-only disk: STORE_UNWRITABLE at open (toPosError) and from the CLI; nothing lost', async () => {
    const api = `http://127.0.0.1:${await closedPort()}`;
    remount(mnt, 'ro');
    try {
      let openCode: string | null = null;
      try {
        const ro = createRuntime({ dataDir, apiDomain: api, printer: 'none', startWorkers: false });
        openCode = fillUntilRefused(ro, '66', 5).code;
        await ro.close();
      } catch (err) {
        openCode = toPosError(err).code;
        expect((err as Error).name).toBe('StoreError');
        console.log(`chaos-disk: createRuntime on a read-only dir threw ${(err as Error).name} ${(err as { code?: string }).code}`);
      }
      const stdout = new Sink();
      const exit = await main(['--data-dir', dataDir, '--api-domain', api, 'status', '--json'], { stdout, stderr: new Sink(), env: { UPAY_POS_QUIET: '1' } });
      console.log(`chaos-disk: read-only open -> ${openCode}; CLI status exit ${exit} ${stdout.text.trim().slice(0, 100)}`);
      expect(openCode).toBe('STORE_UNWRITABLE');
      expect(exit).toBe(1);
      expect((JSON.parse(stdout.text) as { error: { code: string } }).error.code).toBe('STORE_UNWRITABLE');
    } finally {
      remount(mnt, 'rw');
    }
    expect(countInFreshProcess()).toBe(committed.length);
  });

  // createRuntime closes the database when its start fails (the startup prune on a read-only disk), so no
  // read-only handle lingers and the same process (the app) re-opens the store once the disk is writable.
  it('after the disk is writable again, the same process re-opens the store', async () => {
    const api = `http://127.0.0.1:${await closedPort()}`;
    const again = createRuntime({ dataDir, apiDomain: api, printer: 'none', startWorkers: false });
    await again.close();
    console.log('chaos-disk: same-process re-open after ro->rw: reopened');
    expect(countInFreshProcess()).toBe(committed.length);
  });
});
