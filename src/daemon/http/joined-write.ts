/**
 * @module One message (a request head and body, a response head and body, a chunk and its framing) to a
 * socket in one write. node writes a single Buffer straight to the handle; several pieces go through
 * cork, uncork, an array of chunks and writev, which measured more CPU per request than copying a small
 * message into one buffer. Messages above JOIN_LIMIT keep the corked writev, where the copy would cost more.
 */
import type { Socket } from 'node:net';

/** A piece of a message: a string of latin1 characters (heads, chunk-size lines) or bytes. */
export type Piece = string | Uint8Array;

/** Buffer's own latin1 writer (what `buf.write(s, at, 'latin1')` ends in, without its argument checks). */
interface Latin1Writable {
  latin1Write(s: string, offset: number): number;
}

/**
 * A UTF-8 string as a piece, given its UTF-8 byte length: the string itself when it is ASCII (its latin1
 * bytes are the same), else its UTF-8 bytes.
 */
export function utf8Piece(s: string, byteLength: number): Piece {
  return byteLength === s.length ? s : Buffer.from(s, 'utf8');
}

/** Messages up to this many bytes are copied into one buffer. */
export const JOIN_LIMIT = 16 * 1024;

/**
 * Writes `pieces` in order as one write; `done` is called when the last byte reached the kernel (or on
 * error), as `socket.write`'s callback. Returns `socket.write`'s backpressure answer.
 */
export function writePieces(socket: Socket, pieces: readonly Piece[], done?: (err?: Error | null) => void): boolean {
  let total = 0;
  for (const p of pieces) total += p.length;
  if (total <= JOIN_LIMIT) {
    const buf = Buffer.allocUnsafe(total);
    const latin1 = buf as unknown as Latin1Writable;
    let at = 0;
    for (const p of pieces) {
      if (typeof p === 'string') at += latin1.latin1Write(p, at);
      else {
        buf.set(p, at);
        at += p.length;
      }
    }
    return socket.write(buf, done);
  }
  let ok = true;
  socket.cork();
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    const cb = i === pieces.length - 1 ? done : undefined;
    ok = typeof p === 'string' ? socket.write(p, 'latin1', cb) : socket.write(p, cb);
  }
  socket.uncork();
  return ok;
}
