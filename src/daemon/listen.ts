/**
 * @module The daemon's HTTP server, shared by `lw serve` in one process and by each `--workers` worker:
 * node:http with the fast-path listener bound to the configured address (in a node:cluster worker the
 * primary shares the listening socket), and the SIGTERM drain (stop accepting, wait for in-flight
 * requests and streams up to `drainMs`, then close what remains).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/log.js';
import type { GatewayDeps } from './deps.js';

export class StartupError extends Error {
  override name = 'StartupError';
}

export interface Listening {
  server: Server;
  port: number;
  /** Base URL clients use (a wildcard address is reached on 127.0.0.1). */
  url: string;
}

/** Creates the server and listens on `host:port`; an address in use is a StartupError naming it. */
export async function listenHttp(
  host: string,
  port: number,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Listening> {
  const server: Server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, listener);
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new StartupError(e.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : e.message)),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return { server, port: bound, url: baseUrl(host, bound) };
}

/** The URL clients use for a listen address (a wildcard address is reached on 127.0.0.1). */
export function baseUrl(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h === '0.0.0.0' ? '127.0.0.1' : h}:${port}`;
}

/** Refuses new requests (503), stops accepting, and waits for in-flight ones up to `drainMs`. */
export async function drainHttp(server: Server, deps: Pick<GatewayDeps, 'draining' | 'inflight'>, drainMs: number, log: Logger): Promise<void> {
  deps.draining.value = true;
  server.close();
  server.closeIdleConnections();
  const deadline = Date.now() + drainMs;
  while (deps.inflight.count > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (deps.inflight.count > 0) log.warn('drain time over; closing remaining connections', { inflight: deps.inflight.count });
  server.closeAllConnections();
}
