import { describe, expect, it } from 'vitest';
import { createMemoryLimiter } from '../../../src/daemon/limits/memory.js';
import { limiterContract } from './contract.js';
import { fakeClock, keyEntry } from './fixtures.js';

limiterContract('memory', async (clock) => createMemoryLimiter({ clock }));

describe('memory limiter', () => {
  it('decides synchronously inside admit: admissions started in one tick are already counted', async () => {
    const clock = fakeClock();
    const l = createMemoryLimiter({ clock });
    const key = keyEntry({ rpm: 3 });
    const promises = [l.admit({ key, estimatedTokens: 0, estimatedCostPico: 0n })];
    // before awaiting anything, the first admission already holds its slot
    expect((await l.state(key)).rpmRemaining).toBe(2);
    promises.push(...[1, 2, 3].map(() => l.admit({ key, estimatedTokens: 0, estimatedCostPico: 0n })));
    const results = await Promise.allSettled(promises);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  });

  it('reports quota before credits before rate limits', async () => {
    const clock = fakeClock();
    const l = createMemoryLimiter({ clock });
    const key = keyEntry({ rpm: 1, quotaTokens: 10 }, { creditsPico: 5n });
    (await l.admit({ key, estimatedTokens: 10, estimatedCostPico: 5n })).settle({ tokens: 10, costPico: 5n });
    const err = await l.admit({ key, estimatedTokens: 1, estimatedCostPico: 1n }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'quota_exceeded' });
    const k2 = { ...key, limits: { ...key.limits, quotaTokens: null } };
    expect(await l.admit({ key: k2, estimatedTokens: 1, estimatedCostPico: 1n }).catch((e: unknown) => e)).toMatchObject({ status: 402 });
  });
});
