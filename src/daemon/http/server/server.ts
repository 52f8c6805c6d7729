/**
 * @module lw's HTTP/1.1 server: a `net` server that reads the inference calls itself (`connection.ts`)
 * and gives every other connection to node:http. node:http's IncomingMessage and ServerResponse are
 * streams built for any use; the fast path needs a whole body and one write per answer, and reading
 * and writing the socket directly costs about a third less CPU per request. A connection whose request
 * lw's server does not take (another route or method, a chunked body, `Expect`, an oversized head, a
 * malformed one) is handed to a node:http server with the bytes already read, which serves it — and
 * the rest of that connection — with the same listener, exactly as before. Idle and header deadlines
 * are checked by one sweep timer; draining and closing cover both kinds of connection.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Connection, type ConnectionServer, type FastRequest } from './connection.js';
import type { RequestHead } from './request-head.js';
import type { FastResponse } from './response.js';

export type { FastRequest } from './connection.js';
export type { FastResponse, GatewayResponse } from './response.js';

/** A listener that serves both node:http's objects and lw's own. */
export interface GatewayListener {
  (req: IncomingMessage | FastRequest, res: ServerResponse | FastResponse): void;
  /** Whether a request with this target goes to a route the listener serves from a whole body. */
  fastPath(url: string): boolean;
}

export interface GatewayServerOptions {
  /** Idle keep-alive connections are closed after this long (ms). */
  keepAliveTimeout: number;
  /** A request head must arrive whole within this long (ms). */
  headersTimeout: number;
  /** Bodies above this go to node:http, whose path answers 413 (the body limit). */
  maxBody: number;
}

/** How often the idle and header deadlines are checked (ms). */
const SWEEP_MS = 1000;

export class GatewayServer implements ConnectionServer {
  readonly net: NetServer;
  /** Serves the connections handed over; never listens itself. */
  readonly http: HttpServer;
  readonly keepAliveSeconds: number;
  closing = false;
  private readonly connections = new Set<Connection>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly listener: GatewayListener,
    private readonly opts: GatewayServerOptions,
  ) {
    this.keepAliveSeconds = Math.floor(opts.keepAliveTimeout / 1000);
    this.http = createHttpServer({ keepAliveTimeout: opts.keepAliveTimeout, requestTimeout: 0 }, listener);
    this.http.headersTimeout = opts.headersTimeout;
    // node:http tracks its connections (closeIdleConnections, its header deadline) from 'listening' on
    this.http.emit('listening');
    this.net = createNetServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(port, host, () => {
        this.net.off('error', reject);
        this.sweeper = setInterval(() => this.sweep(), SWEEP_MS).unref();
        resolve();
      });
    });
  }

  address(): AddressInfo {
    return this.net.address() as AddressInfo;
  }

  accepts(head: RequestHead): boolean {
    return head.contentLength <= this.opts.maxBody && this.listener.fastPath(head.url);
  }

  dispatch(req: FastRequest, res: FastResponse): void {
    try {
      this.listener(req, res);
    } catch {
      // the listener answers its own failures; one that escapes ends the connection, not the process
      res.socket.destroy();
    }
  }

  handOver(socket: Socket, unread: Buffer | null): void {
    socket.pause();
    if (unread !== null) socket.unshift(unread);
    this.http.emit('connection', socket);
    socket.resume();
  }

  closed(conn: Connection): void {
    this.connections.delete(conn);
  }

  /** Stops accepting; idle connections close now, busy ones after their response. */
  close(): void {
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    this.net.close();
    this.http.close();
    this.closeIdleConnections();
  }

  closeIdleConnections(): void {
    for (const c of this.connections) if (c.idle) c.destroy();
    this.http.closeIdleConnections();
  }

  closeAllConnections(): void {
    for (const c of this.connections) c.destroy();
    this.http.closeAllConnections();
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(new Connection(socket, this));
  }

  /** Closes connections idle past the keep-alive timeout, and those whose head or body stalled. */
  private sweep(): void {
    const now = Date.now();
    for (const c of this.connections) {
      if (c.busy) continue;
      const limit = c.idle ? this.opts.keepAliveTimeout : this.opts.headersTimeout;
      if (now - c.lastActivity > limit) c.destroy();
    }
  }
}
