/**
 * The scrypt lane: PIN hashing on a small pool of dedicated worker threads
 * (scryptSync inside each), fed by one queue. Node's async scrypt runs on
 * libuv's shared thread pool (4 threads), which also serves dns.lookup and
 * async file I/O: a burst of sign-ins there would hold up the gateway's DNS
 * and connects. Here a burst only waits for its turn on the lane.
 *
 * The worker's source is a string (eval), so the lane works the same from
 * the TypeScript sources (tests), dist/ and an asar archive. Idle workers
 * are unref'd: the lane never keeps a process alive by itself.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export interface ScryptJob {
  password: string;
  salt: Buffer;
  keylen: number;
  options: { N: number; r: number; p: number; maxmem: number };
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
parentPort.on('message', (m) => {
  try {
    const key = crypto.scryptSync(m.password, Buffer.from(m.salt), m.keylen, m.options);
    parentPort.postMessage({ key });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

/** More queued checks than this are refused at once: the lockout keeps honest traffic far below it. */
export const LANE_QUEUE_MAX = 1_000;

interface Pending {
  job: ScryptJob;
  resolve(key: Buffer): void;
  reject(err: Error): void;
}

class Lane {
  private readonly queue: Pending[] = [];
  private readonly idle: Worker[] = [];
  private workers = 0;
  /** Hashes computed since the process started (diagnostics, tests). */
  hashed = 0;

  constructor(private readonly size: number) {}

  run(job: ScryptJob): Promise<Buffer> {
    if (this.queue.length >= LANE_QUEUE_MAX) return Promise.reject(new Error('the PIN check queue is full'));
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.next();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  private next(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.workers < this.size ? this.spawn() : undefined);
      if (!worker) return;
      this.start(worker, this.queue.shift()!);
    }
  }

  private spawn(): Worker {
    this.workers++;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.once('exit', () => {
      this.workers--;
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return worker;
  }

  private start(worker: Worker, p: Pending): void {
    worker.ref();
    const done = (err: Error | null, key?: Buffer) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (err) {
        void worker.terminate();
        p.reject(err);
      } else {
        this.hashed++;
        worker.unref();
        this.idle.push(worker);
        p.resolve(key!);
      }
      this.next();
    };
    const onMessage = (m: { key?: Uint8Array; error?: string }) => (m.key ? done(null, Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength)) : done(new Error(m.error ?? 'scrypt failed')));
    const onError = (err: Error) => done(err);
    const onExit = () => done(new Error('the PIN check thread stopped'));
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.postMessage(p.job);
  }
}

/** One or two threads: enough for a counter's sign-ins, never the whole machine. */
const LANE_SIZE = Math.max(1, Math.min(2, os.cpus().length - 1));
const lane = new Lane(LANE_SIZE);

export const scryptOnLane = (job: ScryptJob): Promise<Buffer> => lane.run(job);

/** How many hashes the lane has computed and how many wait (tests count PIN checks with it). */
export const scryptLaneStats = (): { hashed: number; queued: number; size: number } => ({ hashed: lane.hashed, queued: lane.queued, size: LANE_SIZE });
