/**
 * @module The operational endpoints, answered by the listener itself like the inference routes:
 * `GET /healthz`, `GET /readyz` (ready unless draining and the store answers) and `GET /metrics` (this
 * process's registry, or a `--workers` worker's text for the whole cluster). HEAD gets the same headers.
 * Load balancers and scrapers poll these; answering them here lets the Hono app (hono, its node
 * adapter, node's fetch classes, the models, usage and admin routes: about 2 MB of heap) load only when
 * a request for the API it serves arrives (see listener.ts).
 */
import type { GatewayDeps } from '../deps.js';
import { toGatewayError } from '../errors.js';
import { sendError, sendJson, type HeaderList } from './respond.js';
import type { GatewayResponse } from './server/response.js';

export interface OpsOptions {
  /** Whether the store answers (readiness). */
  ready(): Promise<boolean>;
  /** What GET /metrics answers instead of this process's registry (a `--workers` worker: the cluster's). */
  metrics?: () => Promise<{ text: string; contentType: string }>;
}

/** One endpoint: writes the whole answer (`head`: the response's headers so far, see HeaderList). */
export type OpsRoute = (res: GatewayResponse, head: HeaderList) => Promise<void>;

/** The endpoints by path, for GET and HEAD. */
export function opsRoutes(deps: GatewayDeps, opts: OpsOptions): Map<string, OpsRoute> {
  return new Map<string, OpsRoute>([
    ['/healthz', async (res, head) => sendJson(res, 200, '{"status":"ok"}', head)],
    [
      '/readyz',
      async (res, head) => {
        const ok = !deps.draining.value && (await opts.ready().catch(() => false));
        sendJson(res, ok ? 200 : 503, ok ? '{"status":"ready"}' : '{"status":"unavailable"}', head);
      },
    ],
    [
      '/metrics',
      async (res, head) => {
        deps.metrics.usageQueue.set(deps.usage.depth());
        deps.metrics.inflight.set(deps.inflight.count);
        const { text, contentType } = opts.metrics
          ? await opts.metrics()
          : { text: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType };
        head.push('content-type', contentType, 'content-length', String(Buffer.byteLength(text)));
        res.writeHead(200, head);
        res.end(text);
      },
    ],
  ]);
}

/** Runs an endpoint; a failure is logged (5xx) and answered in the OpenAI error shape, as the app's were. */
export async function runOps(route: OpsRoute, deps: GatewayDeps, res: GatewayResponse, head: HeaderList, requestId: string): Promise<void> {
  const base = head.length;
  try {
    await route(res, head);
  } catch (err) {
    const ge = toGatewayError(err);
    if (ge.status >= 500) deps.log.error('request failed', { request_id: requestId, error: (err as Error).message });
    head.length = base;
    sendError(res, ge, 'openai', head);
  }
}
