/**
 * Where `activate` gets the vendor key. A key typed on the command line is
 * visible to every local user in `ps` and stays in the shell history, so the
 * CLI leads with other sources: the UPAY_VENDOR_KEY environment variable, a
 * file only its owner can read (--vendor-key-file), or standard input
 * (--vendor-key-stdin, or --vendor-key -). --vendor-key KEY keeps working.
 */
import { invalidInput } from '../errors';
import { PrivateFileError, readPrivateFile } from '../util/private-file';
import type { CliContext } from './context';

/** A vendor key is one line of printable ASCII (the vendor's hex key); more than this is not a key. */
const MAX_KEY_BYTES = 1024;

export async function vendorKey(ctx: CliContext): Promise<string> {
  const flag = typeof ctx.values['vendor-key'] === 'string' ? (ctx.values['vendor-key'] as string) : undefined;
  const file = typeof ctx.values['vendor-key-file'] === 'string' ? (ctx.values['vendor-key-file'] as string) : undefined;
  const stdin = ctx.values['vendor-key-stdin'] === true || flag === '-';
  const given = [flag !== undefined && flag !== '-', file !== undefined, stdin].filter(Boolean).length;
  if (given > 1) throw invalidInput('--vendor-key', 'give the vendor key one way only: --vendor-key-file, --vendor-key-stdin or --vendor-key');
  let key: string | undefined;
  if (file !== undefined) key = readKeyFile(file);
  else if (stdin) key = await readKeyStdin(ctx.stdin);
  else key = flag ?? ctx.env.UPAY_VENDOR_KEY;
  key = key?.trim();
  if (!key) throw invalidInput('--vendor-key', 'is required: set UPAY_VENDOR_KEY, or give --vendor-key-file FILE or --vendor-key-stdin', '必填：请设置 UPAY_VENDOR_KEY，或使用 --vendor-key-file 文件 或 --vendor-key-stdin');
  if (!/^[\x21-\x7e]{1,256}$/.test(key)) throw invalidInput('--vendor-key', 'must be one line without spaces, at most 256 characters');
  return key;
}

function readKeyFile(file: string): string {
  try {
    return readPrivateFile(file, MAX_KEY_BYTES);
  } catch (err) {
    if (err instanceof PrivateFileError) {
      if (err.problem === 'readable-by-others') {
        throw invalidInput('--vendor-key-file', err.message, `其他用户可以读取该文件（权限 ${err.mode.toString(8)}）：请先执行 chmod 600`);
      }
      throw invalidInput('--vendor-key-file', err.problem === 'too-large' ? 'is too large to be a vendor key' : err.message);
    }
    throw invalidInput('--vendor-key-file', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function readKeyStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_KEY_BYTES) throw invalidInput('--vendor-key-stdin', 'standard input is too large to be a vendor key');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
