/**
 * @module The admin service contract: every admin operation, its input and its output (the `--json`
 * shapes). One implementation works on the store (`store-service.ts`); the CLI reaches it either
 * directly or through the daemon's admin API (`remote.ts`), so a command behaves the same on every path.
 */
import type { ModelCapabilities } from '../db/schema.js';

export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  tier: string;
  status: 'active' | 'revoked' | 'expired';
  models: string[] | null;
  /** Remaining prepaid balance in USD as an exact decimal string; null = no credit limit. */
  credits: string | null;
  rpm: number | null;
  tpm: number | null;
  quota_tokens: number | null;
  max_concurrent: number | null;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
}

/** `lw keys create --json`: the only place the plaintext key ever appears. */
export interface CreatedKey extends KeyView {
  key: string;
}

export interface KeyCreateInput {
  name: string;
  tier?: string;
  models?: string[];
  /** Duration like `30d`, `12h` or an ISO date. */
  expires?: string;
  /** USD decimal string. */
  credits?: string;
}

export interface KeySetInput {
  tier?: string;
  models?: string[] | null;
  credits?: string | null;
  rpm?: number | null;
  tpm?: number | null;
  quota_tokens?: number | null;
  max_concurrent?: number | null;
  expires?: string | null;
}

export interface TierView {
  id: string;
  name: string;
  rpm: number | null;
  tpm: number | null;
  quota_tokens: number | null;
  quota_period: 'day' | 'week' | 'month';
  max_concurrent: number | null;
  models: string[];
  is_default: boolean;
}

export interface TierInput {
  rpm?: number | null;
  tpm?: number | null;
  quota_tokens?: number | null;
  quota_period?: 'day' | 'week' | 'month';
  max_concurrent?: number | null;
  models?: string[];
  is_default?: boolean;
}

export type ProviderKind = 'openai' | 'anthropic';

export interface ProviderView {
  id: string;
  name: string;
  kind: ProviderKind;
  base_url: string;
  api_key_env: string | null;
  /** Whether the named environment variable is set in the process that answers (never its value). */
  api_key_present: boolean;
  headers: Record<string, string>;
  timeouts: { connectMs?: number; firstByteMs?: number; idleMs?: number };
  supports_responses: boolean;
  enabled: boolean;
}

export interface ProviderAddInput {
  name: string;
  kind?: ProviderKind;
  base_url?: string;
  api_key_env?: string | null;
  headers?: Record<string, string>;
  timeouts?: { connectMs?: number; firstByteMs?: number; idleMs?: number };
  supports_responses?: boolean;
}

export interface ProviderTestResult {
  provider: string;
  ok: boolean;
  status: number | null;
  latency_ms: number;
  models: string[];
  message: string;
}

export interface DeploymentView {
  provider: string;
  upstream_model: string;
  priority: number;
  weight: number;
}

export interface ModelView {
  id: string;
  kind: 'chat' | 'embedding';
  aliases: string[];
  deployments: DeploymentView[];
  context_window: number | null;
  max_output: number | null;
  status: 'GA' | 'Preview';
  /** USD per million tokens as exact decimal strings; null = no price. */
  price_in: string | null;
  price_out: string | null;
  price_cached_in: string | null;
  enabled: boolean;
}

export interface ModelAddInput {
  id: string;
  provider: string;
  upstream_model?: string;
  kind?: 'chat' | 'embedding';
  aliases?: string[];
  context_window?: number | null;
  max_output?: number | null;
  status?: 'GA' | 'Preview';
  price_in?: string | null;
  price_out?: string | null;
  price_cached_in?: string | null;
  priority?: number;
  weight?: number;
  /** What the model can do (`tools`, `vision`, `reasoning`, embedding `dimensions`); unknown when absent. */
  capabilities?: ModelCapabilities;
}

/** `lw models sync PROVIDER`: what the provider's `GET /models` changed. */
export interface ModelSyncResult {
  provider: string;
  /** Public ids of the models created. */
  added: string[];
  /** Public ids of existing models that got a deployment on this provider. */
  updated: string[];
  /** Upstream ids left alone: the model already has a deployment on this provider, or the name is unusable. */
  skipped: string[];
}

/** `lw models add`: `added` says whether a new model was created or a deployment joined an existing one. */
export interface ModelAdded extends ModelView {
  added: 'model' | 'deployment';
}

export interface ProviderRemoved {
  removed: string;
  /** Models that lost their last deployment with this provider (still listed, no longer routable). */
  orphaned_models: string[];
}

export interface UsageQuery {
  key?: string;
  model?: string;
  /** ISO date or a duration back from now (`7d`, `24h`). */
  since?: string;
  by?: 'day' | 'model' | 'key';
}

export interface UsageRow {
  /** The group: a day (YYYY-MM-DD), a model id, or a key name. */
  group: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cost: string;
}

export interface UsageReport {
  totals: { requests: number; prompt_tokens: number; completion_tokens: number; cached_tokens: number; cost: string };
  rows: UsageRow[];
  by: 'day' | 'model' | 'key';
  since: string;
}

/** The whole admin surface. Methods throw AdminError (with an HTTP-like status) on bad input. */
export interface AdminService {
  keys: {
    create(input: KeyCreateInput): Promise<CreatedKey>;
    list(): Promise<KeyView[]>;
    show(ref: string): Promise<KeyView>;
    revoke(ref: string): Promise<KeyView>;
    rotate(ref: string): Promise<CreatedKey>;
    set(ref: string, input: KeySetInput): Promise<KeyView>;
  };
  tiers: {
    list(): Promise<TierView[]>;
    create(name: string, input: TierInput): Promise<TierView>;
    set(name: string, input: TierInput): Promise<TierView>;
    delete(name: string): Promise<{ deleted: string }>;
  };
  providers: {
    add(input: ProviderAddInput): Promise<ProviderView>;
    list(): Promise<ProviderView[]>;
    remove(name: string): Promise<ProviderRemoved>;
    test(name: string): Promise<ProviderTestResult>;
  };
  models: {
    list(): Promise<ModelView[]>;
    /** On an existing id this adds another deployment (next priority) and any new aliases. */
    add(input: ModelAddInput): Promise<ModelAdded>;
    alias(id: string, alias: string): Promise<ModelView>;
    remove(id: string): Promise<{ removed: string }>;
    enable(id: string): Promise<ModelView>;
    disable(id: string): Promise<ModelView>;
    /** Imports the models a provider lists in its `GET /models`, enriched from the built-in catalog. */
    sync(provider: string): Promise<ModelSyncResult>;
  };
  usage: {
    report(query: UsageQuery): Promise<UsageReport>;
  };
}

/** An admin failure a person can act on; `status` follows HTTP (400 bad input, 404 unknown, 409 duplicate). */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 401 | 404 | 409 | 500 | 502 | 503 = 400,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}
