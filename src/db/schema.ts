/**
 * @module The store: Drizzle schema for tiers, keys, providers, models (deployments, aliases),
 * usage events and their daily rollups. Migrations in src/db/migrations are generated from this
 * file by drizzle-kit and never edited by hand.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

export const tiers = pgTable('tiers', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** Requests per minute; null = unlimited. */
  rpm: integer('rpm'),
  /** Tokens (prompt + completion) per minute; null = unlimited. */
  tpm: integer('tpm'),
  /** Token quota per `quota_period`; null = unlimited. */
  quotaTokens: bigint('quota_tokens', { mode: 'number' }),
  /** 'day' | 'week' | 'month' (calendar periods in UTC). */
  quotaPeriod: text('quota_period').notNull().default('month'),
  maxConcurrent: integer('max_concurrent'),
  /** Model globs (`gpt-*`); empty = every model. */
  models: text('models').array().notNull().default(sql`'{}'::text[]`),
  /** New keys get this tier when none is named. Exactly one row should be true. */
  isDefault: boolean('is_default').notNull().default(false),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull().unique(),
    /** `lw-` + the first 8 characters: safe to show and log, used to find a key by prefix. */
    prefix: text('prefix').notNull(),
    /** sha256 hex of the plaintext key; the plaintext is never stored. */
    hash: text('hash').notNull().unique(),
    tierId: text('tier_id')
      .notNull()
      .references(() => tiers.id),
    /** Per-key model allowlist (globs), narrowing the tier's; null = the tier's list. */
    models: text('models').array(),
    /** Per-key overrides of the tier's limits; null = inherit. */
    rpm: integer('rpm'),
    tpm: integer('tpm'),
    quotaTokens: bigint('quota_tokens', { mode: 'number' }),
    maxConcurrent: integer('max_concurrent'),
    /** Prepaid balance in pico-dollars (1e-12 USD); null = no credit limit. */
    creditsPico: bigint('credits_pico', { mode: 'bigint' }),
    /** 'active' | 'revoked'. */
    status: text('status').notNull().default('active'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** Updated in batches by the usage writer, not per request. */
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('api_keys_prefix_idx').on(t.prefix)],
);

export const providers = pgTable('providers', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** Wire format: 'openai' (any OpenAI-compatible server) | 'anthropic' (native Messages API). */
  kind: text('kind').notNull(),
  baseUrl: text('base_url').notNull(),
  /** Name of the environment variable holding the provider's API key; the key itself is never stored. */
  apiKeyEnv: text('api_key_env'),
  /** Extra static headers sent upstream (no secrets: use apiKeyEnv). */
  headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
  /** Per-provider timeouts in ms: { connect, firstByte, idle }; missing = daemon defaults. */
  timeouts: jsonb('timeouts').$type<{ connectMs?: number; firstByteMs?: number; idleMs?: number }>().notNull().default({}),
  /** The upstream speaks the OpenAI Responses API natively (passthrough for /v1/responses). */
  supportsResponses: boolean('supports_responses').notNull().default(false),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const models = pgTable('models', {
  /** Public id clients send as `model`, e.g. `claude-sonnet-4.6`. */
  id: text('id').primaryKey(),
  /** 'chat' | 'embedding'. */
  kind: text('kind').notNull().default('chat'),
  contextWindow: integer('context_window'),
  maxOutput: integer('max_output'),
  /** 'GA' | 'Preview'. */
  status: text('status').notNull().default('GA'),
  /** Prices in micro-dollars per million tokens (= pico-dollars per token); null = unknown price. */
  priceInMicros: bigint('price_in_micros', { mode: 'bigint' }),
  priceOutMicros: bigint('price_out_micros', { mode: 'bigint' }),
  priceCachedInMicros: bigint('price_cached_in_micros', { mode: 'bigint' }),
  /** Capability flags: { tools, vision, reasoning, dimensions: {min,max} } used by routing and validation. */
  capabilities: jsonb('capabilities').$type<ModelCapabilities>().notNull().default({}),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export interface ModelCapabilities {
  tools?: boolean;
  vision?: boolean;
  reasoning?: boolean;
  /** Embedding models whose output size can be chosen. */
  dimensions?: { min: number; max: number; default?: number };
}

export const modelDeployments = pgTable(
  'model_deployments',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    providerId: text('provider_id')
      .notNull()
      .references(() => providers.id, { onDelete: 'cascade' }),
    /** The model name the upstream knows (sent as `model` upstream). */
    upstreamModel: text('upstream_model').notNull(),
    /** Tried in ascending order; equal priorities share load by weight. */
    priority: integer('priority').notNull().default(0),
    weight: integer('weight').notNull().default(1),
  },
  (t) => [uniqueIndex('model_deployments_unique').on(t.modelId, t.providerId, t.upstreamModel)],
);

export const modelAliases = pgTable('model_aliases', {
  alias: text('alias').primaryKey(),
  modelId: text('model_id')
    .notNull()
    .references(() => models.id, { onDelete: 'cascade' }),
});

/**
 * An append-only log, written a batch at a time with COPY (usage-batch.ts) and read only by time range
 * (the partial first day of a report). So no surrogate key and no b-trees, whose upkeep was most of
 * the cost of a row on the embedded store: one BRIN index on `ts`, which batches write in time order.
 * `request_id` names the request an event belongs to.
 */
export const usageEvents = pgTable(
  'usage_events',
  {
    ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull(),
    requestId: text('request_id').notNull(),
    /** No foreign key: usage outlives deleted keys and models. */
    keyId: text('key_id').notNull(),
    modelId: text('model_id').notNull(),
    providerId: text('provider_id'),
    /** 'chat' | 'responses' | 'messages' | 'embeddings'. */
    endpoint: text('endpoint').notNull(),
    status: integer('status').notNull(),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    cachedTokens: integer('cached_tokens').notNull().default(0),
    costPico: bigint('cost_pico', { mode: 'bigint' }).notNull().default(sql`0`),
    latencyMs: integer('latency_ms').notNull(),
    ttfbMs: integer('ttfb_ms'),
    /** Tokens were counted by lw's tokenizer (aborted stream or an upstream without usage). */
    estimated: boolean('estimated').notNull().default(false),
    /** The model had no price: cost is unknown, not zero. */
    unpriced: boolean('unpriced').notNull().default(false),
    /** Every upstream attempt: [{ provider, status, error?, ms }]. */
    attempts: jsonb('attempts').$type<UsageAttempt[]>(),
    errorCode: text('error_code'),
  },
  (t) => [index('usage_events_ts_brin').using('brin', t.ts)],
);

export interface UsageAttempt {
  provider: string;
  upstreamModel: string;
  status: number;
  error?: string;
  ms: number;
}

/** Per key, model and UTC day; serves quota checks and `lw usage` without scanning raw events. */
export const usageDaily = pgTable(
  'usage_daily',
  {
    keyId: text('key_id').notNull(),
    day: text('day').notNull(),
    modelId: text('model_id').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
    cachedTokens: bigint('cached_tokens', { mode: 'number' }).notNull().default(0),
    costPico: bigint('cost_pico', { mode: 'bigint' }).notNull().default(sql`0`),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.day, t.modelId] }), index('usage_daily_day_idx').on(t.day)],
);

/** A single counter bumped by every admin change; daemons reload when it moves (plus NOTIFY on Postgres). */
export const meta = pgTable('meta', {
  key: text('key').primaryKey(),
  value: bigint('value', { mode: 'number' }).notNull(),
});
