/**
 * @module A keep-alive pool of HTTP/1.1 connections to one upstream origin (plain TCP or TLS), one
 * request per connection at a time. Written for the gateway's request path instead of undici: the
 * request goes out as one corked write, the answer is parsed by `ResponseParser` straight into the
 * caller's handler, and timeouts are deadlines checked by one sweep timer per pool rather than a timer
 * per request (measured on the bench: undici's dispatcher and llhttp-in-WASM were ~15–25% of lw's CPU).
 *
 * A request that finds a reused connection already closed by the upstream (no byte of an answer
 * received) is sent once more on a new connection: the race every keep-alive client has with an
 * upstream's idle timeout, which must not surface as a 502.
 */
import { utf8Piece } from '../../http/joined-write.js';
import { Connection, Exchange, type ConnectionOwner } from './connection.js';
import { UpstreamTransportError } from './errors.js';
import type { ExchangeHandler, InFlight, OriginOptions, PoolRequest } from './types.js';

export type { ExchangeHandler, InFlight, OriginOptions, PoolRequest } from './types.js';

const SWEEP_MS = 100;
const BAD_HEADER_CHARS = /[\r\n\0]/;

/** The request head, serialised once (a retry reuses it). */
function requestHead(req: PoolRequest, host: string, bodyLength: number): string {
  if (BAD_HEADER_CHARS.test(req.path) || req.path.includes(' ')) throw new UpstreamTransportError('request', 'invalid upstream request path');
  let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const name in req.headers) {
    const value = req.headers[name]!;
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding') continue;
    if (BAD_HEADER_CHARS.test(name) || BAD_HEADER_CHARS.test(value) || name.includes(':')) {
      throw new UpstreamTransportError('request', `invalid upstream request header '${name.replace(/[^\w-]/g, '?')}'`);
    }
    head += `${name}: ${value}\r\n`;
  }
  if (req.body !== null || req.method === 'POST') head += `content-length: ${bodyLength}\r\n`;
  return `${head}\r\n`;
}

export class OriginPool implements ConnectionOwner {
  private readonly all = new Set<Connection>();
  private readonly idleList: Connection[] = [];
  private queue: Exchange[] = [];
  private sweep: NodeJS.Timeout | null = null;
  private closing: (() => void) | null = null;
  private isClosed = false;
  readonly host: string;

  constructor(
    readonly url: URL,
    readonly options: OriginOptions,
  ) {
    this.host = url.host;
  }

  /** Sends one request. Throws `UpstreamTransportError('request')` for a head that cannot be sent. */
  request(req: PoolRequest, handler: ExchangeHandler): InFlight {
    const length = req.body === null ? 0 : typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.length;
    const body = req.body === null || length === 0 ? null : typeof req.body === 'string' ? utf8Piece(req.body, length) : req.body;
    const ex = new Exchange(this, req, requestHead(req, this.host, length), body, handler);
    if (this.isClosed) {
      ex.finished = true;
      handler.onError(new UpstreamTransportError('closed', 'the upstream client is closed'));
      return ex;
    }
    this.dispatch(ex);
    return ex;
  }

  private dispatch(ex: Exchange): void {
    const idle = this.idleList.pop();
    if (idle) return idle.assign(ex);
    if (this.all.size < this.options.maxConnections) return this.open().assign(ex);
    this.queue.push(ex);
  }

  private open(): Connection {
    const conn = new Connection(this);
    this.all.add(conn);
    this.sweep ??= setInterval(() => this.check(), SWEEP_MS).unref();
    return conn;
  }

  /** A request whose reused connection was already closed: once more, on a fresh connection. */
  retry(ex: Exchange): void {
    if (this.isClosed) return ex.handler.onError(new UpstreamTransportError('closed', 'the upstream client is closed'));
    if (this.all.size < this.options.maxConnections) this.open().assign(ex);
    else this.queue.unshift(ex);
  }

  unqueue(ex: Exchange): void {
    const i = this.queue.indexOf(ex);
    if (i !== -1) this.queue.splice(i, 1);
  }

  /** A connection finished its request: next queued request, else idle (or closed when not reusable). */
  release(conn: Connection, reusable: boolean, hintMs: number): void {
    const limit = hintMs > 0 ? Math.min(hintMs - 1000, this.options.keepAliveMs) : this.options.keepAliveMs;
    if (!reusable || limit <= 0 || this.isClosed || conn.socket.destroyed) {
      conn.drop();
      return;
    }
    const next = this.queue.shift();
    if (next) {
      if (conn.socket.isPaused()) conn.socket.resume();
      conn.assign(next);
      return;
    }
    conn.idle(limit);
    this.idleList.push(conn);
  }

  /** A connection closed: forget it, and give its place to a queued request. */
  remove(conn: Connection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idleList.indexOf(conn);
    if (i !== -1) this.idleList.splice(i, 1);
    if (this.queue.length > 0 && !this.isClosed) this.open().assign(this.queue.shift()!);
    if (this.all.size === 0) {
      if (this.sweep) clearInterval(this.sweep);
      this.sweep = null;
      this.closing?.();
    }
  }

  private check(): void {
    const now = Date.now();
    for (const conn of this.all) conn.check(now, this.options.connectMs);
  }

  /** Live connections (busy + idle), for tests and metrics. */
  get size(): number {
    return this.all.size;
  }

  /** Stops taking requests, closes idle connections and resolves once busy ones have finished. */
  close(): Promise<void> {
    this.isClosed = true;
    for (const ex of this.queue.splice(0)) {
      ex.finished = true;
      ex.handler.onError(new UpstreamTransportError('closed', 'the upstream client is closed'));
    }
    for (const conn of [...this.idleList]) conn.drop();
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.closing = resolve));
  }
}
