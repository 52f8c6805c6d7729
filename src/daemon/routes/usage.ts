/** @module GET /v1/usage: the calling key's tokens and requests this period, limits, remaining, reset. */
import { Hono } from 'hono';
import { formatPicoUsd } from '../../lib/money.js';
import type { DaemonEnv } from '../env.js';

export interface UsageResponse {
  object: 'usage';
  key: { id: string; name: string; prefix: string; tier: string };
  period: { type: 'day' | 'week' | 'month'; start: string; end: string; resets_at: string };
  tokens: { used: number; limit: number | null; remaining: number | null };
  requests: { used: number };
  rate_limits: { rpm: number | null; rpm_remaining: number | null; rpm_resets_at: string | null; tpm: number | null; tpm_remaining: number | null };
  max_concurrent: number | null;
  credits: { remaining: string | null };
}

export function usageRoutes(): Hono<DaemonEnv> {
  const app = new Hono<DaemonEnv>();
  app.get('/v1/usage', async (c) => {
    const key = c.get('key');
    const st = await c.get('deps').limiter.state(key);
    const l = key.limits;
    const body: UsageResponse = {
      object: 'usage',
      key: { id: key.id, name: key.name, prefix: key.prefix, tier: key.tierName },
      period: {
        type: l.quotaPeriod,
        start: new Date(st.periodStart).toISOString(),
        end: new Date(st.periodEnd).toISOString(),
        resets_at: new Date(st.periodEnd).toISOString(),
      },
      tokens: { used: st.tokensUsed, limit: l.quotaTokens, remaining: l.quotaTokens === null ? null : Math.max(0, l.quotaTokens - st.tokensUsed) },
      requests: { used: st.requestsUsed },
      rate_limits: {
        rpm: l.rpm,
        rpm_remaining: st.rpmRemaining,
        rpm_resets_at: st.rpmResetAt === null ? null : new Date(st.rpmResetAt).toISOString(),
        tpm: l.tpm,
        tpm_remaining: st.tpmRemaining,
      },
      max_concurrent: l.maxConcurrent,
      credits: { remaining: st.creditsPico === null ? null : formatPicoUsd(st.creditsPico) },
    };
    return c.json(body);
  });
  return app;
}
