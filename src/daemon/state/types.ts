/**
 * @module What the request path reads: an immutable snapshot of keys, tiers, providers and models,
 * rebuilt from the store when an admin change is announced. No request ever touches the database.
 */
import type { ModelCapabilities } from '../../db/schema.js';

export interface LimitSet {
  /** Requests per minute; null = unlimited. */
  rpm: number | null;
  /** Tokens per minute; null = unlimited. */
  tpm: number | null;
  /** Tokens per quota period; null = unlimited. */
  quotaTokens: number | null;
  quotaPeriod: 'day' | 'week' | 'month';
  maxConcurrent: number | null;
}

export interface KeyEntry {
  id: string;
  name: string;
  prefix: string;
  status: 'active' | 'revoked';
  /** Epoch ms, or null for keys that never expire. */
  expiresAt: number | null;
  tierId: string;
  tierName: string;
  /** Effective limits: the key's overrides over its tier's. */
  limits: LimitSet;
  /** Effective model globs: the key's list when set, else the tier's; empty = every model. */
  modelGlobs: string[];
  /** Prepaid balance (pico-dollars) as stored when the snapshot was built; null = no credit limit. */
  creditsPico: bigint | null;
}

export interface ProviderEntry {
  id: string;
  name: string;
  kind: 'openai' | 'anthropic';
  baseUrl: string;
  apiKeyEnv: string | null;
  headers: Record<string, string>;
  timeouts: { connectMs?: number; firstByteMs?: number; idleMs?: number };
  supportsResponses: boolean;
  enabled: boolean;
}

export interface DeploymentEntry {
  provider: ProviderEntry;
  upstreamModel: string;
  priority: number;
  weight: number;
}

export interface ModelEntry {
  id: string;
  kind: 'chat' | 'embedding';
  aliases: string[];
  /** Sorted by priority; only deployments whose provider is enabled. */
  deployments: DeploymentEntry[];
  contextWindow: number | null;
  maxOutput: number | null;
  status: 'GA' | 'Preview';
  /** Micro-dollars per million tokens; null = unpriced. */
  priceInMicros: bigint | null;
  priceOutMicros: bigint | null;
  priceCachedInMicros: bigint | null;
  capabilities: ModelCapabilities;
  enabled: boolean;
  createdAt: number;
}

export interface Snapshot {
  revision: number;
  keysByHash: ReadonlyMap<string, KeyEntry>;
  keysById: ReadonlyMap<string, KeyEntry>;
  /** Exact ids. */
  models: ReadonlyMap<string, ModelEntry>;
  /** Aliases → model. */
  aliases: ReadonlyMap<string, ModelEntry>;
  /** Lower-cased ids and aliases → model. */
  lowercase: ReadonlyMap<string, ModelEntry>;
  providers: ReadonlyMap<string, ProviderEntry>;
}
