/**
 * @module Builds the request path's Snapshot from the store in one read-only, repeatable-read
 * transaction (the revision and the rows it describes come from the same instant).
 */
import type { Db } from '../../db/client.js';
import { listKeyRows } from '../../db/queries/keys.js';
import type { KeyRow } from '../../db/queries/keys.js';
import { readRevision } from '../../db/queries/meta.js';
import { listAliases, listDeployments, listModels } from '../../db/queries/models.js';
import type { DeploymentWithProvider, ModelRow } from '../../db/queries/models.js';
import { listProviders } from '../../db/queries/providers.js';
import type { ProviderRow } from '../../db/queries/providers.js';
import { listTiers } from '../../db/queries/tiers.js';
import type { TierRow } from '../../db/queries/tiers.js';
import type { KeyEntry, LimitSet, ModelEntry, ProviderEntry, Snapshot } from './types.js';

export function providerEntry(p: ProviderRow): ProviderEntry {
  return {
    id: p.id,
    name: p.name,
    kind: p.kind === 'anthropic' ? 'anthropic' : 'openai',
    baseUrl: p.baseUrl,
    apiKeyEnv: p.apiKeyEnv,
    headers: p.headers,
    timeouts: p.timeouts,
    supportsResponses: p.supportsResponses,
    enabled: p.enabled,
  };
}

/** The key's own limits where set, else its tier's. */
export function effectiveLimits(key: KeyRow, tier: TierRow): LimitSet {
  return {
    rpm: key.rpm ?? tier.rpm,
    tpm: key.tpm ?? tier.tpm,
    quotaTokens: key.quotaTokens ?? tier.quotaTokens,
    quotaPeriod: tier.quotaPeriod === 'day' || tier.quotaPeriod === 'week' ? tier.quotaPeriod : 'month',
    maxConcurrent: key.maxConcurrent ?? tier.maxConcurrent,
  };
}

export function keyEntry(key: KeyRow, tier: TierRow): KeyEntry {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    status: key.status === 'active' ? 'active' : 'revoked',
    expiresAt: key.expiresAt ? key.expiresAt.getTime() : null,
    tierId: tier.id,
    tierName: tier.name,
    limits: effectiveLimits(key, tier),
    modelGlobs: key.models && key.models.length > 0 ? key.models : tier.models,
    creditsPico: key.creditsPico,
  };
}

function modelEntry(
  m: ModelRow,
  deployments: DeploymentWithProvider[],
  aliases: string[],
  providers: ReadonlyMap<string, ProviderEntry>,
): ModelEntry {
  return {
    id: m.id,
    kind: m.kind === 'embedding' ? 'embedding' : 'chat',
    aliases,
    deployments: deployments
      .map((d) => ({ d: d.deployment, provider: providers.get(d.deployment.providerId) }))
      .filter((x): x is { d: DeploymentWithProvider['deployment']; provider: ProviderEntry } => !!x.provider?.enabled)
      .sort(
        (a, b) =>
          a.d.priority - b.d.priority || b.d.weight - a.d.weight || a.provider.name.localeCompare(b.provider.name),
      )
      .map(({ d, provider }) => ({
        provider,
        upstreamModel: d.upstreamModel,
        priority: d.priority,
        weight: d.weight,
      })),
    contextWindow: m.contextWindow,
    maxOutput: m.maxOutput,
    status: m.status === 'Preview' ? 'Preview' : 'GA',
    priceInMicros: m.priceInMicros,
    priceOutMicros: m.priceOutMicros,
    priceCachedInMicros: m.priceCachedInMicros,
    capabilities: m.capabilities,
    enabled: m.enabled,
    createdAt: m.createdAt.getTime(),
  };
}

function groupBy<T>(items: T[], keyOf: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * Reads everything the request path needs. `providers` is keyed by provider id; disabled providers are
 * listed there but dropped from every model's deployments. Disabled models stay in the maps (the
 * request path answers them with a clear error). The lowercase map prefers ids over aliases.
 * @example const snap = await loadSnapshot(store.db); snap.keysByHash.get(hashApiKey(key));
 */
export async function loadSnapshot(db: Db): Promise<Snapshot> {
  return db.transaction(
    async (tx) => {
      const revision = await readRevision(tx);
      const tierRows = await listTiers(tx);
      const keyRows = await listKeyRows(tx);
      const providerRows = await listProviders(tx);
      const modelRows = await listModels(tx);
      const deploymentRows = await listDeployments(tx);
      const aliasRows = await listAliases(tx);

      const tiersById = new Map(tierRows.map((t) => [t.id, t]));
      const keysByHash = new Map<string, KeyEntry>();
      const keysById = new Map<string, KeyEntry>();
      for (const k of keyRows) {
        const tier = tiersById.get(k.tierId);
        if (!tier) continue;
        const entry = keyEntry(k, tier);
        keysByHash.set(k.hash, entry);
        keysById.set(k.id, entry);
      }

      const providers = new Map(providerRows.map((p) => [p.id, providerEntry(p)]));
      const depsByModel = groupBy(deploymentRows, (d) => d.deployment.modelId);
      const aliasesByModel = groupBy(aliasRows, (a) => a.modelId);
      const models = new Map<string, ModelEntry>();
      const aliases = new Map<string, ModelEntry>();
      const lowercase = new Map<string, ModelEntry>();
      for (const m of modelRows) {
        const names = (aliasesByModel.get(m.id) ?? []).map((a) => a.alias);
        const entry = modelEntry(m, depsByModel.get(m.id) ?? [], names, providers);
        models.set(m.id, entry);
        for (const a of names) aliases.set(a, entry);
      }
      for (const entry of models.values()) lowercase.set(entry.id.toLowerCase(), entry);
      for (const [alias, entry] of aliases) {
        if (!lowercase.has(alias.toLowerCase())) lowercase.set(alias.toLowerCase(), entry);
      }

      return { revision, keysByHash, keysById, models, aliases, lowercase, providers };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}
