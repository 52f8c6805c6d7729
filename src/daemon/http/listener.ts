/**
 * @module The request listener, for lw's own server and node:http alike (`server/server.ts`): assigns
 * the request id, unwraps agent-token URLs, sends inference routes down the fast path (no web
 * Request/Response objects, no fetch), answers the operational endpoints (`ops.ts`) and hands the rest
 * to the Hono app, which it loads on the first request that needs it.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hono } from 'hono';
import { splitAgentPath } from '../auth.js';
import type { GatewayDeps } from '../deps.js';
import type { DaemonEnv } from '../env.js';
import { GatewayError, type ErrorSurface } from '../errors.js';
import { handleInference, type InferenceRoute } from '../pipeline/handle.js';
import { opsRoutes, runOps, type OpsOptions } from './ops.js';
import { sendError, type HeaderList } from './respond.js';
import { FastRequest, type GatewayRequest } from './server/connection.js';
import type { GatewayResponse } from './server/response.js';
import type { GatewayListener } from './server/server.js';

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
  local(deps: GatewayDeps, req: GatewayRequest, res: GatewayResponse, requestId: string, head: HeaderList): Promise<void>;
}

export type FastRoute = InferenceRoute | LocalRoute;

/** A fast-path answer's first headers: the fixed ones, then its request id. */
function baseHead(fixedHeaders: readonly string[], requestId: string): HeaderList {
  return fixedHeaders.length === 0 ? ['x-request-id', requestId] : [...fixedHeaders, 'x-request-id', requestId];
}

/** Builds the Hono app (models, usage, admin); called once, on the first request for a route it serves. */
export type AppLoader = () => Promise<Hono<DaemonEnv>>;

type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** The app's node:http listener, from `@hono/node-server` (imported with the app, not before). */
async function loadApp(app: AppLoader): Promise<NodeListener> {
  const [{ getRequestListener }, built] = await Promise.all([import('@hono/node-server'), app()]);
  return getRequestListener(built.fetch);
}

/** A request target without its query. */
function withoutQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The server's request listener. `fixedHeaders` (a flat `[name, value, …]` list, e.g. a worker's
 * `x-lw-worker`) go on every response, before `x-request-id`.
 */
export function createListener(
  deps: GatewayDeps,
  routes: Record<string, FastRoute>,
  app: AppLoader,
  ops: OpsOptions,
  fixedHeaders: readonly string[] = [],
): GatewayListener {
  const opsByPath = opsRoutes(deps, ops);
  let appListener: Promise<NodeListener> | null = null;
  const toApp = (req: IncomingMessage, res: ServerResponse, requestId: string): void => {
    (appListener ??= loadApp(app)).then(
      (listener) => void listener(req, res),
      (err: unknown) => {
        deps.log.error('the HTTP app could not be loaded', { request_id: requestId, error: err instanceof Error ? err.message : String(err) });
        sendError(res, err, 'openai', []);
      },
    );
  };
  const listener = (req: GatewayRequest, res: GatewayResponse): void => {
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
    const path = withoutQuery(url);
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
    const op = req.method === 'GET' || req.method === 'HEAD' ? opsByPath.get(path) : undefined;
    if (op) {
      void runOps(op, deps, res, baseHead(fixedHeaders, requestId), requestId);
      return;
    }
    if (req instanceof FastRequest) {
      // lw's server sends only fast-path routes here (see fastPath)
      sendError(res, new GatewayError('not_found', `No route for ${path}.`), 'openai', baseHead(fixedHeaders, requestId));
      return;
    }
    const nodeRes = res as ServerResponse;
    for (let i = 0; i < fixedHeaders.length; i += 2) nodeRes.setHeader(fixedHeaders[i]!, fixedHeaders[i + 1]!);
    nodeRes.setHeader('x-request-id', requestId);
    req.headers['x-lw-request-id'] = requestId;
    toApp(req, nodeRes, requestId);
  };
  // the same route lookup as above, agent-token prefix removed
  return Object.assign(listener, { fastPath: (url: string) => routes[withoutQuery(splitAgentPath(url)?.path ?? url)] !== undefined });
}
