/**
 * @module The attempt loop: tries a model's deployments in order until one answers 2xx. Before the
 * first byte, a connect error, timeout, 429 or 5xx moves on to the next deployment (one retry with
 * backoff when there is only one); failing deployments cool down. Every attempt is recorded.
 */
import type { UsageAttempt } from '../../db/schema.js';
import type { GatewayDeps } from '../deps.js';
import { GatewayError } from '../errors.js';
import { isAbortError, providerKey, type CancelToken, type Timeouts, type UpstreamResponse } from '../providers/upstream.js';
import type { DeploymentEntry, ModelEntry, ProviderEntry } from '../state/types.js';
import type { Exchange, RouteRequest } from './exchange.js';
import { upstreamHttpError } from './upstream-error.js';

export interface Dispatched {
  deployment: DeploymentEntry;
  exchange: Exchange;
  upstream: UpstreamResponse;
  /** When the request left for the upstream that answered (for overhead metrics). */
  sentAt: number;
}

export function upstreamHeaders(p: ProviderEntry, extra: Record<string, string> | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', ...p.headers, ...extra };
  const key = providerKey(p, env);
  if (key) {
    if (p.kind === 'anthropic') h['x-api-key'] = key;
    else h['authorization'] = `Bearer ${key}`;
  }
  if (p.kind === 'anthropic' && !h['anthropic-version']) h['anthropic-version'] = '2023-06-01';
  return h;
}

function timeoutsFor(p: ProviderEntry, defaults: Timeouts): Timeouts {
  return {
    connectMs: p.timeouts.connectMs ?? defaults.connectMs,
    firstByteMs: p.timeouts.firstByteMs ?? defaults.firstByteMs,
    idleMs: p.timeouts.idleMs ?? defaults.idleMs,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function dispatch(
  deps: GatewayDeps,
  rr: RouteRequest,
  model: ModelEntry,
  requestId: string,
  cancel: CancelToken,
  attempts: UsageAttempt[],
): Promise<Dispatched> {
  const order = deps.health.order(model.deployments);
  const single = order.length === 1;
  const maxAttempts = single ? 2 : Math.min(order.length, 4);
  let lastErr: GatewayError | null = null;
  for (let i = 0; i < maxAttempts; i++) {
    const d = order[i % order.length]!;
    if (single && i > 0) {
      // one retry of the only deployment, and only for failures a retry can fix quickly
      if (!lastErr || (lastErr.code !== 'upstream_unreachable' && lastErr.code !== 'upstream_error')) break;
      await sleep(100);
    }
    if (cancel.aborted) throw new GatewayError('invalid_request', 'The client closed the request.');
    const exchange = rr.exchange(d, model, requestId);
    const started = deps.now();
    let err: GatewayError;
    let status: number;
    try {
      const upstream = await deps.pools.request({
        provider: d.provider,
        path: exchange.path,
        body: exchange.body,
        headers: upstreamHeaders(d.provider, exchange.headers, deps.env),
        cancel,
        timeouts: timeoutsFor(d.provider, deps.config.timeouts),
      });
      if (upstream.status >= 200 && upstream.status < 300) {
        const ms = deps.now() - started;
        deps.health.success(d, ms);
        attempts.push({ provider: d.provider.name, upstreamModel: d.upstreamModel, status: upstream.status, ms });
        return { deployment: d, exchange, upstream, sentAt: started };
      }
      const text = (await upstream.readAll().catch(() => Buffer.alloc(0))).toString('utf8');
      err = upstreamHttpError(d.provider.name, upstream.status, text, upstream.header('retry-after'));
      status = upstream.status;
      deps.log.debug('upstream error body', { request_id: requestId, provider: d.provider.name, status, body: text.slice(0, 2000) });
    } catch (e) {
      if (isAbortError(e)) {
        // the client left while this attempt was under way: the upstream may already have the prompt
        attempts.push({ provider: d.provider.name, upstreamModel: d.upstreamModel, status: 499, error: 'client_closed', ms: deps.now() - started });
        throw e;
      }
      if (!(e instanceof GatewayError)) throw e;
      err = e;
      status = e.status;
    }
    attempts.push({ provider: d.provider.name, upstreamModel: d.upstreamModel, status, error: err.code, ms: deps.now() - started });
    deps.metrics.upstreamErrors.labels(d.provider.name, err.code).inc();
    if (!err.retryable) throw err;
    deps.health.failure(d);
    lastErr = err;
  }
  if (!single && lastErr) {
    if (lastErr.code === 'upstream_timeout') {
      throw new GatewayError('upstream_timeout', `Every deployment of '${model.id}' failed; the last one timed out. ${lastErr.message}`);
    }
    throw new GatewayError('no_upstream_available', `No deployment of '${model.id}' is available right now (${attempts.length} attempts). Last error: ${lastErr.message}`);
  }
  throw lastErr ?? new GatewayError('no_upstream_available', `No deployment of '${model.id}' is available.`);
}
