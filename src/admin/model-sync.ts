/**
 * @module `lw models sync PROVIDER`: the provider's `GET <base_url>/models` (fetched like `lw providers
 * test`, with its key) imported into the store, each id enriched from the built-in catalog. A new
 * model gets the catalog's public id when the upstream name is exactly a catalog model (else the
 * upstream name), its kind, context, max output, status, prices, capabilities and the catalog aliases
 * nobody uses yet; a model that exists already gets a deployment on this provider when it has none.
 * Runs inside the caller's transaction; `capabilities` validation for `models add` lives here too.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import * as modelsQ from '../db/queries/models.js';
import type { ProviderRow } from '../db/queries/providers.js';
import type { ModelCapabilities } from '../db/schema.js';
import { enrichDiscoveredModel, type DiscoveredModel } from '../daemon/providers/catalog.js';
import { parsePricePerMillion } from '../lib/money.js';
import { testProvider } from './provider-test.js';
import type { ModelSyncResult } from './types.js';
import { AdminError } from './types.js';

const positiveInt = z.number().int().positive();
const capabilitiesSchema = z
  .object({
    tools: z.boolean().optional(),
    vision: z.boolean().optional(),
    reasoning: z.boolean().optional(),
    dimensions: z
      .object({ min: positiveInt, max: positiveInt, default: positiveInt.optional() })
      .strict()
      .refine((d) => d.min <= d.max && (d.default === undefined || (d.default >= d.min && d.default <= d.max)), 'need min ≤ default ≤ max')
      .optional(),
  })
  .strict();

/** Validates `capabilities` of `models add` (undefined stays undefined, null = none known). */
export function optCapabilities(value: unknown): ModelCapabilities | undefined {
  if (value === undefined) return undefined;
  if (value === null) return {};
  const parsed = capabilitiesSchema.safeParse(value);
  if (parsed.success) return parsed.data as ModelCapabilities;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? `.${issue.path.join('.')}` : '';
  throw new AdminError(`bad capabilities${where}: ${issue.message} (e.g. {"tools": true, "vision": false})`);
}

/** Same rule as `assertLabel`: 1–128 printable characters, no spaces. */
const LABEL = /^[^\s\p{C}]{1,128}$/u;

/** The ids a provider lists, or a 502 AdminError saying why they could not be listed. */
export async function listProviderModels(p: ProviderRow, env: NodeJS.ProcessEnv, fetchImpl: typeof fetch): Promise<string[]> {
  const r = await testProvider(p, env, fetchImpl);
  if (!r.ok) throw new AdminError(`cannot list the models of provider '${p.name}': ${r.message}`, 502);
  return r.models;
}

const MATCH_ORDER: Record<DiscoveredModel['match'], number> = { exact: 0, snapshot: 1, none: 2 };

const price = (usd: string | null): bigint | null => (usd === null ? null : parsePricePerMillion(usd));
const newId = (kind: string) => `${kind}_${randomBytes(8).toString('hex')}`;

/**
 * Adds what `upstreamIds` bring to the store for provider `p` (exact catalog matches first, so the
 * catalog id goes to the canonical upstream name when a provider lists several names of one model).
 */
export async function applySync(tx: Db, p: ProviderRow, upstreamIds: readonly string[]): Promise<ModelSyncResult> {
  const result: ModelSyncResult = { provider: p.name, added: [], updated: [], skipped: [] };
  const [models, aliases, deployments] = await Promise.all([modelsQ.listModels(tx), modelsQ.listAliases(tx), modelsQ.listDeployments(tx)]);
  /** Lower-cased ids and aliases → model id (names are unique ignoring case). */
  const owners = new Map<string, string>();
  for (const m of models) owners.set(m.id.toLowerCase(), m.id);
  for (const a of aliases) owners.set(a.alias.toLowerCase(), a.modelId);
  const onProvider = new Set(deployments.filter((d) => d.deployment.providerId === p.id).map((d) => d.deployment.modelId));
  const nextPriority = new Map<string, number>();
  for (const d of deployments) {
    const id = d.deployment.modelId;
    nextPriority.set(id, Math.max(nextPriority.get(id) ?? 0, d.deployment.priority + 1));
  }

  const found = [...new Set(upstreamIds)].map(enrichDiscoveredModel).sort((a, b) => MATCH_ORDER[a.match] - MATCH_ORDER[b.match]);
  for (const d of found) {
    if (!LABEL.test(d.id) || !LABEL.test(d.upstream_model)) {
      result.skipped.push(d.upstream_model);
      continue;
    }
    const owner = owners.get(d.id.toLowerCase());
    if (owner !== undefined && onProvider.has(owner)) {
      result.skipped.push(d.upstream_model);
      continue;
    }
    const modelId = owner ?? d.id;
    if (owner === undefined) {
      await modelsQ.insertModel(tx, {
        id: modelId,
        kind: d.kind,
        status: d.status,
        contextWindow: d.context_window,
        maxOutput: d.max_output,
        priceInMicros: price(d.prices.input),
        priceOutMicros: price(d.prices.output),
        priceCachedInMicros: price(d.prices.cached_input),
        capabilities: d.capabilities,
      });
      owners.set(modelId.toLowerCase(), modelId);
      for (const alias of d.aliases) {
        if (owners.has(alias.toLowerCase()) || !LABEL.test(alias)) continue;
        await modelsQ.insertAlias(tx, alias, modelId);
        owners.set(alias.toLowerCase(), modelId);
      }
      result.added.push(modelId);
    } else {
      result.updated.push(modelId);
    }
    await modelsQ.insertDeployment(tx, {
      id: newId('dep'),
      modelId,
      providerId: p.id,
      upstreamModel: d.upstream_model,
      priority: nextPriority.get(modelId) ?? 0,
      weight: 1,
    });
    onProvider.add(modelId);
    nextPriority.set(modelId, (nextPriority.get(modelId) ?? 0) + 1);
  }
  return result;
}
