/**
 * @module The built-in catalog of known model ids (data in `catalog.json`, validated once at load):
 * lookup by id, alias or upstream name, and enrichment of models discovered by `lw models sync`.
 */
import { z } from 'zod';
import data from './catalog.json' with { type: 'json' };
import type { ModelCapabilities } from '../../db/schema.js';

/** A price per million tokens in USD as an exact decimal string (see `src/lib/money.ts`), or null when unknown. */
const priceSchema = z
  .string()
  .regex(/^\d+(\.\d{1,6})?$/, 'a decimal USD amount with at most 6 decimals')
  .nullable();

const positiveInt = z.number().int().positive();
const tokensSchema = positiveInt.nullable();

const entrySchema = z
  .object({
    id: z.string().min(1),
    kind: z.enum(['chat', 'embedding']),
    vendor: z.string().min(1),
    context_window: tokensSchema,
    max_output: tokensSchema,
    status: z.enum(['GA', 'Preview']),
    capabilities: z.object({
      tools: z.boolean(),
      vision: z.boolean(),
      reasoning: z.boolean(),
      dimensions: z.object({ min: positiveInt, max: positiveInt, default: positiveInt }).optional(),
    }),
    prices: z.object({ input: priceSchema, output: priceSchema, cached_input: priceSchema }),
    aliases: z.array(z.string().min(1)),
    upstream_names: z.array(z.string().min(1)),
    notes: z.string().optional(),
  })
  .strict();

export type CatalogEntry = Readonly<z.infer<typeof entrySchema>>;
export type CatalogPrices = CatalogEntry['prices'];

/** What `lw models sync` stores for one model found in a provider's `GET /v1/models`. */
export interface DiscoveredModel {
  /** Public id: the catalog id when the upstream name is that model, else the upstream name itself. */
  id: string;
  /** The name to send upstream (the input, unchanged). */
  upstream_model: string;
  /** The catalog entry the metadata came from, or null for an unknown model. */
  catalog_id: string | null;
  /**
   * `exact`: the upstream name is the catalog model (id, alias, vendor prefix, listed upstream name);
   * `snapshot`: a dated or preview variant of it (own id, metadata copied, prices unknown);
   * `none`: not in the catalog (kind guessed from the name, nothing else known).
   */
  match: 'exact' | 'snapshot' | 'none';
  kind: 'chat' | 'embedding';
  context_window: number | null;
  max_output: number | null;
  status: 'GA' | 'Preview';
  prices: CatalogPrices;
  capabilities: ModelCapabilities;
  aliases: string[];
}

function load(): readonly CatalogEntry[] {
  const parsed = z.object({ models: z.array(entrySchema) }).safeParse(data);
  if (!parsed.success) {
    throw new Error(`src/daemon/providers/catalog.json is malformed: ${z.prettifyError(parsed.error)}`);
  }
  return Object.freeze(parsed.data.models.map((m) => Object.freeze(m)));
}

const ENTRIES = load();

/** Lower-cased id, alias and upstream name → entry (the first claim wins; the unit tests forbid duplicates). */
const BY_NAME: ReadonlyMap<string, CatalogEntry> = (() => {
  const map = new Map<string, CatalogEntry>();
  for (const entry of ENTRIES) {
    for (const name of [entry.id, ...entry.aliases, ...entry.upstream_names]) {
      const key = name.toLowerCase();
      if (!map.has(key)) map.set(key, entry);
    }
  }
  return map;
})();

/** Every known model, in catalog order. */
export function catalog(): readonly CatalogEntry[] {
  return ENTRIES;
}

/** Names an upstream uses for the same model: vendor prefixes (`openai/gpt-4o`) and tags (`:free`, `:latest`). */
function sameModelNames(name: string): string[] {
  const out = [name];
  const slash = name.lastIndexOf('/');
  const bare = slash >= 0 ? name.slice(slash + 1) : name;
  if (bare !== name) out.push(bare);
  const colon = bare.indexOf(':');
  if (colon > 0) out.push(bare.slice(0, colon));
  return out;
}

/**
 * Variants of one model: dated snapshots (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`),
 * Anthropic's dashed versions (`claude-opus-4-1` → `claude-opus-4.1`) and Gemini previews.
 */
function snapshotNames(name: string): string[] {
  const out: string[] = [];
  let base = name.replace(/-\d{4}-\d{2}-\d{2}$/, '').replace(/-20\d{6}$/, '');
  if (base !== name) out.push(base);
  const claude = /^(claude-(?:opus|sonnet|haiku)-\d+)-(\d)$/.exec(base);
  if (claude) {
    base = `${claude[1]}.${claude[2]}`;
    out.push(base);
  }
  const gemini = /^(gemini-[\d.]+-(?:pro|flash|flash-lite))-(?:preview|exp)(?:-[\d-]+)?$/.exec(base);
  if (gemini?.[1]) out.push(gemini[1]);
  return out;
}

function lookup(names: string[]): CatalogEntry | undefined {
  for (const name of names) {
    const hit = BY_NAME.get(name);
    if (hit) return hit;
  }
  return undefined;
}

function resolve(idOrUpstreamName: string): { entry: CatalogEntry; exact: boolean } | undefined {
  const name = idOrUpstreamName.trim().toLowerCase();
  if (!name) return undefined;
  const same = sameModelNames(name);
  const exact = lookup(same);
  if (exact) return { entry: exact, exact: true };
  const snapshot = lookup(same.flatMap(snapshotNames));
  return snapshot ? { entry: snapshot, exact: false } : undefined;
}

/**
 * The catalog entry for a public id, alias or upstream name (case-insensitive).
 * @example findCatalogEntry('openai/gpt-4o')?.id // 'gpt-4o'
 * @example findCatalogEntry('claude-sonnet-4-5-20250929')?.id // 'claude-sonnet-4.5'
 */
export function findCatalogEntry(idOrUpstreamName: string): CatalogEntry | undefined {
  return resolve(idOrUpstreamName)?.entry;
}

/** Kind of a model the catalog does not know, from its name. */
export function guessKind(upstreamId: string): 'chat' | 'embedding' {
  return /embed/i.test(upstreamId) ? 'embedding' : 'chat';
}

function capabilitiesOf(entry: CatalogEntry): ModelCapabilities {
  const { tools, vision, reasoning, dimensions } = entry.capabilities;
  return dimensions ? { tools, vision, reasoning, dimensions: { ...dimensions } } : { tools, vision, reasoning };
}

const NO_PRICES: CatalogPrices = { input: null, output: null, cached_input: null };

/**
 * Catalog metadata for a model a provider lists in `GET /v1/models`.
 * Two upstream names can yield the same `id` (`gpt-4o` listed by two providers); prefer `match: 'exact'`.
 * @example enrichDiscoveredModel('anthropic/claude-sonnet-4.5').id // 'claude-sonnet-4.5'
 * @example enrichDiscoveredModel('nomic-embed-text').kind // 'embedding'
 */
export function enrichDiscoveredModel(upstreamId: string): DiscoveredModel {
  const hit = resolve(upstreamId);
  if (!hit) {
    return {
      id: upstreamId,
      upstream_model: upstreamId,
      catalog_id: null,
      match: 'none',
      kind: guessKind(upstreamId),
      context_window: null,
      max_output: null,
      status: 'GA',
      prices: { ...NO_PRICES },
      capabilities: {},
      aliases: [],
    };
  }
  const { entry, exact } = hit;
  return {
    id: exact ? entry.id : upstreamId.slice(upstreamId.lastIndexOf('/') + 1),
    upstream_model: upstreamId,
    catalog_id: entry.id,
    match: exact ? 'exact' : 'snapshot',
    kind: entry.kind,
    context_window: entry.context_window,
    max_output: entry.max_output,
    status: entry.status,
    prices: exact ? { ...entry.prices } : { ...NO_PRICES },
    capabilities: capabilitiesOf(entry),
    aliases: exact ? [...entry.aliases] : [],
  };
}
