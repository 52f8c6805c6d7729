/**
 * @module Upstream HTTP: one undici keep-alive Pool per provider origin, driven through
 * `Pool.dispatch` with a small handler of our own (no global `fetch`, no `Pool.request`: its
 * Readable body and AbortSignal plumbing cost ~75 µs of CPU per request on the bench), and the
 * mapping of transport failures to the error table (refused → 502, timeouts → 504).
 */
import type { Dispatcher } from 'undici';
import { Pool, errors as undiciErrors } from 'undici';
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
  const name = (err as Error | null)?.name;
  return err instanceof undiciErrors.RequestAbortedError || name === 'AbortError' || name === 'RequestAbortedError';
}

/**
 * One upstream call as an undici dispatch handler. It implements undici's original callback API
 * (onConnect/onHeaders/onData/onComplete/onError, marked deprecated in undici 7 but what its core
 * calls natively): the newer controller API is adapted onto it with a wrapper object and parsed
 * headers per response, which is work the relay does not need.
 * resolves once the status line and headers are in, then buffers the body until a consumer attaches.
 */
class UpstreamCall implements Dispatcher.DispatchHandler, UpstreamResponse {
  status = 0;
  private rawHeaders: Buffer[] | null = null;
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private paused = false;
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

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    this.cancel.onAbort(() => abort(new undiciErrors.RequestAbortedError()));
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx informational: the real answer follows
    this.status = status;
    this.rawHeaders = rawHeaders;
    this.resumeFn = resume;
    this.started(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.sink) this.sink.data(chunk);
    else this.buffered.push(chunk);
    return !this.paused;
  }

  onComplete(): void {
    this.done = true;
    this.cancel.onAbort(null);
    const sink = this.sink;
    if (sink) sink.end();
  }

  onError(err: Error): void {
    this.cancel.onAbort(null);
    if (this.status === 0) {
      this.failed(classifyTransportError(err, this.providerName));
      return;
    }
    this.done = true;
    this.failure = err;
    const sink = this.sink;
    if (sink) sink.error(err);
  }

  header(name: string): string | undefined {
    const raw = this.rawHeaders;
    if (!raw) return undefined;
    const want = name.toLowerCase();
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.toString('latin1').toLowerCase() === want) return raw[i + 1]!.toString('latin1');
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
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeFn?.();
  }

  destroy(): void {
    if (this.done) return;
    this.sink = null;
    this.buffered = [];
    this.abortFn?.(new undiciErrors.RequestAbortedError());
  }
}

interface PoolEntry {
  pool: Pool;
  basePath: string;
}

/** Keep-alive pools per origin, sized for load; closed on shutdown. */
export class UpstreamPools {
  private readonly pools = new Map<string, PoolEntry>();

  constructor(private readonly connections = 256) {}

  private entry(baseUrl: string, connectMs: number): PoolEntry {
    const key = `${baseUrl}|${connectMs}`;
    let e = this.pools.get(key);
    if (!e) {
      const u = new URL(baseUrl);
      e = {
        pool: new Pool(u.origin, {
          connections: this.connections,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 600_000,
          connectTimeout: connectMs,
        }),
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
    const { pool, basePath } = this.entry(req.provider.baseUrl, req.timeouts.connectMs);
    return new Promise((resolve, reject) => {
      const call = new UpstreamCall(req.cancel, req.provider.name, resolve, reject);
      if (req.cancel.aborted) {
        reject(new undiciErrors.RequestAbortedError());
        return;
      }
      pool.dispatch(
        {
          method: 'POST',
          path: basePath + req.path,
          headers: req.headers,
          body: req.body,
          headersTimeout: req.timeouts.firstByteMs,
          bodyTimeout: req.timeouts.idleMs,
        },
        call,
      );
    });
  }

  /** GET helper for discovery and `providers test` (not on the request path). */
  async get(baseUrl: string, path: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; text: string }> {
    const { pool, basePath } = this.entry(baseUrl, timeoutMs);
    const res = await pool.request({ method: 'GET', path: basePath + path, headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    return { status: res.statusCode, text: await res.body.text() };
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((e) => e.pool.close()));
  }
}

/** Transport failures → 504 (timeouts) or 502 (refused, reset, DNS); an abort is passed through. */
export function classifyTransportError(err: unknown, provider: string): Error {
  if (err instanceof GatewayError) return err;
  if (isAbortError(err)) return err as Error;
  if (
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError
  ) {
    const what =
      err instanceof undiciErrors.ConnectTimeoutError
        ? 'connecting to'
        : err instanceof undiciErrors.HeadersTimeoutError
          ? 'waiting for the first byte from'
          : 'waiting for more data from';
    return new GatewayError('upstream_timeout', `Timed out ${what} provider '${provider}'.`, { cause: err });
  }
  const code = (err as { code?: string })?.code;
  const reason = code === 'ECONNREFUSED' ? 'refused the connection' : code ? `failed (${code})` : 'failed';
  return new GatewayError('upstream_unreachable', `Provider '${provider}' could not be reached: the connection ${reason}.`, {
    cause: err,
  });
}

/** The provider's API key from its environment variable, or undefined when none is configured. */
export function providerKey(p: ProviderEntry, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return p.apiKeyEnv ? env[p.apiKeyEnv] || undefined : undefined;
}
