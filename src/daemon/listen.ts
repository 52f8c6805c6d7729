/**
 * @module The daemon's HTTP server, shared by `lw serve` in one process and by each `--workers` worker:
 * lw's own HTTP/1.1 server for the inference calls, node:http for the rest (`http/server/server.ts`),
 * with the listener bound to the configured address (in a node:cluster worker the primary shares the
 * listening socket), and the SIGTERM drain (stop accepting, wait for in-flight requests and streams up
 * to `drainMs`, then close what remains).
 */
import type { Logger } from '../lib/log.js';
import type { GatewayDeps } from './deps.js';
import { GatewayServer, type GatewayListener } from './http/server/server.js';

/** Idle keep-alive connections close after this long: above the 60 s of common load balancers. */
const KEEP_ALIVE_MS = 65_000;
/** A request head must arrive whole within this long. */
const HEADERS_TIMEOUT_MS = 60_000;

export class StartupError extends Error {
  override name = 'StartupError';
}

export interface Listening {
  server: GatewayServer;
  port: number;
  /** Base URL clients use (a wildcard address is reached on 127.0.0.1). */
  url: string;
}

/**
 * Creates the server and listens on `host:port`; an address in use is a StartupError naming it.
 * `maxBody`: the body limit; larger requests take node:http's path, which answers 413.
 */
export async function listenHttp(host: string, port: number, listener: GatewayListener, maxBody: number): Promise<Listening> {
  const server = new GatewayServer(listener, { keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: HEADERS_TIMEOUT_MS, maxBody });
  await server.listen(port, host).catch((e: NodeJS.ErrnoException) => {
    throw new StartupError(e.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : e.message);
  });
  const bound = server.address().port;
  return { server, port: bound, url: baseUrl(host, bound) };
}

/** The URL clients use for a listen address (a wildcard address is reached on 127.0.0.1). */
export function baseUrl(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h === '0.0.0.0' ? '127.0.0.1' : h}:${port}`;
}

/** Refuses new requests (503), stops accepting, and waits for in-flight ones up to `drainMs`. */
export async function drainHttp(server: GatewayServer, deps: Pick<GatewayDeps, 'draining' | 'inflight'>, drainMs: number, log: Logger): Promise<void> {
  deps.draining.value = true;
  server.close();
  server.closeIdleConnections();
  const deadline = Date.now() + drainMs;
  while (deps.inflight.count > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (deps.inflight.count > 0) log.warn('drain time over; closing remaining connections', { inflight: deps.inflight.count });
  server.closeAllConnections();
}
