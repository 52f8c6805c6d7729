/** @module Store rows → the admin views (the `--json` shapes of src/admin/types.ts). Pure. */
import type { KeyRow } from '../db/queries/keys.js';
import type { DeploymentWithProvider, ModelRow } from '../db/queries/models.js';
import type { ProviderRow } from '../db/queries/providers.js';
import type { TierRow } from '../db/queries/tiers.js';
import { formatPicoUsd, formatPrice } from '../lib/money.js';
import type { KeyView, ModelView, ProviderKind, ProviderView, TierView } from './types.js';

/** A key row with its tier's name. */
export type KeyFlat = KeyRow & { tierName: string };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function keyStatus(row: Pick<KeyRow, 'status' | 'expiresAt'>, now: Date = new Date()): KeyView['status'] {
  if (row.status === 'revoked') return 'revoked';
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

export function keyView(row: KeyFlat, now: Date = new Date()): KeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    tier: row.tierName,
    status: keyStatus(row, now),
    models: row.models,
    credits: row.creditsPico == null ? null : formatPicoUsd(row.creditsPico),
    rpm: row.rpm,
    tpm: row.tpm,
    quota_tokens: row.quotaTokens,
    max_concurrent: row.maxConcurrent,
    expires_at: iso(row.expiresAt),
    created_at: row.createdAt.toISOString(),
    last_used_at: iso(row.lastUsedAt),
  };
}

export function tierView(row: TierRow): TierView {
  return {
    id: row.id,
    name: row.name,
    rpm: row.rpm,
    tpm: row.tpm,
    quota_tokens: row.quotaTokens,
    quota_period: row.quotaPeriod as TierView['quota_period'],
    max_concurrent: row.maxConcurrent,
    models: row.models,
    is_default: row.isDefault,
  };
}

export function providerView(row: ProviderRow, env: NodeJS.ProcessEnv): ProviderView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as ProviderKind,
    base_url: row.baseUrl,
    api_key_env: row.apiKeyEnv,
    api_key_present: row.apiKeyEnv ? Boolean(env[row.apiKeyEnv]) : false,
    headers: row.headers,
    timeouts: row.timeouts,
    supports_responses: row.supportsResponses,
    enabled: row.enabled,
  };
}

export function modelView(row: ModelRow, deployments: DeploymentWithProvider[], aliases: string[]): ModelView {
  return {
    id: row.id,
    kind: row.kind as ModelView['kind'],
    aliases: [...aliases].sort(),
    deployments: deployments.map((d) => ({
      provider: d.providerName,
      upstream_model: d.deployment.upstreamModel,
      priority: d.deployment.priority,
      weight: d.deployment.weight,
    })),
    context_window: row.contextWindow,
    max_output: row.maxOutput,
    status: row.status as ModelView['status'],
    price_in: formatPrice(row.priceInMicros),
    price_out: formatPrice(row.priceOutMicros),
    price_cached_in: formatPrice(row.priceCachedInMicros),
    enabled: row.enabled,
  };
}
