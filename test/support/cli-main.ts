/** The CLI's main(argv, io) in-process, with its output collected as text (no build, no child process). */
import { Readable, Writable } from 'node:stream';
import { main } from '../../main/cli';

export class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Runs `upay-pos ARGS` with `stdin` as standard input; the last stdout line parsed as JSON (with --json). */
export async function runMain(args: string[], stdin = '', env: NodeJS.ProcessEnv = {}) {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await main(args, { stdout, stderr, env, stdin: Readable.from([stdin]) });
  const last = stdout.text.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> = {};
  try {
    json = last ? (JSON.parse(last) as Record<string, unknown>) : {};
  } catch {
    json = {};
  }
  return { code, json, stdout: stdout.text, stderr: stderr.text };
}
