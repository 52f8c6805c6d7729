/** Snapshot, key and health builders for the router's unit tests (no daemon, no store). */
import type { DeploymentEntry, KeyEntry, ModelEntry, ProviderEntry, Snapshot } from '../../../src/daemon/state/types.js';
import type { HealthView } from '../../../src/daemon/routing/score.js';

export function provider(name: string): ProviderEntry {
  return { id: `prov_${name}`, name, kind: 'openai', baseUrl: `http://${name}.test/v1`, apiKeyEnv: null, headers: {}, timeouts: {}, supportsResponses: false, enabled: true };
}

export interface ModelSpec extends Partial<Omit<ModelEntry, 'deployments' | 'priceInMicros' | 'priceOutMicros'>> {
  id: string;
  /** Provider names, one deployment each (priority in order). */
  on?: string[];
  /** USD per million tokens, in and out. */
  price?: [number, number] | null;
}

export function model(spec: ModelSpec): ModelEntry {
  const { on = ['p1'], price = [1, 2], ...rest } = spec;
  const deployments: DeploymentEntry[] = on.map((p, i) => ({ provider: provider(p), upstreamModel: spec.id, priority: i, weight: 1 }));
  return {
    kind: 'chat',
    aliases: [],
    contextWindow: 128_000,
    maxOutput: 16_384,
    status: 'GA',
    priceCachedInMicros: null,
    capabilities: { tools: true, vision: false, reasoning: false },
    enabled: true,
    createdAt: 0,
    ...rest,
    deployments,
    priceInMicros: price === null ? null : BigInt(Math.round(price[0] * 1e6)),
    priceOutMicros: price === null ? null : BigInt(Math.round(price[1] * 1e6)),
  };
}

export function snapshot(models: ModelEntry[]): Snapshot {
  const byId = new Map(models.map((m) => [m.id, m]));
  const aliases = new Map<string, ModelEntry>();
  const lowercase = new Map<string, ModelEntry>();
  for (const m of models) {
    lowercase.set(m.id.toLowerCase(), m);
    for (const a of m.aliases) {
      aliases.set(a, m);
      lowercase.set(a.toLowerCase(), m);
    }
  }
  return { revision: 1, keysByHash: new Map(), keysById: new Map(), models: byId, aliases, lowercase, providers: new Map() };
}

export function key(modelGlobs: string[] = []): KeyEntry {
  return {
    id: 'key_1',
    name: 'k',
    prefix: 'lw-x',
    status: 'active',
    expiresAt: null,
    tierId: 'tier_1',
    tierName: 'beta',
    limits: { rpm: null, tpm: null, quotaTokens: null, quotaPeriod: 'month', maxConcurrent: null },
    modelGlobs,
    creditsPico: null,
  };
}

/** Health by `provider/upstreamModel`: which deployments cool down and their latency in ms. */
export function health(opts: { cooling?: string[]; latency?: Record<string, number> } = {}): HealthView {
  const k = (d: DeploymentEntry) => `${d.provider.name}/${d.upstreamModel}`;
  return {
    isCooling: (d) => (opts.cooling ?? []).includes(k(d)),
    latency: (d) => opts.latency?.[k(d)] ?? 0,
  };
}
