/**
 * @module The node:http request listener: assigns the request id, unwraps agent-token URLs, sends
 * inference routes down the fast path (no web Request/Response objects, no fetch) and hands the
 * rest to the Hono app.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { splitAgentPath } from '../auth.js';
import type { GatewayDeps } from '../deps.js';
import type { DaemonEnv } from '../env.js';
import { GatewayError, type ErrorSurface } from '../errors.js';
import { handleInference, type InferenceRoute } from '../pipeline/handle.js';
import { sendError, type HeaderList } from './respond.js';

/** Request ids: a random per-process prefix and a counter; unique and cheap. */
const ID_PREFIX = randomBytes(6).toString('hex');
let idCounter = 0;
export function nextRequestId(): string {
  return `req_${ID_PREFIX}${(idCounter++).toString(36)}`;
}

/** A fast-path route the gateway answers itself, with no upstream (e.g. `/v1/messages/count_tokens`). */
export interface LocalRoute {
  surface: ErrorSurface;
  /** `head`: the response's headers so far (x-request-id), sent with the answer (see HeaderList). */
  local(deps: GatewayDeps, req: IncomingMessage, res: ServerResponse, requestId: string, head: HeaderList): Promise<void>;
}

export type FastRoute = InferenceRoute | LocalRoute;

/** A fast-path answer's first headers: the fixed ones, then its request id. */
function baseHead(fixedHeaders: readonly string[], requestId: string): HeaderList {
  return fixedHeaders.length === 0 ? ['x-request-id', requestId] : [...fixedHeaders, 'x-request-id', requestId];
}

/**
 * The server's request listener. `fixedHeaders` (a flat `[name, value, …]` list, e.g. a worker's
 * `x-lw-worker`) go on every response, before `x-request-id`.
 */
export function createListener(deps: GatewayDeps, routes: Record<string, FastRoute>, app: Hono<DaemonEnv>, fixedHeaders: readonly string[] = []) {
  const honoListener = getRequestListener(app.fetch);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = nextRequestId();
    let url = req.url ?? '/';
    const agent = splitAgentPath(url);
    if (agent) {
      // the key travels in the URL for tools that cannot set headers; from here on it is a header
      req.headers.authorization = `Bearer ${agent.key}`;
      delete req.headers['x-api-key'];
      url = agent.path;
      req.url = url;
    }
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const route = routes[path];
    if (route) {
      // fast-path answers collect their headers and send them in one writeHead (see HeaderList)
      const head = baseHead(fixedHeaders, requestId);
      if (req.method !== 'POST') {
        sendError(res, new GatewayError('method_not_allowed', `${path} accepts POST only.`, { headers: { allow: 'POST' } }), route.surface, head);
        req.resume();
        return;
      }
      // in flight until the handler has settled limits and queued its usage record, not merely until the
      // client's socket closes: the SIGTERM drain waits on this before flushing usage
      deps.inflight.count++;
      const run = 'local' in route ? route.local(deps, req, res, requestId, head) : handleInference(deps, route, req, res, requestId, head);
      run
        .catch((err: unknown) => {
          deps.log.error('unhandled inference failure', { request_id: requestId, error: err instanceof Error ? err.message : String(err) });
          // a fresh list: the handler may have filled `head` before it failed
          sendError(res, err, route.surface, baseHead(fixedHeaders, requestId));
        })
        .finally(() => deps.inflight.count--);
      return;
    }
    for (let i = 0; i < fixedHeaders.length; i += 2) res.setHeader(fixedHeaders[i]!, fixedHeaders[i + 1]!);
    res.setHeader('x-request-id', requestId);
    req.headers['x-lw-request-id'] = requestId;
    void honoListener(req, res);
  };
}
