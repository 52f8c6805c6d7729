/**
 * Quota, model allowlist and prepaid credits through the real daemon, on PGlite and Postgres: a used-up
 * monthly token quota → 403 quota_exceeded saying when it resets; a model outside the tier's globs →
 * 403 model_not_allowed naming it; a spent balance → 402 insufficient_credits, and a top-up with
 * `keys set --credits` lets the key through again within a second. Also `GET /v1/usage` for a key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_USAGE } from '../../helpers/mock-upstream.js';
import { backends } from '../../helpers/pg.js';
import type { UsageResponse } from '../../../src/daemon/routes/usage.js';
import { chat, expectError, MODEL, nextMonthUtc, pollUntil, startRig, type Rig } from './setup.js';

const TOKENS = MOCK_USAGE.prompt_tokens + MOCK_USAGE.completion_tokens;

describe.each(backends())('quota, allowlist and credits on %s', (backend) => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({ backend });
    // a second model outside `gpt-*`, and a pricier one for the credit tests
    await rig.gw.admin.models.add({ id: 'claude-haiku', provider: 'mock', upstream_model: 'mock-model', price_in: '1', price_out: '1' });
  });
  afterAll(async () => {
    await rig?.close();
  });

  const ok = async (key: string, body = {}) => {
    const res = await chat(rig.gw.baseURL, key, body);
    expect(res.status, await res.clone().text()).toBe(200);
    await res.arrayBuffer();
  };

  it('ends a used-up monthly token quota in a 403 that says it is exhausted and when it resets', async () => {
    const { gw, up } = rig;
    const tier = await gw.admin.tiers.create('small', { quota_tokens: 30 });
    expect(tier.quota_period).toBe('month');
    const created = await gw.admin.keys.create({ name: 'quota-dave', tier: 'small' });
    const before = up.requests.length;
    // 18 tokens each (MOCK_USAGE): the first two fit (18, then 36 ≥ 30), the third is refused
    await ok(created.key, { max_tokens: 5 });
    await ok(created.key, { max_tokens: 5 });
    const resetAt = nextMonthUtc();
    const refused = await chat(gw.baseURL, created.key, { max_tokens: 5 });
    const body = await expectError(refused, 403, 'quota_exceeded');
    expect(body.error.type).toBe('insufficient_quota');
    expect(body.error.message).toContain('exhausted');
    expect(body.error.message).toContain(`${2 * TOKENS} of 30 tokens used this month`);
    expect(body.error.message).toContain(`resets at ${resetAt}`);
    // stays refused, and the refusals never reached the upstream or the usage log
    await expectError(await chat(gw.baseURL, created.key), 403, 'quota_exceeded');
    expect(up.requests.length - before).toBe(2);
    const report = await pollUntil(() => gw.admin.usage.report({ key: 'quota-dave', by: 'key' }), (r) => r.totals.requests >= 2);
    expect(report.totals).toMatchObject({ requests: 2, prompt_tokens: 2 * MOCK_USAGE.prompt_tokens, completion_tokens: 2 * MOCK_USAGE.completion_tokens });
  });

  it('refuses a model outside the tier allowlist with a 403 naming the model', async () => {
    const { gw, up } = rig;
    await gw.admin.tiers.create('gpt-only', { models: ['gpt-*'] });
    const { key } = await gw.admin.keys.create({ name: 'globs-erin', tier: 'gpt-only' });
    await ok(key);
    const before = up.requests.length;
    const body = await expectError(await chat(gw.baseURL, key, { model: 'claude-haiku' }), 403, 'model_not_allowed');
    expect(body.error.message).toContain("'claude-haiku'");
    expect(body.error.param).toBe('model');
    expect(up.requests.length).toBe(before);
    // /v1/models lists only what the key may use
    const list = (await (await fetch(`${gw.baseURL}/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: Array<{ id: string }> };
    const ids = list.data.map((m) => m.id);
    expect(ids).toContain(MODEL);
    expect(ids).not.toContain('claude-haiku');
  });

  it('answers 402 insufficient_credits once the balance is spent, and a top-up works within a second', async () => {
    const { gw, up } = rig;
    // $0.000010 = 10,000,000 pico-USD. At $1/M in and out a MOCK_USAGE answer costs 18,000,000: the first
    // request is admitted (worst case ~8 prompt + 1 output token = 9,000,000), the balance goes negative.
    const created = await gw.admin.keys.create({ name: 'credits-frank', credits: '0.000010' });
    expect(created.credits).toBe('0.00001');
    const body = { model: 'claude-haiku', max_tokens: 1 };
    await ok(created.key, body);
    const before = up.requests.length;
    const refused = await expectError(await chat(gw.baseURL, created.key, body), 402, 'insufficient_credits');
    expect(refused.error.message).toMatch(/credit balance exhausted/i);
    expect(up.requests.length).toBe(before);
    // the store's balance follows once the usage writer has flushed: 10,000,000 − 18,000,000 pico
    const shown = await pollUntil(() => gw.admin.keys.show('credits-frank'), (k) => k.credits !== '0.00001');
    expect(shown.credits).toBe('-0.000008');

    await gw.admin.keys.set('credits-frank', { credits: '0.001' });
    const status = await pollUntil(
      async () => {
        const r = await chat(gw.baseURL, created.key, body);
        await r.arrayBuffer();
        return r.status;
      },
      (s) => s === 200,
      1_000,
    );
    expect(status).toBe(200);
    // $0.001 − one request at 18,000,000 pico
    const usage = await pollUntil(
      async () => (await (await fetch(`${gw.baseURL}/usage`, { headers: { authorization: `Bearer ${created.key}` } })).json()) as UsageResponse,
      (u) => u.credits.remaining === '0.000982',
    );
    expect(usage.credits.remaining).toBe('0.000982');
  });

  it('GET /v1/usage reports tokens and requests this period, limit, remaining, reset time and rpm', async () => {
    const { gw } = rig;
    await gw.admin.tiers.create('meter', { rpm: 5, quota_tokens: 1000, max_concurrent: 3 });
    const created = await gw.admin.keys.create({ name: 'usage-gina', tier: 'meter' });
    await ok(created.key);
    await ok(created.key, { stream: true });
    const res = await fetch(`${gw.baseURL}/usage`, { headers: { authorization: `Bearer ${created.key}` } });
    expect(res.status).toBe(200);
    const u = (await res.json()) as UsageResponse;
    const now = new Date();
    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
    expect(u).toMatchObject({
      object: 'usage',
      key: { id: created.id, name: 'usage-gina', prefix: created.prefix, tier: 'meter' },
      period: { type: 'month', start: monthStart, end: nextMonthUtc(), resets_at: nextMonthUtc() },
      tokens: { used: 2 * TOKENS, limit: 1000, remaining: 1000 - 2 * TOKENS },
      requests: { used: 2 },
      rate_limits: { rpm: 5, rpm_remaining: 3, tpm: null, tpm_remaining: null },
      max_concurrent: 3,
      credits: { remaining: null },
    });
    expect(Date.parse(u.rate_limits.rpm_resets_at!)).toBeGreaterThan(Date.now() - 1_000);
    // without a key it is a 401, not someone else's usage
    const anon = await fetch(`${gw.baseURL}/usage`);
    expect(anon.status).toBe(401);
  });
});
