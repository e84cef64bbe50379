/**
 * A cap on what head office's PostgreSQL may send the shipper. pg-protocol
 * keeps a message whole in a Buffer that doubles as it grows, outside the V8
 * heap, so the shipper process's heap flag does not bound it: a hostile
 * server could push gigabytes into one DataRow before the query's deadline.
 * The shipper's answers are tiny (a day's partition made, two numbers for a
 * batch, a short error), so the bytes read from the socket are framed here
 * as they arrive: a message that declares more than `maxMessageBytes`, or an
 * answer (everything from one ReadyForQuery, or the connect, to the next)
 * that declares more than `maxAnswerBytes` in all, closes the socket with
 * FLEET_ANSWER_TOO_LARGE, before its bytes arrive. The call fails like a
 * timeout: the connection is dropped and the batch is tried again later,
 * nothing is lost.
 */
import type { EventEmitter } from 'node:events';
import type pg from 'pg';

export interface AnswerCaps {
  /** One backend message, its type byte and length word included. */
  maxMessageBytes: number;
  /** All the messages of one answer (connect to ReadyForQuery, query to ReadyForQuery). */
  maxAnswerBytes: number;
}

/** Far above any answer the shipper gets (a PostgreSQL error clips the values it quotes), far below the 96 MB heap. */
export const ANSWER_CAPS: AnswerCaps = { maxMessageBytes: 4 << 20, maxAnswerBytes: 8 << 20 };

export const ANSWER_TOO_LARGE = 'FLEET_ANSWER_TOO_LARGE';

const READY_FOR_QUERY = 0x5a; // 'Z'
const HEADER = 5; // type byte + int32 length (the length counts itself, not the type)

export class AnswerTooLargeError extends Error {
  readonly code = ANSWER_TOO_LARGE;
}

/** The stream pg reads the protocol from, as far as the cap needs it. */
interface ProtocolStream extends EventEmitter {
  destroy(err?: Error): unknown;
}

/** pg's Connection: `stream` is replaced by the TLS socket before `sslconnect` is emitted. */
interface PgConnection extends EventEmitter {
  stream: ProtocolStream;
  ssl: unknown;
}

/**
 * Frames the backend messages read from `stream` and destroys it (with an
 * AnswerTooLargeError) as soon as a message or an answer declares more than
 * the caps. Returns the bytes declared so far in the current answer (tests).
 */
export function capStream(stream: ProtocolStream, caps: AnswerCaps = ANSWER_CAPS): () => number {
  const header = Buffer.alloc(HEADER);
  let have = 0; // header bytes collected
  let remaining = 0; // body bytes of the current message still to come
  let answer = 0; // bytes declared in the current answer
  let failed = false;
  const fail = (what: string) => {
    failed = true;
    stream.destroy(new AnswerTooLargeError(`head office sent ${what}; the connection was closed (the batch is tried again later)`));
  };
  // Before pg's own listener: a refused message never reaches the parser past this chunk.
  stream.prependListener('data', (chunk: Buffer) => {
    if (failed || typeof chunk === 'string') return;
    let i = 0;
    while (i < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - i);
        remaining -= n;
        i += n;
        continue;
      }
      const n = Math.min(HEADER - have, chunk.length - i);
      chunk.copy(header, have, i, i + n);
      have += n;
      i += n;
      if (have < HEADER) return;
      have = 0;
      const length = header.readUInt32BE(1);
      const size = 1 + length;
      if (length < 4) return fail(`a message with a malformed length (${length})`);
      if (size > caps.maxMessageBytes) return fail(`a message of ${size} bytes (at most ${caps.maxMessageBytes})`);
      answer += size;
      if (answer > caps.maxAnswerBytes) return fail(`an answer of more than ${caps.maxAnswerBytes} bytes`);
      remaining = length - 4;
      if (header[0] === READY_FOR_QUERY) answer = 0;
    }
  });
  return () => answer;
}

/**
 * Caps what `client` reads from head office (call before `connect()`): the
 * socket is framed from the first byte, and with TLS the decrypted stream
 * once pg switches to it (the one byte that answers the SSLRequest is not a
 * message).
 */
export function capAnswers(client: pg.Client, caps: AnswerCaps = ANSWER_CAPS): void {
  const con = (client as unknown as { connection: PgConnection }).connection;
  if (!con.ssl) capStream(con.stream, caps);
  con.once('sslconnect', () => capStream(con.stream, caps));
}
