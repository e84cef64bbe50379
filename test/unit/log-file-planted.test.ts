/**
 * The shell's log never writes where another local user points it. The
 * reviewer's setup: a data dir planted 0777 (UPAY_POS_DATA_DIR in a shared
 * place) whose logs/main.log is a symlink to a victim file. The shell checks
 * the data dir (prepareDataDir, the check openDb makes) before it creates or
 * writes anything in it (openShellLog, which main.ts calls first); and the
 * log file itself is opened with O_NOFOLLOW and must be a regular file of
 * one link, so a link, FIFO or hard link planted later is refused too.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openShellLog, RotatingLog } from '../../main/electron/log-file';
import { prepareDataDir } from '../../main/store/data-dir';

const posix = process.platform !== 'win32';
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'upay-planted-'));
  roots.push(root);
  return root;
}

/** Every entry under `dir` with its type, size and mode (what "nothing was written" is checked against). */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file'} ${st.size} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function captured(): { stream: PassThrough; text: () => string } {
  let text = '';
  const stream = new PassThrough();
  stream.on('data', (b) => (text += String(b)));
  return { stream, text: () => text };
}

/** The reviewer's planted data dir: 0777, logs/main.log a symlink to a victim file. */
function planted(): { root: string; dataDir: string; victim: string } {
  const root = tempRoot();
  const dataDir = path.join(root, 'pos');
  fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  fs.chmodSync(dataDir, 0o777);
  const victim = path.join(root, 'victim-file');
  fs.writeFileSync(victim, 'original\n');
  fs.symlinkSync(victim, path.join(dataDir, 'logs', 'main.log'));
  return { root, dataDir, victim };
}

describe.skipIf(!posix)('the shell checks the data dir before it writes anything in it (openShellLog)', () => {
  it('a planted 0777 data dir with logs/main.log → victim: refused with DATA_DIR_INSECURE, nothing written anywhere', () => {
    const { dataDir, victim } = planted();
    const before = snapshot(dataDir);
    const mirror = captured();
    const shell = openShellLog(dataDir, { mirror: mirror.stream });
    roots.push(shell.userData);
    // What main.ts then does: the start line, the refusal, the error.
    shell.log.info(`upay-pos 1.0 starting (data dir ${dataDir})`);
    shell.log.error(`startup failed: ${shell.refused?.message}`);

    expect((shell.refused as { code?: string } | null)?.code).toBe('DATA_DIR_INSECURE');
    expect(fs.readFileSync(victim, 'utf8')).toBe('original\n');
    expect(snapshot(dataDir)).toEqual(before);
    expect(fs.lstatSync(path.join(dataDir, 'logs', 'main.log')).isSymbolicLink()).toBe(true);
    // The lines went to the mirror only, the refusal (with its fix) among them.
    expect(mirror.text()).toMatch(/ERROR data dir refused: .*chmod 700/);
    expect(mirror.text()).toContain('starting');
    // Electron's profile and single-instance lock go to a new private dir, not into the refused one.
    expect(shell.userData).not.toBe(dataDir);
    expect(path.relative(dataDir, shell.userData).startsWith('..')).toBe(true);
    expect(fs.statSync(shell.userData).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(shell.userData)).toEqual([]);
  });

  it('the check runs first: it sees the data dir as it was; refused, not even logs/ is made', () => {
    const root = tempRoot();
    const dataDir = path.join(root, 'pos');
    fs.mkdirSync(dataDir, { mode: 0o777 });
    fs.chmodSync(dataDir, 0o777);
    const seen: string[][] = [];
    const shell = openShellLog(dataDir, { mirror: new PassThrough() }, (dir) => {
      seen.push(fs.readdirSync(dir));
      prepareDataDir(dir);
    });
    roots.push(shell.userData);
    shell.log.error('after the refusal');
    expect(seen).toEqual([[]]);
    expect((shell.refused as { code?: string } | null)?.code).toBe('DATA_DIR_INSECURE');
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('a missing data dir is created 0700 by the check, then logs/main.log 0600 in it', () => {
    const root = tempRoot();
    const dataDir = path.join(root, 'new', 'pos');
    const order: string[] = [];
    const shell = openShellLog(dataDir, { mirror: null }, (dir) => {
      order.push(`check: exists=${fs.existsSync(dir)}`);
      prepareDataDir(dir);
    });
    shell.log.info('hello');
    expect(order).toEqual(['check: exists=false']);
    expect(shell.refused).toBeNull();
    expect(shell.userData).toBe(dataDir);
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    const file = path.join(dataDir, 'logs', 'main.log');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/INFO hello\n$/);
  });

  it('main.ts opens its log through openShellLog before it gives Electron the data dir, and never a RotatingLog directly', () => {
    const main = fs.readFileSync(path.join(__dirname, '../../main/electron/main.ts'), 'utf8');
    const open = main.indexOf('openShellLog(dataDir');
    expect(open).toBeGreaterThan(0);
    expect(main.indexOf("app.setPath('userData', shell.userData)")).toBeGreaterThan(open);
    expect(main).not.toMatch(/app\.setPath\('userData', dataDir\)/);
    expect(main).not.toContain('new RotatingLog');
    expect(main).toMatch(/if \(shell\.refused\) throw shell\.refused;/);
  });
});

describe.skipIf(!posix)('RotatingLog opens its file without following links', () => {
  function secureLogDir(): { root: string; dir: string; victim: string } {
    const root = tempRoot();
    const dir = path.join(root, 'logs');
    fs.mkdirSync(dir, { mode: 0o700 });
    const victim = path.join(root, 'victim-file');
    fs.writeFileSync(victim, 'original\n');
    return { root, dir, victim };
  }

  it('main.log a symlink (planted before the dir was made private): refused (ELOOP), the victim untouched, the mirror still gets the line', () => {
    const { dir, victim } = secureLogDir();
    fs.symlinkSync(victim, path.join(dir, 'main.log'));
    const mirror = captured();
    const log = new RotatingLog({ dir, mirror: mirror.stream });
    log.info('one');
    log.error('two');
    expect(fs.readFileSync(victim, 'utf8')).toBe('original\n');
    expect(log.problem).toMatch(/ELOOP|symbolic link/);
    expect(mirror.text()).toMatch(/INFO one\n.*ERROR two\n$/);
  });

  it('main.log a dangling symlink: nothing is created at its target', () => {
    const { root, dir } = secureLogDir();
    const target = path.join(root, 'would-be-created');
    fs.symlinkSync(target, path.join(dir, 'main.log'));
    new RotatingLog({ dir }).info('one');
    expect(fs.existsSync(target)).toBe(false);
  });

  it('main.log a hard link to another file: refused', () => {
    const { dir, victim } = secureLogDir();
    fs.linkSync(victim, path.join(dir, 'main.log'));
    const log = new RotatingLog({ dir });
    log.info('one');
    expect(fs.readFileSync(victim, 'utf8')).toBe('original\n');
    expect(log.problem).toMatch(/2 links: refused/);
  });

  it('main.log a FIFO: refused at once, without waiting for a reader', () => {
    const { dir } = secureLogDir();
    const fifo = path.join(dir, 'main.log');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here
    }
    const log = new RotatingLog({ dir });
    const t = performance.now();
    log.info('one');
    expect(performance.now() - t).toBeLessThan(1_000);
    expect(log.problem).toMatch(/ENXIO|not a regular file/);
  });

  it('the logs dir a symlink to another dir: nothing is written there', () => {
    const { root } = secureLogDir();
    const elsewhere = path.join(root, 'elsewhere');
    fs.mkdirSync(elsewhere);
    const dir = path.join(root, 'linked-logs');
    fs.symlinkSync(elsewhere, dir);
    const log = new RotatingLog({ dir });
    log.info('one');
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect(log.problem).toMatch(/not a directory/);
  });

  it('a good file still takes the lines (0600), and the log writes again once the planted link is gone', () => {
    const { dir, victim } = secureLogDir();
    const file = path.join(dir, 'main.log');
    fs.symlinkSync(victim, file);
    const log = new RotatingLog({ dir });
    log.info('refused');
    expect(log.problem).not.toBeNull();
    fs.rmSync(file);
    log.info('written');
    expect(log.problem).toBeNull();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^\S+ INFO written\n$/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('original\n');
  });
});
