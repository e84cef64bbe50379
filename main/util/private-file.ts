/**
 * Reading a file that holds a secret (a vendor key): a regular file, not
 * followed through a symlink, readable by its owner only. One rule for the
 * CLI's --vendor-key-file and the app's vendor.json. Windows has no such
 * mode bits: there the file's ACL is the owner's business.
 */
import fs from 'node:fs';

export type PrivateFileProblem = 'not-a-file' | 'readable-by-others' | 'too-large';

export class PrivateFileError extends Error {
  constructor(
    readonly problem: PrivateFileProblem,
    /** The file's permission bits (e.g. 0o644), for the message. */
    readonly mode: number,
  ) {
    super(problem === 'readable-by-others' ? `is readable by other users (mode ${mode.toString(8)}): run chmod 600 on it first` : problem === 'not-a-file' ? 'must be a regular file' : 'is too large');
    this.name = 'PrivateFileError';
  }
}

/** The file's text; throws PrivateFileError (or the open's own error, e.g. ENOENT). */
export function readPrivateFile(file: string, maxBytes: number, platform: NodeJS.Platform = process.platform): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  try {
    const st = fs.fstatSync(fd);
    const mode = st.mode & 0o777;
    if (!st.isFile()) throw new PrivateFileError('not-a-file', mode);
    if (platform !== 'win32' && (st.mode & 0o077) !== 0) throw new PrivateFileError('readable-by-others', mode);
    if (st.size > maxBytes) throw new PrivateFileError('too-large', mode);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
