/**
 * @module The inference pipeline, the only orchestration: authenticate → parse → resolve model →
 * admit (limits) → dispatch to a deployment → relay → settle limits and record exactly one usage event
 * for every request that reached an upstream. No database I/O anywhere on this path.
 */
import { validateHeaderValue, type IncomingMessage } from 'node:http';
import type { UsageAttempt } from '../../db/schema.js';
import { logsAt } from '../../lib/log.js';
import { authenticate } from '../auth.js';
import type { GatewayDeps } from '../deps.js';
import { GatewayError, toGatewayError, type ErrorSurface } from '../errors.js';
import { parseJsonObject, readBody, sendError, sendJson, type HeaderList } from '../http/respond.js';
import type { GatewayRequest } from '../http/server/connection.js';
import type { GatewayResponse } from '../http/server/response.js';
import type { Admission } from '../limits/types.js';
import { resolveModel, type ModelKind } from '../resolve.js';
import { chooseAuto, isAutoRequest, requestNeeds, withRoutingInfo, type RoutingInfo } from '../routing/auto.js';
import type { KeyEntry, ModelEntry } from '../state/types.js';
import type { TokenUsage } from '../translate/chat/types.js';
import { costOf, estimateTextTokens } from '../usage/estimate.js';
import type { Endpoint } from '../usage/types.js';
import { dispatch, type Dispatched } from './dispatch.js';
import type { RouteRequest } from './exchange.js';
import { relayStream } from './relay.js';
import { CancelToken } from '../providers/upstream.js';

export interface InferenceRoute {
  endpoint: Endpoint;
  surface: ErrorSurface;
  kind: ModelKind;
  /** `raw`: the body's bytes as received, for a passthrough that forwards them with a few members changed. */
  parse(body: Record<string, unknown>, headers: IncomingMessage['headers'], raw?: Buffer): RouteRequest;
}

/** Completion tokens reserved when the request names no cap. */
const DEFAULT_COMPLETION_RESERVE = 1024;

function hasTokenLimits(key: KeyEntry): boolean {
  return key.limits.tpm !== null || key.limits.quotaTokens !== null || key.creditsPico !== null;
}

/**
 * What a request reserves against TPM, quota and credits before the upstream call: the route's
 * tokenizer-free prompt guess (a third of the prompt's characters, above the ~4 characters per token
 * of typical text; tokenizing every prompt would cost CPU and the tokenizer's memory on every
 * request) plus the output cap. Settlement replaces the reservation with the real counts.
 */
function reserveFor(key: KeyEntry, model: ModelEntry, rr: RouteRequest): { tokens: number; costPico: bigint } {
  if (!hasTokenLimits(key)) return { tokens: 0, costPico: 0n };
  const prompt = rr.reserveTokens();
  const completion = Math.min(rr.maxOutputTokens ?? DEFAULT_COMPLETION_RESERVE, model.maxOutput ?? Number.MAX_SAFE_INTEGER);
  const usage: TokenUsage = { promptTokens: prompt, completionTokens: completion, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  return { tokens: prompt + completion, costPico: costOf(model, usage).costPico };
}

interface Outcome {
  status: number;
  usage: TokenUsage | null;
  estimated: boolean;
  dispatched: Dispatched | null;
  ttfb: number | null;
  error: GatewayError | null;
}

export async function handleInference(
  deps: GatewayDeps,
  route: InferenceRoute,
  req: GatewayRequest,
  res: GatewayResponse,
  requestId: string,
  head: HeaderList,
): Promise<void> {
  const t0 = deps.now();
  const attempts: UsageAttempt[] = [];
  const ctl = new CancelToken();
  let key: KeyEntry | null = null;
  let model: ModelEntry | null = null;
  let rr: RouteRequest | null = null;
  let admission: Admission | null = null;
  const out: Outcome = { status: 0, usage: null, estimated: false, dispatched: null, ttfb: null, error: null };
  res.on('close', () => {
    if (!res.writableFinished) ctl.abort();
  });
  try {
    if (deps.draining.value) throw new GatewayError('shutting_down', 'The gateway is shutting down; retry on another instance.');
    const snap = deps.state.current;
    key = authenticate(snap, req.headers, t0);
    const raw = await readBody(req, deps.config.bodyLimit);
    const body = parseJsonObject(raw);
    rr = route.parse(body, req.headers, raw);
    const auto = route.kind === 'chat' && isAutoRequest(snap, rr.model) ? chooseAuto(snap, key, requestNeeds(body, rr.reserveTokens.bind(rr)), deps.health) : null;
    model = auto?.model ?? resolveModel(snap, key, rr.model, route.kind);
    // a model id may hold characters a header cannot: refused here, before any upstream call, as setHeader did
    validateHeaderValue('x-lw-routed-model', model.id);
    head.push('x-lw-routed-model', model.id);
    rr.validate?.(model);
    const reserve = reserveFor(key, model, rr);
    admission = await deps.limiter.admit({ key, estimatedTokens: reserve.tokens, estimatedCostPico: reserve.costPico });
    for (const h in admission.headers) head.push(h, admission.headers[h]!);
    const d = await dispatch(deps, rr, model, requestId, ctl, attempts);
    out.dispatched = d;
    deps.metrics.overhead.observe((d.sentAt - t0) / 1000);
    head.push('x-lw-overhead-ms', String(d.sentAt - t0), 'x-lw-provider', d.deployment.provider.name);
    if (rr.stream) await streamOut(deps, res, head, rr, d, ctl, out, t0);
    else await jsonOut(res, head, rr, d, out, t0, deps, auto && route.endpoint === 'chat' ? { model: model.id, provider: d.deployment.provider.name, reason: auto.reason } : null);
  } catch (err) {
    const ge = ctl.aborted && !(err instanceof GatewayError) ? new GatewayError('invalid_request', 'client closed the request') : toGatewayError(err);
    if (ge.code === 'internal_error') deps.log.error('unexpected error', { request_id: requestId, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    out.status = ctl.aborted ? 499 : ge.status;
    out.error = ge;
    if (ctl.aborted && rr && !out.usage && (out.dispatched !== null || attempts.at(-1)?.status === 499)) {
      // the client left while the upstream had the request (no answer read yet): bill the prompt, estimated
      out.usage = { promptTokens: rr.promptTokens(), completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
      out.estimated = true;
    }
    if (!ctl.aborted) sendError(res, ge, route.surface, head);
  } finally {
    finishRequest(deps, route, requestId, t0, key, model, rr, admission, attempts, out);
  }
}

async function jsonOut(
  res: GatewayResponse,
  head: HeaderList,
  rr: RouteRequest,
  d: Dispatched,
  out: Outcome,
  t0: number,
  deps: GatewayDeps,
  routing: RoutingInfo | null,
): Promise<void> {
  const raw = await d.upstream.readAll();
  let result;
  try {
    result = d.exchange.json(raw);
  } catch (e) {
    throw new GatewayError('upstream_error', `Provider '${d.deployment.provider.name}' returned a body the gateway could not read.`, { cause: e });
  }
  out.usage = result.usage;
  out.estimated = result.estimated === true;
  if (!out.usage && result.completionText) {
    // an upstream that reports no usage is billed from the tokenizer, never as 0 tokens
    out.usage = { promptTokens: rr.promptTokens(), completionTokens: estimateTextTokens(result.completionText()), cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
    out.estimated = true;
  }
  out.status = 200;
  out.ttfb = deps.now() - t0;
  sendJson(res, 200, routing ? withRoutingInfo(result.body, routing) : result.body, head);
}

async function streamOut(
  deps: GatewayDeps,
  res: GatewayResponse,
  head: HeaderList,
  rr: RouteRequest,
  d: Dispatched,
  ctl: CancelToken,
  out: Outcome,
  t0: number,
): Promise<void> {
  const relay = d.exchange.stream();
  head.push('content-type', 'text/event-stream; charset=utf-8', 'cache-control', 'no-cache', 'connection', 'keep-alive');
  res.writeHead(200, head);
  // the headers leave now, and every frame after them at once (no Nagle)
  res.socket?.setNoDelay(true);
  res.flushHeaders();
  const result = await relayStream(res, d.upstream, relay, () => ctl.abort(), d.deployment.provider.name, deps.now);
  out.ttfb = result.firstByteAt === null ? null : result.firstByteAt - t0;
  out.usage = relay.usage();
  out.status = result.outcome === 'completed' ? 200 : result.outcome === 'client_aborted' ? 499 : (result.error?.status ?? 502);
  out.error = result.error;
  if (!out.usage) {
    // aborted, failed, or an upstream that reports no usage: count with a real tokenizer, mark estimated
    out.usage = {
      promptTokens: rr.promptTokens(),
      completionTokens: estimateTextTokens(relay.streamedText()),
      cachedTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    };
    out.estimated = true;
  }
}

function finishRequest(
  deps: GatewayDeps,
  route: InferenceRoute,
  requestId: string,
  t0: number,
  key: KeyEntry | null,
  model: ModelEntry | null,
  rr: RouteRequest | null,
  admission: Admission | null,
  attempts: UsageAttempt[],
  out: Outcome,
): void {
  const latency = deps.now() - t0;
  const usage = out.usage;
  let cost = { costPico: 0n, unpriced: false };
  if (model && usage) cost = costOf(model, usage);
  const tokens = usage ? usage.promptTokens + usage.completionTokens : 0;
  const reached = out.dispatched !== null || attempts.length > 0;
  admission?.settle({ tokens, costPico: cost.costPico, reachedUpstream: reached });
  if (key && model && reached) {
    if (cost.unpriced && tokens > 0) {
      deps.metrics.unpriced.labels(model.id).inc();
      deps.log.warn('model has no price: cost unknown', { request_id: requestId, model: model.id });
    }
    if (out.estimated) deps.metrics.usageEstimated.inc();
    deps.usage.record({
      ts: new Date(t0),
      requestId,
      keyId: key.id,
      modelId: model.id,
      providerId: out.dispatched?.deployment.provider.id ?? null,
      endpoint: route.endpoint,
      status: out.status,
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
      cachedTokens: usage?.cachedTokens ?? 0,
      costPico: cost.costPico,
      latencyMs: latency,
      ttfbMs: out.ttfb,
      estimated: out.estimated,
      unpriced: cost.unpriced,
      attempts,
      errorCode: out.error?.code ?? null,
    });
  }
  deps.metrics.requestDone(route.endpoint, out.status, latency / 1000);
  // the request line last: below info level its fields are not even built
  if (!logsAt(deps.log, 'info')) return;
  deps.log.info('request', {
    request_id: requestId,
    endpoint: route.endpoint,
    key_id: key?.id,
    model: model?.id ?? rr?.model,
    provider: out.dispatched?.deployment.provider.name,
    status: out.status,
    stream: rr?.stream,
    latency_ms: latency,
    ttfb_ms: out.ttfb ?? undefined,
    prompt_tokens: usage?.promptTokens,
    completion_tokens: usage?.completionTokens,
    estimated: out.estimated || undefined,
    attempts: attempts.length || undefined,
    error: out.error?.code,
  });
}
