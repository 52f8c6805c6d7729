import { describe, expect, it } from 'vitest';
import { candidates, costLevel, rankModels, scoreModel, speedLevel } from '../../../src/daemon/routing/score.js';
import { health, key, model, snapshot } from './fixtures.js';

describe('router levels', () => {
  it('buckets latency by doubling from 250 ms; never measured counts as 2–4 s', () => {
    expect([100, 250, 251, 500, 501, 1000, 2000, 4000, 8000, 16_000, 32_000, 40_000].map(speedLevel)).toEqual([9, 9, 8, 8, 7, 7, 6, 5, 4, 3, 2, 1]);
    expect(speedLevel(null)).toBe(5);
  });

  it('buckets input+output price by doubling from $0.50; free is best, unpriced is last', () => {
    const micros = (usd: number) => BigInt(Math.round(usd * 1e6));
    expect([0.1, 0.5, 0.75, 1, 12.5, 18, 100].map((u) => costLevel(micros(u)))).toEqual([8, 8, 7, 7, 3, 2, 1]);
    expect(costLevel(0n)).toBe(9);
    expect(costLevel(null)).toBe(0);
  });
});

describe('scoreModel', () => {
  const m = model({ id: 'a', on: ['p1', 'p2'], price: [0.15, 0.6] });

  it('writes the levels as the score decimals, in the order of the preference', () => {
    const h = health({ latency: { 'p1/a': 300 } });
    expect(scoreModel(m, {}, h, 'fastest')).toMatchObject({ score: 0.9897, levels: { health: 9, speed: 8, status: 9, cost: 7 }, latencyMs: 300 });
    expect(scoreModel(m, {}, h, 'cheapest')?.score).toBe(0.9798);
    expect(scoreModel(m, {}, h, 'balanced')?.score).toBe(0.9898);
  });

  it('counts cooling deployments against health and explains itself', () => {
    const r = scoreModel(m, {}, health({ cooling: ['p1/a'] }), 'fastest')!;
    expect(r.levels.health).toBe(5);
    expect(r.healthy.map((d) => d.provider.name)).toEqual(['p2']);
    expect(r.reason).toBe('1/2 deployments healthy, latency not measured yet, GA, $0.75 per 1M in+out');
    expect(scoreModel(m, {}, health({ cooling: ['p1/a', 'p2/a'] }), 'fastest')).toBeNull();
  });

  it('only looks at the wanted providers when some are named', () => {
    const r = scoreModel(m, { providers: ['p2'] }, health({ cooling: ['p1/a'] }), 'fastest')!;
    expect(r.levels.health).toBe(9);
    expect(r.healthy.map((d) => d.provider.name)).toEqual(['p2']);
  });
});

describe('rankModels', () => {
  const fast = model({ id: 'fast', price: [5, 15] });
  const cheap = model({ id: 'cheap', price: [0.1, 0.4] });
  const preview = model({ id: 'preview', price: [0.1, 0.4], status: 'Preview' });
  const h = health({ latency: { 'p1/fast': 200, 'p1/cheap': 1900, 'p1/preview': 150 } });

  it('fastest: speed beats status and price', () => {
    expect(rankModels([cheap, fast, preview], {}, h, 'fastest').map((r) => r.model.id)).toEqual(['fast', 'preview', 'cheap']);
  });

  it('cheapest: price first, then GA over Preview', () => {
    expect(rankModels([fast, preview, cheap], {}, h, 'cheapest').map((r) => r.model.id)).toEqual(['cheap', 'preview', 'fast']);
  });

  it('equal scores fall back to price, then latency, then id', () => {
    const a = model({ id: 'b-model', price: [1, 1] });
    const b = model({ id: 'a-model', price: [1, 1] });
    const c = model({ id: 'c-model', price: [0.9, 1] });
    expect(rankModels([a, b, c], {}, health(), 'fastest').map((r) => r.model.id)).toEqual(['c-model', 'a-model', 'b-model']);
  });
});

describe('candidates', () => {
  const models = [
    model({ id: 'gpt', capabilities: { tools: true, vision: true, reasoning: false }, contextWindow: 128_000 }),
    model({ id: 'small', capabilities: { tools: false }, contextWindow: 8_000 }),
    model({ id: 'unknown', capabilities: {}, contextWindow: null }),
    model({ id: 'o', capabilities: { tools: true, reasoning: true }, status: 'Preview', on: ['p2'] }),
    model({ id: 'emb', kind: 'embedding' }),
    model({ id: 'off', enabled: false }),
    model({ id: 'nodeps', on: [] }),
  ];
  const snap = snapshot(models);
  const ids = (needs: Parameters<typeof candidates>[2], globs: string[] = []) => candidates(snap, key(globs), needs).capable.map((m) => m.id);

  it('keeps enabled chat models with deployments the key may use', () => {
    expect(candidates(snap, key(), {}).allowed.map((m) => m.id)).toEqual(['gpt', 'small', 'unknown', 'o']);
    expect(ids({}, ['g*', 'unk*'])).toEqual(['gpt', 'unknown']);
    expect(ids({ kind: 'embedding' })).toEqual(['emb']);
  });

  it('tools: true or unknown; vision and reasoning: known true', () => {
    expect(ids({ tools: true })).toEqual(['gpt', 'unknown', 'o']);
    expect(ids({ vision: true })).toEqual(['gpt']);
    expect(ids({ reasoning: true })).toEqual(['o']);
  });

  it('a prompt needs room (unknown windows pass); min_context needs a known window', () => {
    expect(ids({ promptTokens: 9_000 })).toEqual(['gpt', 'unknown', 'o']);
    expect(ids({ minContext: 100_000 })).toEqual(['gpt', 'o']);
  });

  it('filters by provider and status', () => {
    expect(ids({ providers: ['p2'] })).toEqual(['o']);
    expect(ids({ status: 'Preview' })).toEqual(['o']);
    expect(ids({ status: 'GA', providers: ['p1', 'nope'] })).toEqual(['gpt', 'small', 'unknown']);
  });
});
