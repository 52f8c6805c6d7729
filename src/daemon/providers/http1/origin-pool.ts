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
import net from 'node:net';
import tls from 'node:tls';
import { UpstreamAbortError, UpstreamTransportError } from './errors.js';
import { ResponseParser, type ResponseEvents } from './response-parser.js';

/** What a caller hears about one request: `onHead` once, then `onData`…, then `onEnd`; or `onError`. */
export interface ExchangeHandler {
  onHead(status: number, headers: string[]): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(err: Error): void;
}

export interface PoolRequest {
  method: 'GET' | 'POST';
  /** Absolute path with query, e.g. `/v1/chat/completions`. */
  path: string;
  headers: Record<string, string>;
  body: Buffer | string | null;
  firstByteMs: number;
  idleMs: number;
}

/** Control over one request in flight. After `abort` no handler callback runs except its `onError`. */
export interface InFlight {
  pause(): void;
  resume(): void;
  abort(): void;
}

export interface OriginOptions {
  maxConnections: number;
  connectMs: number;
  /** How long an idle connection is kept when the upstream gives no `keep-alive: timeout=` hint. */
  keepAliveMs: number;
  /** Extra TLS options for `https:` origins (tests pass a private CA). */
  tls?: tls.ConnectionOptions;
}

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

class Exchange implements InFlight {
  conn: Connection | null = null;
  finished = false;
  paused = false;
  retried = false;

  constructor(
    private readonly pool: OriginPool,
    readonly req: PoolRequest,
    readonly head: string,
    readonly handler: ExchangeHandler,
  ) {}

  pause(): void {
    if (this.finished || this.paused) return;
    this.paused = true;
    this.conn?.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.finished && this.conn) {
      this.conn.since = Date.now();
      this.conn.socket.resume();
    }
  }

  abort(): void {
    if (this.finished) return;
    this.finished = true;
    const conn = this.conn;
    this.conn = null;
    if (conn) conn.drop();
    else this.pool.unqueue(this);
    this.handler.onError(new UpstreamAbortError());
  }
}

const enum Phase {
  Connecting,
  Waiting,
  Body,
  Idle,
}

class Connection implements ResponseEvents {
  readonly socket: net.Socket;
  ex: Exchange | null = null;
  private parser: ResponseParser | null = null;
  phase = Phase.Connecting;
  /** When the current phase's clock started (or the last body bytes arrived). */
  since = Date.now();
  /** Idle connections: how long this one may stay idle. */
  idleLimit = 0;
  served = 0;
  private error: Error | null = null;
  private timedOut: UpstreamTransportError | null = null;

  constructor(private readonly pool: OriginPool) {
    const { url, options } = pool;
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (url.protocol === 'https:') {
      this.socket = tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], ...options.tls });
      this.socket.once('secureConnect', () => this.connected());
    } else {
      this.socket = net.connect({ host, port });
      this.socket.once('connect', () => this.connected());
    }
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (err) => (this.error ??= err));
    this.socket.on('close', () => this.closed());
  }

  private connected(): void {
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 60_000);
    const ex = this.ex;
    if (ex) this.send(ex);
    else this.pool.release(this, true, 0);
  }

  /** Takes a request: sends it now, or once connected. */
  assign(ex: Exchange): void {
    this.ex = ex;
    ex.conn = this;
    this.parser = new ResponseParser(this);
    if (this.phase !== Phase.Connecting) this.send(ex);
  }

  private send(ex: Exchange): void {
    this.phase = Phase.Waiting;
    this.since = Date.now();
    const { socket } = this;
    const body = ex.req.body;
    socket.cork();
    socket.write(ex.head, 'latin1');
    if (body !== null && body.length > 0) socket.write(body);
    socket.uncork();
    if (ex.paused) socket.pause();
  }

  private read(chunk: Buffer): void {
    const parser = this.parser;
    if (!parser) {
      this.drop(); // bytes on an idle connection: nothing can be trusted on it any more
      return;
    }
    if (this.phase === Phase.Body) this.since = Date.now();
    try {
      parser.execute(chunk);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  head(status: number, headers: string[]): void {
    const ex = this.ex;
    if (!ex) return;
    this.phase = Phase.Body;
    this.since = Date.now();
    ex.handler.onHead(status, headers);
  }

  body(chunk: Buffer): void {
    this.ex?.handler.onData(chunk);
  }

  end(reusable: boolean): void {
    const ex = this.ex;
    const hint = this.parser?.keepAliveHintMs ?? 0;
    this.ex = null;
    this.parser = null;
    if (!ex) return;
    ex.finished = true;
    ex.conn = null;
    this.served++;
    this.pool.release(this, reusable, hint);
    ex.handler.onEnd();
  }

  /** Fails the current request (if any) and closes the connection. */
  fail(err: Error): void {
    const ex = this.ex;
    this.ex = null;
    this.parser = null;
    this.drop();
    if (!ex || ex.finished) return;
    ex.finished = true;
    ex.conn = null;
    ex.handler.onError(err);
  }

  /** Closes the connection without a word to its request (aborted, or there is none). */
  drop(): void {
    this.ex = null;
    this.parser = null;
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** The sweep's check of this connection's deadline; `now` in ms. */
  check(now: number, connectMs: number): void {
    const ex = this.ex;
    switch (this.phase) {
      case Phase.Connecting:
        if (now - this.since > connectMs) this.timeout(new UpstreamTransportError('connect_timeout', `no connection within ${connectMs} ms`));
        return;
      case Phase.Waiting:
        if (ex && now - this.since > ex.req.firstByteMs) {
          this.timeout(new UpstreamTransportError('headers_timeout', `no response within ${ex.req.firstByteMs} ms`));
        }
        return;
      case Phase.Body:
        if (ex && !ex.paused && now - this.since > ex.req.idleMs) {
          this.timeout(new UpstreamTransportError('body_timeout', `no response data for ${ex.req.idleMs} ms`));
        }
        return;
      case Phase.Idle:
        if (now - this.since > this.idleLimit) this.drop();
    }
  }

  private timeout(err: UpstreamTransportError): void {
    this.timedOut = err;
    this.fail(err);
  }

  /** Enters the idle list; `limit` ms from now it is closed unless reused. */
  idle(limit: number): void {
    this.phase = Phase.Idle;
    this.since = Date.now();
    this.idleLimit = limit;
    if (this.socket.isPaused()) this.socket.resume();
  }

  private closed(): void {
    const ex = this.ex;
    const parser = this.parser;
    this.ex = null;
    this.parser = null;
    this.pool.remove(this);
    if (!ex || ex.finished) return;
    if (parser && parser.inBody) {
      // a body framed by the connection's close ends here; any other body was cut short
      this.ex = ex;
      this.parser = parser;
      try {
        parser.finish();
        return;
      } catch {
        this.ex = null;
        this.parser = null;
      }
    } else if (parser && !parser.started && this.served > 0 && !ex.retried && !this.timedOut) {
      // a reused connection the upstream had already closed: the request never reached it
      ex.retried = true;
      ex.conn = null;
      this.pool.retry(ex);
      return;
    }
    ex.finished = true;
    ex.conn = null;
    const code = (this.error as NodeJS.ErrnoException | null)?.code;
    const why = this.timedOut ?? new UpstreamTransportError('socket', code ? `connection failed (${code})` : 'the upstream closed the connection', code ?? 'UPSTREAM_CLOSED');
    ex.handler.onError(why);
  }
}

export class OriginPool {
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
    const ex = new Exchange(this, req, requestHead(req, this.host, length), handler);
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
