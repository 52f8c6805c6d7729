/**
 * @module Upstream HTTP: one keep-alive `OriginPool` (our own HTTP/1.1 client, `./http1/`) per provider
 * origin, the `UpstreamResponse` the pipeline reads an answer through, and the mapping of transport
 * failures to the error table (refused, reset, bad HTTP → 502; timeouts → 504). No global `fetch` and
 * no undici on the request path: fetch's streams cost ~75 µs of CPU per request on the bench, and
 * undici's dispatcher with its WASM parser still ~15–25% of lw's CPU.
 */
import { UpstreamAbortError, UpstreamTransportError } from './http1/errors.js';
import { OriginPool, type ExchangeHandler, type InFlight } from './http1/origin-pool.js';
import { GatewayError } from '../errors.js';
import type { ProviderEntry } from '../state/types.js';

export interface Timeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
}

/** Where an upstream body goes once something consumes it (exactly one of end/error is called, once). */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
}

/** An upstream answer whose headers have arrived; the body follows through `read` or `readAll`. */
export interface UpstreamResponse {
  status: number;
  /** One response header (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** The whole body; rejects with the transport error if it breaks off or times out. */
  readAll(): Promise<Buffer>;
  /** Streams the body into `sink`; chunks that arrived before are delivered first, synchronously. */
  read(sink: BodySink): void;
  /** Backpressure: stop/continue reading from the upstream socket. */
  pause(): void;
  resume(): void;
  /** Abandons the body and the upstream request (the connection is closed, not reused). */
  destroy(): void;
}

/**
 * The client side of a request: lets the pipeline abort the upstream call when its client leaves,
 * without an AbortController per request.
 */
export class CancelToken {
  aborted = false;
  private hook: (() => void) | null = null;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const h = this.hook;
    this.hook = null;
    h?.();
  }

  /** The current upstream call's abort (one at a time); runs at once if already aborted. */
  onAbort(fn: (() => void) | null): void {
    this.hook = fn;
    if (fn && this.aborted) {
      this.hook = null;
      fn();
    }
  }
}

export interface UpstreamRequest {
  provider: ProviderEntry;
  /** Path under the provider's base URL, e.g. `/chat/completions`. */
  path: string;
  body: Buffer | string;
  headers: Record<string, string>;
  cancel: CancelToken;
  timeouts: Timeouts;
}

/** True for the error an upstream call fails with when lw itself abandoned it (client gone). */
export function isAbortError(err: unknown): boolean {
  return err instanceof UpstreamAbortError || (err as Error | null)?.name === 'AbortError';
}

/**
 * One upstream call: the pool's handler, and the `UpstreamResponse` the pipeline holds once the head
 * is in. Body bytes are buffered until a consumer attaches with `read`/`readAll`.
 */
class UpstreamCall implements ExchangeHandler, UpstreamResponse {
  status = 0;
  private headers: string[] = [];
  flight: InFlight | null = null;
  private buffered: Buffer[] = [];
  private sink: BodySink | null = null;
  private done = false;
  private failure: Error | null = null;

  constructor(
    private readonly cancel: CancelToken,
    private readonly providerName: string,
    private readonly started: (call: UpstreamCall) => void,
    private readonly failed: (err: Error) => void,
  ) {}

  onHead(status: number, headers: string[]): void {
    this.status = status;
    this.headers = headers;
    this.started(this);
  }

  onData(chunk: Buffer): void {
    if (this.sink) this.sink.data(chunk);
    else this.buffered.push(chunk);
  }

  onEnd(): void {
    this.done = true;
    this.cancel.onAbort(null);
    this.sink?.end();
  }

  onError(err: Error): void {
    this.cancel.onAbort(null);
    if (this.status === 0) {
      this.failed(classifyTransportError(err, this.providerName));
      return;
    }
    this.done = true;
    this.failure = err;
    this.sink?.error(err);
  }

  header(name: string): string | undefined {
    const list = this.headers;
    const want = name.toLowerCase();
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === want) return list[i + 1];
    }
    return undefined;
  }

  read(sink: BodySink): void {
    this.sink = sink;
    const early = this.buffered;
    this.buffered = [];
    for (const c of early) sink.data(c);
    if (!this.done || this.sink !== sink) return;
    if (this.failure) sink.error(this.failure);
    else sink.end();
  }

  readAll(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      this.read({
        data: (c) => chunks.push(c),
        end: () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)),
        error: (err) => reject(classifyTransportError(err, this.providerName)),
      });
    });
  }

  pause(): void {
    this.flight?.pause();
  }

  resume(): void {
    this.flight?.resume();
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.sink = null;
    this.buffered = [];
    this.cancel.onAbort(null);
    this.flight?.abort();
  }
}

interface PoolEntry {
  pool: OriginPool;
  basePath: string;
}

/** Keep-alive pools per origin, sized for load; closed on shutdown. */
export class UpstreamPools {
  private readonly pools = new Map<string, PoolEntry>();

  constructor(
    private readonly connections = 256,
    private readonly keepAliveMs = 30_000,
  ) {}

  private entry(baseUrl: string, connectMs: number): PoolEntry {
    const key = `${baseUrl}|${connectMs}`;
    let e = this.pools.get(key);
    if (!e) {
      const u = new URL(baseUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        throw new GatewayError('upstream_unreachable', `Provider base URL must be http or https, not ${u.protocol}`);
      }
      e = {
        pool: new OriginPool(u, { maxConnections: this.connections, connectMs, keepAliveMs: this.keepAliveMs }),
        basePath: u.pathname.replace(/\/+$/, ''),
      };
      this.pools.set(key, e);
    }
    return e;
  }

  /**
   * Sends one request; resolves when the upstream's status and headers are in (the body follows via
   * the response), rejects with a GatewayError for transport failures before that (502/504), or with
   * an abort error when `req.cancel` fired.
   */
  request(req: UpstreamRequest): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      if (req.cancel.aborted) {
        reject(new UpstreamAbortError());
        return;
      }
      const { pool, basePath } = this.entry(req.provider.baseUrl, req.timeouts.connectMs);
      const call = new UpstreamCall(req.cancel, req.provider.name, resolve, reject);
      let flight: InFlight;
      try {
        flight = pool.request(
        {
          method: 'POST',
          path: basePath + req.path,
          headers: req.headers,
          body: req.body,
          firstByteMs: req.timeouts.firstByteMs,
          idleMs: req.timeouts.idleMs,
        },
        call,
      );
      } catch (err) {
        reject(classifyTransportError(err, req.provider.name));
        return;
      }
      call.flight = flight;
      req.cancel.onAbort(() => flight.abort());
    });
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((e) => e.pool.close()));
  }
}

const TIMEOUT_WHAT: Record<string, string> = {
  connect_timeout: 'connecting to',
  headers_timeout: 'waiting for the first byte from',
  body_timeout: 'waiting for more data from',
};

/**
 * Transport failures → 504 (timeouts) or 502 (refused, reset, DNS, not HTTP); an abort is passed
 * through. The message names the provider and the failure, never a key or body.
 */
export function classifyTransportError(err: unknown, provider: string): Error {
  if (err instanceof GatewayError) return err;
  if (isAbortError(err)) return err as Error;
  if (err instanceof UpstreamTransportError) {
    const what = TIMEOUT_WHAT[err.failure];
    if (what) return new GatewayError('upstream_timeout', `Timed out ${what} provider '${provider}'.`, { cause: err });
    if (err.failure === 'request') {
      return new GatewayError('upstream_error', `The request to provider '${provider}' could not be sent: ${err.message}.`, { cause: err });
    }
    if (err.failure === 'protocol') {
      return new GatewayError('upstream_error', `Provider '${provider}' answered with an invalid HTTP response.`, { cause: err });
    }
  }
  const code = (err as { code?: string })?.code;
  const reason =
    code === 'ECONNREFUSED' ? 'refused the connection' : code === 'UPSTREAM_CLOSED' ? 'was closed by the provider' : code ? `failed (${code})` : 'failed';
  return new GatewayError('upstream_unreachable', `Provider '${provider}' could not be reached: the connection ${reason}.`, {
    cause: err,
  });
}

/** The provider's API key from its environment variable, or undefined when none is configured. */
export function providerKey(p: ProviderEntry, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return p.apiKeyEnv ? env[p.apiKeyEnv] || undefined : undefined;
}
