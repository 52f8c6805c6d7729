/**
 * @module The router's scorer, shared by `model: "auto"` and `POST /api/models/route`: which models fit
 * a request (filters) and how the fitting ones rank (score). Pure: reads a snapshot and a health view.
 *
 * Filters — a model is a candidate when it is enabled, of the wanted kind (chat unless asked), has at
 * least one deployment, is allowed by the key's globs, and meets every need: tools → `capabilities.tools`
 * true or unknown; vision / reasoning → known true; a prompt estimate → context window unknown or larger;
 * `minContext` → context window known and at least that; `providers` → a deployment on one of them;
 * `status` → equal. A candidate whose every deployment is cooling down is unhealthy and never ranked.
 *
 * Score — four levels 0–9, written as the four decimals of the score in the order `prefer` gives them,
 * so sorting by score is sorting by level, most important first:
 * - health: 9 × the share of deployments not cooling down;
 * - speed: recent latency (EWMA, best healthy deployment) in doubling buckets: ≤ 250 ms → 9,
 *   ≤ 500 ms → 8, ≤ 1 s → 7 … > 32 s → 1; never measured → 5, so an untried model competes with
 *   known ones that take 2–4 s (and gets tried when those are slower);
 * - status: GA 9, Preview 0;
 * - cost: input + output USD per million tokens: free → 9, ≤ $0.50 → 8, ≤ $1 → 7 … > $32 → 1;
 *   unpriced → 0.
 * Orders: `fastest` (what `auto` uses) health, speed, status, cost; `cheapest` health, cost, status,
 * speed; `balanced` health, mean of speed and cost, status, speed. Equal scores: cheaper, then faster,
 * then id.
 */
import { formatPrice } from '../../lib/money.js';
import { modelAllowed } from '../resolve.js';
import type { DeploymentEntry, KeyEntry, ModelEntry, Snapshot } from '../state/types.js';

export interface Needs {
  /** Default 'chat'. */
  kind?: 'chat' | 'embedding';
  tools?: boolean;
  vision?: boolean;
  reasoning?: boolean;
  /** Estimated prompt tokens: the context window must be unknown or larger. */
  promptTokens?: number;
  /** The context window must be known and at least this. */
  minContext?: number;
  /** Provider names: the model must have a deployment on one of them. */
  providers?: readonly string[];
  status?: 'GA' | 'Preview';
}

/** What the scorer reads of deployment health (`DeploymentHealth` satisfies it). */
export interface HealthView {
  isCooling(d: DeploymentEntry): boolean;
  /** Recent latency in ms; 0 = never measured. */
  latency(d: DeploymentEntry): number;
}

export type Prefer = 'fastest' | 'cheapest' | 'balanced';

export interface Levels {
  health: number;
  speed: number;
  status: number;
  cost: number;
}

export interface Ranked {
  model: ModelEntry;
  /** 0–1, four decimals: the levels in the order of `prefer`. */
  score: number;
  levels: Levels;
  /** Deployments (of the wanted providers) not cooling down, in priority order. */
  healthy: DeploymentEntry[];
  /** Best recent latency of a healthy deployment; null = never measured. */
  latencyMs: number | null;
  reason: string;
}

export interface Candidates {
  /** Models the key may use, of the wanted kind, with deployments. */
  allowed: ModelEntry[];
  /** Of those, the ones meeting every need. */
  capable: ModelEntry[];
}

const UNKNOWN_SPEED = 5;

/** Speed level of a latency in ms (null = never measured). */
export function speedLevel(ms: number | null): number {
  if (ms === null) return UNKNOWN_SPEED;
  return Math.min(9, Math.max(1, 9 - Math.max(0, Math.ceil(Math.log2(ms / 250)))));
}

/** Input + output micro-dollars per million tokens; null when the model has no price at all. */
export function blendedPrice(m: ModelEntry): bigint | null {
  if (m.priceInMicros === null && m.priceOutMicros === null) return null;
  return (m.priceInMicros ?? 0n) + (m.priceOutMicros ?? 0n);
}

/** Cost level of a blended price (micro-dollars per million tokens; null = unpriced). */
export function costLevel(micros: bigint | null): number {
  if (micros === null) return 0;
  if (micros === 0n) return 9;
  const usd = Number(micros) / 1e6;
  return Math.min(8, Math.max(1, 8 - Math.max(0, Math.ceil(Math.log2(usd / 0.5)))));
}

function fits(m: ModelEntry, needs: Needs): boolean {
  const c = m.capabilities;
  if (needs.tools && c.tools === false) return false;
  if (needs.vision && c.vision !== true) return false;
  if (needs.reasoning && c.reasoning !== true) return false;
  if (needs.promptTokens !== undefined && m.contextWindow !== null && m.contextWindow <= needs.promptTokens) return false;
  if (needs.minContext !== undefined && (m.contextWindow === null || m.contextWindow < needs.minContext)) return false;
  if (needs.status && m.status !== needs.status) return false;
  if (needs.providers?.length && !m.deployments.some((d) => needs.providers!.includes(d.provider.name))) return false;
  return true;
}

/** The models this key may use for the wanted kind, and those of them that meet every need. */
export function candidates(snap: Snapshot, key: KeyEntry, needs: Needs): Candidates {
  const kind = needs.kind ?? 'chat';
  const allowed: ModelEntry[] = [];
  const capable: ModelEntry[] = [];
  for (const m of snap.models.values()) {
    if (!m.enabled || m.kind !== kind || m.deployments.length === 0 || !modelAllowed(key.modelGlobs, m)) continue;
    allowed.push(m);
    if (fits(m, needs)) capable.push(m);
  }
  return { allowed, capable };
}

const ORDER: Record<Prefer, (l: Levels) => number[]> = {
  fastest: (l) => [l.health, l.speed, l.status, l.cost],
  cheapest: (l) => [l.health, l.cost, l.status, l.speed],
  balanced: (l) => [l.health, Math.round((l.speed + l.cost) / 2), l.status, l.speed],
};

function usd(micros: bigint | null): string {
  return micros === null ? 'unpriced' : `$${formatPrice(micros)} per 1M in+out`;
}

function describe(r: Omit<Ranked, 'reason' | 'score'>, total: number): string {
  const speed = r.latencyMs === null ? 'latency not measured yet' : `~${Math.round(r.latencyMs)} ms recent latency`;
  const health = `${r.healthy.length}/${total} deployment${total === 1 ? '' : 's'} healthy`;
  return `${health}, ${speed}, ${r.model.status}, ${usd(blendedPrice(r.model))}`;
}

/** Scores one candidate, or null when every (wanted) deployment is cooling down. */
export function scoreModel(m: ModelEntry, needs: Needs, health: HealthView, prefer: Prefer): Ranked | null {
  const wanted = needs.providers?.length ? m.deployments.filter((d) => needs.providers!.includes(d.provider.name)) : m.deployments;
  const healthy = wanted.filter((d) => !health.isCooling(d));
  if (healthy.length === 0) return null;
  let best = Infinity;
  for (const d of healthy) {
    const ms = health.latency(d);
    if (ms > 0 && ms < best) best = ms;
  }
  const latencyMs = best === Infinity ? null : best;
  const levels: Levels = {
    health: Math.round((9 * healthy.length) / wanted.length),
    speed: speedLevel(latencyMs),
    status: m.status === 'GA' ? 9 : 0,
    cost: costLevel(blendedPrice(m)),
  };
  const digits = ORDER[prefer](levels);
  const score = digits.reduce((s, d, i) => s + d * 10 ** (3 - i), 0) / 10_000;
  const partial = { model: m, levels, healthy, latencyMs };
  return { ...partial, score, reason: describe(partial, wanted.length) };
}

function tieBreak(a: Ranked, b: Ranked): number {
  const pa = blendedPrice(a.model);
  const pb = blendedPrice(b.model);
  if (pa !== pb) {
    if (pa === null) return 1;
    if (pb === null) return -1;
    return pa < pb ? -1 : 1;
  }
  const la = a.latencyMs ?? Infinity;
  const lb = b.latencyMs ?? Infinity;
  if (la !== lb) return la < lb ? -1 : 1;
  return a.model.id < b.model.id ? -1 : a.model.id > b.model.id ? 1 : 0;
}

/** Healthy candidates, best first. */
export function rankModels(models: readonly ModelEntry[], needs: Needs, health: HealthView, prefer: Prefer = 'fastest'): Ranked[] {
  const out: Ranked[] = [];
  for (const m of models) {
    const r = scoreModel(m, needs, health, prefer);
    if (r) out.push(r);
  }
  return out.sort((a, b) => b.score - a.score || tieBreak(a, b));
}
