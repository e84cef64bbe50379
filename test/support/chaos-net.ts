/**
 * Loopback network pieces for the reliability suite and the benchmark:
 * - a TCP proxy that can be taken down (connection refused), brought back on
 *   the same port, and held (bytes from the client are buffered, not
 *   forwarded, until released: a request "in the wire" while something else
 *   happens at the gateway);
 * - a closed port (refused);
 * - a listener whose accept queue is full (connect hangs: SYNs are dropped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface ChaosProxy {
  readonly port: number;
  readonly url: string;
  readonly isUp: boolean;
  /** Bytes buffered while held. */
  readonly heldBytes: number;
  down(): Promise<void>;
  up(): Promise<void>;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function createChaosProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<ChaosProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; flush(): void }>();
  let server: net.Server | null = null;
  let port = 0;
  let held = false;
  let heldBytes = 0;

  const onConnection = (client: net.Socket) => {
    const upstream = net.connect(targetPort, targetHost);
    const queue: Buffer[] = [];
    const pair = {
      client,
      upstream,
      flush() {
        for (const b of queue.splice(0)) upstream.write(b);
      },
    };
    pairs.add(pair);
    client.on('data', (b: Buffer) => {
      if (held) {
        heldBytes += b.length;
        queue.push(b);
      } else {
        pair.flush();
        upstream.write(b);
      }
    });
    upstream.on('data', (b: Buffer) => client.write(b));
    const done = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });

  const down = async () => {
    const s = server;
    server = null;
    for (const p of pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    pairs.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get isUp() {
      return server !== null;
    },
    get heldBytes() {
      return heldBytes;
    },
    down,
    async up() {
      if (server) return;
      // The port may linger briefly after close: retry a few times.
      for (let i = 0; ; i++) {
        try {
          await listen();
          return;
        } catch (err) {
          if (i >= 50) throw err;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    },
    hold() {
      held = true;
      heldBytes = 0;
    },
    release() {
      held = false;
      for (const p of pairs) p.flush();
      heldBytes = 0;
    },
    close: down,
  };
}

/** A loopback port nothing listens on (bound once, then closed). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface HangingListener {
  port: number;
  url: string;
  /** True when a probe connect did not complete within the probe time (the accept queue is full). */
  connectHangs: boolean;
  close(): Promise<void>;
}

/**
 * A listener in a child process whose event loop is blocked, so it never
 * accepts; its backlog (1) is filled with parked connections, after which
 * the kernel drops new SYNs: a client's connect hangs until its own timeout.
 */
export async function createConnectHang(probeMs = 300): Promise<HangingListener> {
  const code = `
    const net = require('node:net');
    const s = net.createServer();
    s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(String(s.address().port) + '\\n', () => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600000);
      });
    });`;
  const child: ChildProcess = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('connect-hang listener did not start')), 10_000);
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const m = /^(\d+)\n/.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error('connect-hang listener exited')));
  });
  const parked: net.Socket[] = [];
  const tryConnect = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => resolve(false));
      const t = setTimeout(() => resolve(false), ms);
      s.once('connect', () => {
        clearTimeout(t);
        parked.push(s);
        resolve(true);
      });
      parked.push(s);
    });
  // Fill the accept queue (bounded attempts).
  let hangs = false;
  for (let i = 0; i < 8; i++) {
    const connected = await tryConnect(probeMs);
    if (!connected) {
      hangs = true;
      break;
    }
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connectHangs: hangs,
    async close() {
      for (const s of parked) s.destroy();
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
