/**
 * The data dir holds the terminal's database and vault key: only the POS's
 * OS user may read or change it. A missing dir is created 0700; an existing
 * one must belong to us and be writable by us alone (another local user who
 * planted it, or who may write into it, could swap the database or read the
 * key); its files are made 0600 whatever the umask. POSIX only: on Windows
 * the profile directory's ACL decides.
 */
import fs from 'node:fs';
import os from 'node:os';
import { StoreError } from './errors';

const posix = process.platform !== 'win32';

/** Shell-quoted for the fix we print. */
const quoted = (p: string): string => `'${p.replace(/'/g, `'\\''`)}'`;

function refuse(dataDir: string, problemEn: string, problemZh: string, fix: string): StoreError {
  return new StoreError('DATA_DIR_INSECURE', `the data dir ${dataDir} ${problemEn}: refused. Fix: ${fix}`, {
    messageZh: `数据目录 ${dataDir} ${problemZh}，已拒绝使用。修复：${fix}`,
    details: { dataDir, fix },
  });
}

function userName(uid: number): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(uid);
  }
}

/** Creates the data dir (0700) or checks an existing one; throws DATA_DIR_INSECURE when another user could tamper with it. */
export function prepareDataDir(dataDir: string): void {
  if (!posix) {
    fs.mkdirSync(dataDir, { recursive: true });
    return;
  }
  const uid = process.getuid?.() ?? 0;
  let link: fs.Stats | null = null;
  try {
    link = fs.lstatSync(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (link === null) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // mkdir's mode is cut by the umask but never widened; chmod makes it exact.
    fs.chmodSync(dataDir, 0o700);
    link = fs.lstatSync(dataDir);
  }
  if (link.isSymbolicLink() && link.uid !== uid) {
    throw refuse(
      dataDir,
      `is a symbolic link owned by another user (uid ${link.uid})`,
      `是其他用户（uid ${link.uid}）拥有的符号链接`,
      `rm ${quoted(dataDir)}  (the link only) and start again, or give a data dir you own`,
    );
  }
  const st = fs.statSync(dataDir);
  if (!st.isDirectory()) {
    throw new StoreError('STORE_UNWRITABLE', `the data dir ${dataDir} is not a directory`);
  }
  if (st.uid !== uid) {
    throw refuse(
      dataDir,
      `belongs to another user (uid ${st.uid})`,
      `属于其他用户（uid ${st.uid}）`,
      `sudo chown -R ${userName(uid)} ${quoted(dataDir)} && chmod 700 ${quoted(dataDir)}  (only if its contents are trusted; otherwise move it away)`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw refuse(
      dataDir,
      `is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o7777).toString(8)})`,
      `允许${st.mode & 0o002 ? '所有用户' : '同组用户'}写入（权限 ${(st.mode & 0o7777).toString(8)}）`,
      `chmod 700 ${quoted(dataDir)}`,
    );
  }
}

/** Makes an existing file 0600 (owner read/write only); a missing one is skipped, and so is a read-only disk (nobody can change it). */
export function makePrivate(file: string): void {
  if (!posix) return;
  try {
    if ((fs.lstatSync(file).mode & 0o777) === 0o600) return;
    fs.chmodSync(file, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EROFS') throw err;
  }
}

/**
 * Creates an empty file 0600 when it does not exist yet, so SQLite never
 * creates it with its own 0644 (its -wal and -shm files copy the database
 * file's mode).
 */
export function createPrivateFile(file: string): void {
  if (!posix) return;
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** The database and the files SQLite keeps beside it. */
export const sqliteFiles = (dbFile: string): string[] => [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`];
