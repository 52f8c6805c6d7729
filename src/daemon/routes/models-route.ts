/**
 * @module POST /api/models/route: asks the router directly (seed 003, adapted to lw): which models this
 * key may use fit the filters, best first, scored like `model: "auto"` (`routing/score.ts`).
 * Body (all optional): `providers` (provider names), `capabilities` (tools, vision, reasoning,
 * embedding), `min_context`, `status` (GA | Preview), `prefer` (fastest | cheapest | balanced; default
 * balanced), `limit` (1–100, default 5). Unknown fields are a 400 naming them.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { formatPrice } from '../../lib/money.js';
import type { DaemonEnv } from '../env.js';
import { GatewayError } from '../errors.js';
import { candidates, rankModels, type Needs, type Ranked } from '../routing/score.js';

const CAPABILITIES = ['tools', 'vision', 'reasoning', 'embedding'] as const;

const routeQuery = z
  .object({
    providers: z.array(z.string().min(1)).optional(),
    capabilities: z.array(z.enum(CAPABILITIES)).optional(),
    min_context: z.number().int().positive().optional(),
    status: z.enum(['GA', 'Preview']).optional(),
    prefer: z.enum(['fastest', 'cheapest', 'balanced']).default('balanced'),
    limit: z.number().int().min(1).max(100).default(5),
  })
  .strict();

export type RouteQuery = z.input<typeof routeQuery>;

export function routeCandidate(r: Ranked) {
  const m = r.model;
  return {
    id: m.id,
    object: 'model' as const,
    kind: m.kind,
    /** The provider that would serve it now (first healthy deployment). */
    provider: r.healthy[0]!.provider.name,
    providers: [...new Set(m.deployments.map((d) => d.provider.name))],
    score: r.score,
    reason: r.reason,
    context_window: m.contextWindow,
    max_output_tokens: m.maxOutput,
    status: m.status,
    capabilities: { tools: m.capabilities.tools ?? null, vision: m.capabilities.vision ?? null, reasoning: m.capabilities.reasoning ?? null },
    /** USD per million tokens, exact decimal strings; null = no price. */
    prices: { input: formatPrice(m.priceInMicros), output: formatPrice(m.priceOutMicros), cached_input: formatPrice(m.priceCachedInMicros) },
    latency_ms: r.latencyMs === null ? null : Math.round(r.latencyMs),
  };
}

export type RouteCandidate = ReturnType<typeof routeCandidate>;

function parseQuery(body: unknown): z.output<typeof routeQuery> {
  const parsed = routeQuery.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.join('.') || null;
  const allowed = 'providers, capabilities, min_context, status, prefer, limit';
  const what = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')} (allowed: ${allowed})` : issue.message;
  throw new GatewayError('invalid_request', `Invalid route query${param ? ` at '${param}'` : ''}: ${what}`, { param });
}

export function modelsRouteRoutes(): Hono<DaemonEnv> {
  const app = new Hono<DaemonEnv>();
  app.post('/api/models/route', async (c) => {
    let raw: unknown;
    const text = await c.req.text();
    try {
      raw = text.trim() ? JSON.parse(text) : {};
    } catch (e) {
      throw new GatewayError('invalid_json', `The request body is not valid JSON: ${(e as Error).message}`);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new GatewayError('invalid_json', 'The request body must be a JSON object.');
    const q = parseQuery(raw);
    const caps = new Set(q.capabilities ?? []);
    const needs: Needs = {
      kind: caps.has('embedding') ? 'embedding' : 'chat',
      tools: caps.has('tools'),
      vision: caps.has('vision'),
      reasoning: caps.has('reasoning'),
      ...(q.min_context !== undefined ? { minContext: q.min_context } : {}),
      ...(q.providers ? { providers: q.providers } : {}),
      ...(q.status ? { status: q.status } : {}),
    };
    const deps = c.get('deps');
    const { capable } = candidates(deps.state.current, c.get('key'), needs);
    const ranked = rankModels(capable, needs, deps.health, q.prefer);
    return c.json({ object: 'list' as const, prefer: q.prefer, data: ranked.slice(0, q.limit).map(routeCandidate) });
  });
  return app;
}
