/**
 * @module The upstream HTTP/1.1 client's contract (`OriginPool.request`): what a caller sends, what it
 * hears back, and how it steers a request in flight.
 */
import type tls from 'node:tls';

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
