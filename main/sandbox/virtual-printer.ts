/**
 * The embedded virtual printer: a TCP server that behaves like a raw-port
 * (9100) ESC/POS network printer. It keeps every job (the bytes of one
 * connection, minus status queries) decoded to text, answers real-time
 * status (DLE EOT 1/2/4, GS r 1) from switchable paper/cover state, and can
 * be switched off (port closed), or hung (accepts, never reads) to exercise
 * the print worker's failure paths. Loopback by default.
 *
 * Job boundaries: a job ends when the client half-closes (what our
 * transport does) or drops the connection. In paper-out / cover-open state
 * the printer refuses job data by resetting the connection, so a job is
 * never silently kept while the "paper" is empty.
 */
import net from 'node:net';
import { decodeEscPos, type DecodedReceipt } from './escpos-decoder';

export interface VirtualJob {
  id: number;
  receivedAt: number;
  bytes: Buffer;
  decoded: DecodedReceipt;
}

export interface VirtualPrinterOptions {
  port?: number;
  host?: string;
  dialect?: 'escpos' | 'star';
}

export interface VirtualPrinter {
  readonly host: string;
  readonly port: number;
  /** tcp://host:port, for the printer setting. */
  readonly uri: string;
  jobs(): VirtualJob[];
  setPaperOut(on: boolean): void;
  setCoverOpen(on: boolean): void;
  /** Off: the port is closed (connection refused). On again: listens on the same port. */
  setOffline(on: boolean): Promise<void>;
  /** Hung: connections are accepted but never read; turning it off drops them unprinted. */
  setHang(on: boolean): void;
  waitForJobs(count: number, timeoutMs?: number): Promise<VirtualJob[]>;
  clear(): void;
  close(): Promise<void>;
}

/** Length of a status query at `buf[0..]`, or 0 when the bytes are not one (or not complete yet: -1). */
function statusQueryLength(buf: Buffer): number {
  if (buf.length === 0) return 0;
  if (buf[0] === 0x10 || buf[0] === 0x1d) {
    if (buf.length < 2) return -1;
    if ((buf[0] === 0x10 && buf[1] === 0x04) || (buf[0] === 0x1d && buf[1] === 0x72)) return buf.length < 3 ? -1 : 3;
  }
  return 0;
}

export async function createVirtualPrinter(options: VirtualPrinterOptions = {}): Promise<VirtualPrinter> {
  const host = options.host ?? '127.0.0.1';
  const dialect = options.dialect ?? 'escpos';
  const stored: VirtualJob[] = [];
  const sockets = new Set<net.Socket>();
  const hung = new Set<net.Socket>();
  const waiters = new Set<() => void>();
  let paperOut = false;
  let coverOpen = false;
  let hang = false;
  let nextId = 1;

  const notify = (): void => {
    for (const w of [...waiters]) w();
  };

  const statusReply = (query: Buffer): number => {
    const isGsR = query[0] === 0x1d;
    const n = query[2] ?? 0;
    if (isGsR) return paperOut ? 0x0f : 0x00; // GS r 1: bits 0-1 near end, 2-3 paper end
    const stopped = paperOut || coverOpen;
    switch (n) {
      case 1:
        return 0x12 | (stopped ? 0x08 : 0);
      case 2:
        return 0x12 | (coverOpen ? 0x04 : 0) | (paperOut ? 0x20 : 0);
      case 4:
        return 0x12 | (paperOut ? 0x6c : 0);
      default:
        return 0x12;
    }
  };

  const onConnection = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      hung.delete(socket);
    });
    socket.on('error', () => undefined);
    if (hang) {
      // A stuck printer: the connection is accepted, nothing is ever read.
      hung.add(socket);
      socket.pause();
      return;
    }
    let pending = Buffer.alloc(0);
    const job: Buffer[] = [];
    let inJob = false;
    let done = false;

    const finishJob = (): void => {
      if (done) return;
      done = true;
      if (job.length === 0) return;
      const bytes = Buffer.concat(job);
      stored.push({ id: nextId++, receivedAt: Date.now(), bytes, decoded: decodeEscPos(bytes, { dialect }) });
      notify();
    };

    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      pending = Buffer.concat([pending, chunk]);
      // Status queries are answered until the first job byte; after that everything is job data.
      while (!inJob && pending.length > 0) {
        const len = statusQueryLength(pending);
        if (len === -1) return;
        if (len === 0) {
          inJob = true;
          break;
        }
        socket.write(Buffer.from([statusReply(pending.subarray(0, len))]));
        pending = pending.subarray(len);
      }
      if (!inJob || pending.length === 0) return;
      if (paperOut || coverOpen) {
        // Refuse: RST so the sender cannot mistake it for a printed job.
        done = true;
        socket.resetAndDestroy();
        return;
      }
      job.push(pending);
      pending = Buffer.alloc(0);
    });
    socket.on('end', () => {
      finishJob();
      socket.end();
    });
    socket.on('close', finishJob);
  };

  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const port = await listen(options.port ?? 0);
  // Never keep a test or the app alive just because the virtual printer listens.
  server.unref();

  return {
    host,
    port,
    uri: `tcp://${host}:${port}`,
    jobs: () => [...stored],
    setPaperOut(on) {
      paperOut = on;
    },
    setCoverOpen(on) {
      coverOpen = on;
    },
    async setOffline(on) {
      if (on) await stopListening();
      else if (!server.listening) {
        await listen(port);
        server.unref();
      }
    },
    setHang(on) {
      hang = on;
      if (!on) {
        for (const s of hung) s.destroy();
        hung.clear();
      }
    },
    waitForJobs(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (stored.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve([...stored]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`virtual printer: ${stored.length} of ${count} jobs after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    clear() {
      stored.length = 0;
    },
    async close() {
      for (const s of hung) s.destroy();
      await stopListening();
    },
  };
}
