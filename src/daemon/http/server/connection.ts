/**
 * @module One client connection on lw's own server: reads requests off the socket, hands each whole
 * request (head and body) to the listener with a FastResponse, and serves pipelined requests one after
 * another. The first request it does not take (`parseRequestHead` returns null, or the server does not
 * accept the route or the size) goes to node:http with every byte not yet served, and so does the rest
 * of the connection.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { readAcceptedIntoSharedBuffer, type AcceptedReads } from '../read-buffer.js';
import { parseRequestHead, type RequestHead } from './request-head.js';
import { FastResponse, type ResponseOwner } from './response.js';

/** A request read whole by lw's server; `body` holds all of it (node:http's IncomingMessage streams it). */
export class FastRequest {
  readonly method = 'POST';
  readonly httpVersion = '1.1';
  url: string;
  headers: IncomingHttpHeaders;

  constructor(
    head: RequestHead,
    readonly body: Buffer,
    readonly socket: Socket,
  ) {
    this.url = head.url;
    this.headers = head.headers;
  }

  /** IncomingMessage's `resume()`: the body is already read. */
  resume(): this {
    return this;
  }
}

/** A request on the fast path: node:http's (streamed body) or lw's server's (whole body). */
export type GatewayRequest = IncomingMessage | FastRequest;

/** What a connection needs from its server. */
export interface ConnectionServer {
  /** Whether lw's server answers this request itself (else node:http gets the connection). */
  accepts(head: RequestHead): boolean;
  dispatch(req: FastRequest, res: FastResponse): void;
  /** Gives the socket, with the bytes read but not served, to node:http. */
  handOver(socket: Socket, unread: Buffer | null): void;
  closed(conn: Connection): void;
  readonly keepAliveSeconds: number;
  /** The server is draining: every response closes its connection. */
  readonly closing: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
/** node:http's default maxHeaderSize: a longer head goes to node:http, which answers 431. */
const MAX_HEAD = 16 * 1024;
/** Pipelined bytes held while a response is in progress before the socket is paused. */
const MAX_PIPELINED = 1024 * 1024;

export class Connection implements ResponseOwner {
  /** Bytes read and not yet served (a partial head, or requests pipelined behind the current one). */
  private unread: Buffer | null = null;
  /** A parsed head waiting for its body: the body's reads so far. */
  private head: RequestHead | null = null;
  private bodyParts: Buffer[] = [];
  private bodySize = 0;
  private active: FastResponse | null = null;
  private clientEnded = false;
  private gone = false;
  /** Last time a byte arrived or a response finished (ms), for the idle and header deadlines. */
  lastActivity = Date.now();
  /** Reads come straight to onData from the shared read buffer; null: through 'data' events. */
  private readonly reads: AcceptedReads | null;

  constructor(
    readonly socket: Socket,
    private readonly server: ConnectionServer,
  ) {
    this.reads = readAcceptedIntoSharedBuffer(socket, this.onData);
    if (this.reads === null) socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('drain', this.onDrain);
  }

  /** Nothing in progress and nothing buffered: safe to close. */
  get idle(): boolean {
    return this.active === null && this.unread === null && this.head === null;
  }

  /** A response is being written. */
  get busy(): boolean {
    return this.active !== null;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastActivity = Date.now();
    if (this.head !== null && this.active === null) return this.addBody(chunk);
    this.unread = this.unread === null ? chunk : Buffer.concat([this.unread, chunk]);
    if (this.active !== null) {
      if (this.unread.length > MAX_PIPELINED) this.socket.pause();
      return;
    }
    this.serve();
  };

  private addBody(chunk: Buffer): void {
    const need = this.head!.contentLength - this.bodySize;
    if (chunk.length <= need) {
      this.bodyParts.push(chunk);
      this.bodySize += chunk.length;
      if (chunk.length === need) this.startRequest(null);
      return;
    }
    this.bodyParts.push(chunk.subarray(0, need));
    this.bodySize += need;
    this.startRequest(chunk.subarray(need));
  }

  /** Serves what `unread` holds: requests one at a time, while no response is in progress. */
  private serve(): void {
    while (this.unread !== null && this.active === null && !this.gone) {
      const buf = this.unread;
      const end = buf.indexOf(CRLFCRLF);
      if (end === -1) {
        if (buf.length > MAX_HEAD) this.handOver();
        return;
      }
      const head = end <= MAX_HEAD ? parseRequestHead(buf, 0, end) : null;
      if (head === null || !this.server.accepts(head)) return this.handOver();
      const bodyStart = end + 4;
      const total = bodyStart + head.contentLength;
      this.head = head;
      if (buf.length < total) {
        // the body is still coming: its reads are gathered and joined once
        this.unread = null;
        this.bodyParts = bodyStart < buf.length ? [buf.subarray(bodyStart)] : [];
        this.bodySize = buf.length - bodyStart;
        return;
      }
      this.bodyParts = [buf.subarray(bodyStart, total)];
      this.bodySize = head.contentLength;
      this.unread = null;
      this.startRequest(total < buf.length ? buf.subarray(total) : null);
    }
  }

  private startRequest(rest: Buffer | null): void {
    const head = this.head!;
    const parts = this.bodyParts;
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.bodySize);
    this.head = null;
    this.bodyParts = [];
    this.bodySize = 0;
    this.unread = rest;
    const keepAlive = head.keepAlive && !this.clientEnded && !this.server.closing;
    const res = new FastResponse(this.socket, this, keepAlive, this.server.keepAliveSeconds);
    this.active = res;
    this.server.dispatch(new FastRequest(head, body, this.socket), res);
  }

  finished(res: FastResponse): void {
    if (this.active !== res) return;
    this.active = null;
    this.lastActivity = Date.now();
    if (!res.keepAlive || this.server.closing) {
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.unread !== null) this.serve();
    else if (this.clientEnded) this.socket.end();
  }

  private handOver(): void {
    this.detach();
    // node:http listens for the socket's errors from here on
    this.socket.off('error', this.onError);
    const unread = this.unread;
    this.unread = null;
    this.server.handOver(this.socket, unread);
  }

  private detach(): void {
    this.gone = true;
    const s = this.socket;
    // from here on the socket's bytes go to its readable side (node:http, after a hand-over)
    if (this.reads !== null) this.reads.deliverTo(null);
    else s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('close', this.onClose);
    s.off('drain', this.onDrain);
    this.server.closed(this);
  }

  /** The client sent FIN: answer what is in progress, then close. */
  private readonly onEnd = (): void => {
    this.clientEnded = true;
    if (this.active === null) this.socket.end();
  };

  private readonly onClose = (): void => {
    if (this.gone) return;
    this.detach();
    this.active?.destroy();
    this.active = null;
  };

  /** A socket error is followed by 'close', which does the cleanup; the listener stays for the socket's life. */
  private readonly onError = (): void => {};

  private readonly onDrain = (): void => {
    this.active?.emit('drain');
  };
}
