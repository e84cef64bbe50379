/**
 * Disk faults: the database on a full disk and on a read-only one. The full
 * disk is either a real 1 MiB tmpfs (root, where mounting is permitted) or
 * SQLite's own `PRAGMA max_page_count` cap; read-only is a tmpfs remounted
 * `ro`, or `PRAGMA query_only`. Either way a write must fail with a typed
 * error (STORE_UNWRITABLE through toPosError / the IPC envelope / the CLI
 * JSON) and every row committed before must still be there afterwards.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { toPosError } from '../../main/errors';
import type { Runtime } from '../../main/runtime';

export function tryMountTmpfs(dir: string, size = '1m'): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function remount(dir: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'ignore' });
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Records orders until the store refuses; returns how many were committed and the typed error. */
export function fillUntilRefused(rt: Runtime, prefix: string, max = 50_000): { committed: string[]; code: string | null; raw: string | null } {
  const committed: string[] = [];
  const filler = '填'.repeat(60);
  for (let i = 0; i < max; i++) {
    const sn = `${prefix}${String(i).padStart(8, '0')}`.slice(0, 16);
    try {
      rt.orders.record({ sn, clientSn: `F${prefix}-${i}`, totalCents: 100 + i, finishedAt: rt.clock.now(), subject: filler.slice(0, 60), operator: 'op' });
      committed.push(sn);
    } catch (err) {
      return { committed, code: toPosError(err).code, raw: (err as { code?: string }).code ?? (err as Error).message };
    }
  }
  return { committed, code: null, raw: null };
}

export function dbFiles(dir: string): string[] {
  return fs.readdirSync(dir).map((f) => path.join(dir, f));
}
