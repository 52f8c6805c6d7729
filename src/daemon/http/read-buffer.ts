/**
 * @module One read buffer for every plain-TCP socket of the process, client and upstream alike.
 *
 * By default node gives each socket read a fresh 64 KB allocation and then shrinks it to the bytes that
 * arrived. With many connections that is a malloc of 64 KB and a realloc per read, and the shrunken
 * pieces, held by requests in flight, leave holes glibc keeps resident: under c=128 that measured about
 * 10 MB of RSS beyond V8's heap and external memory. Here every read lands in one shared buffer and is
 * copied out at its exact size, synchronously (small reads come from node's buffer pool); what the copy
 * costs is less than what the allocation did.
 *
 * Sockets lw connects take this through `net.connect`'s public `onread` option. Sockets a server accepts
 * have no such option in Node 20, so `readAcceptedIntoSharedBuffer` sets the same two fields net's own
 * constructor sets for `onread` (found by their symbol names) and tells the handle to use the buffer.
 * Where either is missing (another Node), the socket keeps node's own reads: only memory is at stake.
 */
import type { Socket } from 'node:net';

const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** `net.connect`'s `onread` option: reads go to `onBytes`, each an exact-size copy it may keep. */
export function sharedOnread(onBytes: (chunk: Buffer) => void): { buffer: Buffer; callback: (n: number, buf: Uint8Array) => boolean } {
  return {
    buffer: READ_BUFFER,
    callback: (n, buf) => {
      onBytes(Buffer.from(buf.subarray(0, n)));
      return true;
    },
  };
}

interface StreamHandle {
  useUserBuffer?: (buf: Uint8Array) => void;
}

type SocketInternals = Socket & Record<symbol, unknown> & { _handle?: StreamHandle | null };

/** Where an accepted socket's reads go (see readAcceptedIntoSharedBuffer). */
export interface AcceptedReads {
  /** `fn` takes each read from now on; `null` pushes them to the socket's readable side ('data' events). */
  deliverTo(fn: ((chunk: Buffer) => void) | null): void;
}

/**
 * Makes an accepted socket read into the shared buffer. With `onBytes`, each read goes straight to it
 * (no readable-stream bookkeeping and no 'data' event; 'end' and `pause()`/`resume()` still work: net
 * stops and starts reading at once for such sockets). Without it, or after `deliverTo(null)`, bytes go
 * through `push()` with node's own backpressure, so 'data' listeners and a later owner such as node:http
 * see exactly what they would have. Returns null, changing nothing, for a socket of a shape it does not know.
 */
export function readAcceptedIntoSharedBuffer(socket: Socket, onBytes: ((chunk: Buffer) => void) | null = null): AcceptedReads | null {
  const s = socket as SocketInternals;
  const handle = s._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return null;
  let kBuffer: symbol | undefined;
  let kBufferCb: symbol | undefined;
  for (const sym of Object.getOwnPropertySymbols(s)) {
    if (sym.description === 'kBuffer') kBuffer = sym;
    else if (sym.description === 'kBufferCb') kBufferCb = sym;
  }
  // both fields exist, unset, on every net.Socket of Node 20; anything else is a shape we do not know
  if (kBuffer === undefined || kBufferCb === undefined || s[kBuffer] !== null || s[kBufferCb] !== null) return null;
  let target = onBytes;
  s[kBuffer] = READ_BUFFER;
  s[kBufferCb] = (n: number, buf: Uint8Array): boolean => {
    const chunk = Buffer.from(buf.subarray(0, n));
    if (target === null) return socket.push(chunk);
    target(chunk);
    return true;
  };
  handle.useUserBuffer(READ_BUFFER);
  return {
    deliverTo: (fn) => {
      target = fn;
    },
  };
}
