/**
 * @module One keep-alive connection of an `OriginPool` (plain TCP or TLS) and the request it carries:
 * sending the head and body in one corked write, feeding the answer to `ResponseParser` and on to the
 * caller's handler, the deadlines the pool's sweep checks, and what a close means (the end of a
 * close-delimited body, a failure, or a stale reused connection whose request is sent again).
 */
import net from 'node:net';
import tls from 'node:tls';
import { writePieces, type Piece } from '../../http/joined-write.js';
import { sharedOnread } from '../../http/read-buffer.js';
import { UpstreamAbortError, UpstreamTransportError } from './errors.js';
import { ResponseParser, type ResponseEvents } from './response-parser.js';
import type { ExchangeHandler, InFlight, OriginOptions, PoolRequest } from './types.js';

/** What connections and their requests need of the pool that owns them. */
export interface ConnectionOwner {
  readonly url: URL;
  readonly options: OriginOptions;
  /** A connection finished its request (`hintMs`: the answer's keep-alive timeout, 0 when none). */
  release(conn: Connection, reusable: boolean, hintMs: number): void;
  /** A connection closed. */
  remove(conn: Connection): void;
  /** A request whose reused connection was already closed: send it once more. */
  retry(ex: Exchange): void;
  /** A queued request was aborted. */
  unqueue(ex: Exchange): void;
}

/** One request through the pool: queued, then carried by a connection until it ends or is aborted. */
export class Exchange implements InFlight {
  conn: Connection | null = null;
  finished = false;
  paused = false;
  retried = false;

  constructor(
    private readonly pool: ConnectionOwner,
    readonly req: PoolRequest,
    readonly head: string,
    /** The body as it goes on the wire (http/joined-write.ts); null when there is none. */
    readonly body: Piece | null,
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

/** One socket to the origin, carrying at most one request at a time. */
export class Connection implements ResponseEvents {
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

  constructor(private readonly pool: ConnectionOwner) {
    const { url, options } = pool;
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (url.protocol === 'https:') {
      this.socket = tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'], ...options.tls });
      this.socket.once('secureConnect', () => this.connected());
      this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    } else {
      // each read lands in the process's shared buffer and leaves at its own size (http/read-buffer.ts)
      const onread = sharedOnread((chunk) => this.read(chunk));
      this.socket = net.connect({ host, port, onread });
      this.socket.once('connect', () => this.connected());
    }
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
    writePieces(socket, ex.body === null ? [ex.head] : [ex.head, ex.body]);
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
