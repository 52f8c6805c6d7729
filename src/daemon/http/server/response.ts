/**
 * @module The response object of lw's own server: the part of node:http's ServerResponse the fast path
 * uses (`GatewayResponse`), written straight to the socket. Headers are sent with the first body
 * write (or `flushHeaders`) in the same corked write; a response without a Content-Length is sent
 * chunked; the `Date`, `Connection` and `Keep-Alive` headers are node:http's.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES, validateHeaderValue } from 'node:http';
import type { Socket } from 'node:net';
import { utf8Piece, writePieces, type Piece } from '../joined-write.js';

/** What the fast path needs of a response: met by node:http's ServerResponse and by FastResponse. */
export interface GatewayResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  readonly socket: { setNoDelay(noDelay?: boolean): unknown } | null;
  writeHead(status: number, headers: string[]): unknown;
  flushHeaders(): void;
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): unknown;
  cork(): void;
  uncork(): void;
  on(event: 'close' | 'drain' | 'error', listener: () => void): unknown;
  once(event: 'close' | 'drain' | 'error', listener: () => void): unknown;
  off(event: 'close' | 'drain' | 'error', listener: () => void): unknown;
}

/** What the connection learns from its response. */
export interface ResponseOwner {
  /** The last byte was handed to the socket: the next request may be served (or the socket ended). */
  finished(res: FastResponse): void;
}

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/** The `Date` header's value, rebuilt at most once a second. */
let dateSecond = -1;
let dateValue = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`Invalid status code: ${status}`);
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    if (STATUS_CODES[status] !== undefined) statusLines.set(status, line);
  }
  return line;
}

export class FastResponse extends EventEmitter implements GatewayResponse {
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  statusCode = 200;
  /** The header block, built by writeHead and not yet written. */
  private pendingHead: string | null = null;
  private chunked = false;
  /** `cork()` depth: while above 0, pieces wait in `pending` for the last `uncork()`. */
  private corks = 0;
  private pending: Piece[] = [];
  /** The callback of the response's last piece, once it is in `pending`. */
  private pendingDone: ((err?: Error | null) => void) | undefined = undefined;

  /**
   * `keepAlive`: the connection stays open after this response (`Connection: keep-alive`, with a
   * `Keep-Alive: timeout=` of `keepAliveSeconds`), else `Connection: close`.
   */
  constructor(
    readonly socket: Socket,
    private readonly owner: ResponseOwner,
    readonly keepAlive: boolean,
    private readonly keepAliveSeconds: number,
  ) {
    super();
  }

  /** `headers`: a flat `[name, value, …]` list, as node:http takes it; values are checked by node's own check. */
  writeHead(status: number, headers: string[]): this {
    if (this.headersSent) throw new Error('Cannot write headers after they are sent to the client');
    let block = statusLine(status);
    let length = false;
    let connection = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      validateHeaderValue(name, value);
      block += `${name}: ${value}\r\n`;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (name.length === 10 && name.toLowerCase() === 'connection') connection = true;
    }
    block += `Date: ${httpDate()}\r\n`;
    if (!connection) block += this.keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${this.keepAliveSeconds}\r\n` : 'Connection: close\r\n';
    this.chunked = !length && status !== 204 && status !== 304;
    if (this.chunked) block += 'Transfer-Encoding: chunked\r\n';
    this.pendingHead = block + CRLF;
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {
    if (this.pendingHead === null || this.destroyed) return;
    this.pending.push(this.pendingHead);
    this.pendingHead = null;
    if (this.corks === 0) this.flush();
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (!this.headersSent) this.writeHead(200, []);
    return this.send(chunk, false);
  }

  end(chunk?: string | Uint8Array): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) this.writeHead(200, []);
    this.writableEnded = true;
    if (this.destroyed) return this;
    this.send(chunk, true);
    return this;
  }

  cork(): void {
    this.corks++;
  }

  uncork(): void {
    if (this.corks > 0 && --this.corks === 0) this.flush();
  }

  /** The socket closed before the response finished (the client went away). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (!this.writableFinished) this.emit('close');
  }

  /**
   * Queues the pending head and, when chunked, the chunk's size line; the chunk; its CRLF or the last
   * chunk; and writes them as one message unless corked. The last piece of the response carries the
   * callback that finishes it.
   */
  private send(chunk: string | Uint8Array | undefined, last: boolean): boolean {
    const size = chunk === undefined ? 0 : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    let prefix = this.pendingHead ?? '';
    this.pendingHead = null;
    if (size > 0 && this.chunked) prefix += `${size.toString(16)}\r\n`;
    const tail = this.chunked ? (last ? (size > 0 ? '\r\n0\r\n\r\n' : LAST_CHUNK) : size > 0 ? CRLF : null) : null;
    const pieces = this.pending;
    if (prefix.length > 0) pieces.push(prefix);
    if (size > 0) pieces.push(typeof chunk === 'string' ? utf8Piece(chunk, size) : chunk!);
    if (tail !== null) pieces.push(tail);
    if (last) {
      // nothing was left to write: the response is finished as it stands
      if (pieces.length === 0) {
        process.nextTick(this.onFlushed);
        return true;
      }
      this.pendingDone = this.onFlushed;
    }
    return this.corks > 0 ? true : this.flush();
  }

  private flush(): boolean {
    const pieces = this.pending;
    if (pieces.length === 0 || this.destroyed) return true;
    const done = this.pendingDone;
    this.pending = [];
    this.pendingDone = undefined;
    return writePieces(this.socket, pieces, done);
  }

  /** The last write reached the kernel: node:http's 'finish', then 'close'. */
  private readonly onFlushed = (err?: Error | null): void => {
    if (err || this.destroyed) return;
    this.writableFinished = true;
    this.owner.finished(this);
    this.emit('finish');
    this.emit('close');
  };
}
