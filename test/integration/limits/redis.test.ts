/**
 * The Redis limiter against a real Redis (LW_TEST_REDIS_URL): the shared Limiter contract, plus what only
 * a shared store shows — two limiter instances (two daemons) sharing limits exactly, leases of a daemon
 * that died, SETNX seeding across instances, and keys that expire.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { GatewayError } from '../../../src/daemon/errors.js';
import { createRedisLimiter } from '../../../src/daemon/limits/redis.js';
import type { Limiter } from '../../../src/daemon/limits/types.js';
import { limiterContract, settled } from '../../unit/limits/contract.js';
import { fakeClock, keyEntry, USD } from '../../unit/limits/fixtures.js';

const URL = process.env['LW_TEST_REDIS_URL'];
if (!URL) console.warn('[lw tests] LW_TEST_REDIS_URL is unset: Redis limiter tests are SKIPPED.');
const prefixes: string[] = [];
const newPrefix = (): string => {
  const p = `lwtest:${randomBytes(5).toString('hex')}:`;
  prefixes.push(p);
  return p;
};

afterAll(async () => {
  if (!URL) return;
  const r = new Redis(URL);
  for (const p of prefixes) {
    const keys = await r.keys(`${p}*`);
    if (keys.length) await r.del(...keys);
  }
  await r.quit();
});

describe.skipIf(!URL)('Redis limiter', () => {
  limiterContract('redis', async (clock) => createRedisLimiter({ url: URL!, prefix: newPrefix(), clock }));

  const two = async (opts: { leaseMs?: number } = {}) => {
    const clock = fakeClock();
    const prefix = newPrefix();
    const a = await createRedisLimiter({ url: URL!, prefix, clock, ...opts });
    const b = await createRedisLimiter({ url: URL!, prefix, clock, ...opts });
    return { clock, a, b, prefix, close: () => Promise.all([a.close(), b.close()]) };
  };
  const admit = (l: Limiter, key = keyEntry(), tokens = 0, cost = 0n) => l.admit({ key, estimatedTokens: tokens, estimatedCostPico: cost });

  it('two instances admit exactly 10 of 40 concurrent requests against 10 RPM', async () => {
    const { a, b, close } = await two();
    const key = keyEntry({ rpm: 10 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => admit(i % 2 ? a : b, key)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as GatewayError] : []));
    expect(refused.every((e) => e.status === 429 && e.headers?.['retry-after'] === '6')).toBe(true);
    await close();
  });

  it('uses Redis server time when no clock is injected', async () => {
    const prefix = newPrefix();
    const [a, b] = await Promise.all([createRedisLimiter({ url: URL!, prefix }), createRedisLimiter({ url: URL!, prefix })]);
    const key = keyEntry({ rpm: 10, tpm: 100_000 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => admit(i % 2 ? a : b, key, 10)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const st = await a.state(key);
    expect(st.rpmRemaining).toBe(0);
    expect(st.rpmResetAt! - Date.now()).toBeGreaterThan(50_000);
    await Promise.all([a.close(), b.close()]);
  });

  it('shares concurrency, quota and credits between instances', async () => {
    const { a, b, close } = await two();
    const key = keyEntry({ maxConcurrent: 3, quotaTokens: 1000 }, { creditsPico: 1n * USD });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => admit(i % 2 ? a : b, key, 100, USD / 10n)));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(ok).toHaveLength(3);
    for (const adm of ok) adm.settle({ tokens: 350, costPico: (3n * USD) / 10n });
    await settled(a, key, 0);
    expect(await b.state(key)).toMatchObject({ tokensUsed: 1050, requestsUsed: 3, creditsPico: USD / 10n, inFlight: 0 });
    const quota = await admit(a, key, 1).catch((e: GatewayError) => e);
    expect(quota).toMatchObject({ status: 403, message: expect.stringMatching(/1,050 of 1,000 tokens used this month/) });
    const credits = await admit(b, { ...key, limits: { ...key.limits, quotaTokens: null } }, 50, (2n * USD) / 10n).catch(
      (e: GatewayError) => e,
    );
    expect(credits).toMatchObject({ status: 402 });
    await close();
  });

  it('releases the reservations of an instance that died once its lease runs out', async () => {
    const { clock, a, b, close } = await two({ leaseMs: 10_000 });
    const key = keyEntry({ maxConcurrent: 1, quotaTokens: 1000 });
    await admit(a, key, 800); // never settled: this "daemon" dies
    expect(await admit(b, key).catch((e: GatewayError) => e.code)).toBe('concurrency_limit_exceeded');
    clock.advance(10_001);
    const adm = await admit(b, key, 900);
    expect(await b.state(key)).toMatchObject({ inFlight: 1, tokensReserved: 900 });
    adm.settle({ tokens: 5, costPico: 0n });
    await close();
  });

  it('seeds quota counters once across instances and sets an expiry on every key', async () => {
    const { clock, a, b, prefix, close } = await two();
    const key = keyEntry({ rpm: 5, tpm: 1000, quotaTokens: 1000 }, { creditsPico: USD });
    const month = Date.parse('2025-03-01T00:00:00Z');
    await a.seed([{ keyId: key.id, periodTokens: 700, periodRequests: 3, periodStart: month }]);
    await b.seed([{ keyId: key.id, periodTokens: 1, periodRequests: 1, periodStart: month }]);
    expect(await b.state(key)).toMatchObject({ tokensUsed: 700, requestsUsed: 3 });
    (await admit(a, key, 10, 1n)).settle({ tokens: 10, costPico: 1n });
    await settled(a, key, 0);
    const r = new Redis(URL!);
    const keys = await r.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const k of keys) expect(await r.pttl(k), k).toBeGreaterThan(0);
    await r.quit();
    void clock;
    await close();
  });

  it('applies persisted debits once per batch id across instances', async () => {
    const { a, b, close } = await two();
    const key = keyEntry({}, { creditsPico: 2n * USD });
    (await admit(a, key)).settle({ tokens: 1, costPico: USD / 2n });
    await settled(a, key, 0);
    const debit = [{ keyId: key.id, costPico: USD / 2n, balancePico: (3n * USD) / 2n }];
    await a.persisted('batch-x', debit);
    await b.persisted('batch-x', debit);
    expect((await b.state(key)).creditsPico).toBe((3n * USD) / 2n);
    await close();
  });
});
