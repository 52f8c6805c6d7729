/**
 * @module
 * The Limiter contract, run against the in-memory limiter (unit) and the Redis limiter (integration):
 * exact admission under concurrency, headers, TPM reservation and settlement, quotas with their reset
 * time, concurrency, credits that stay exact across snapshot reloads, and seeding.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/daemon/errors.js';
import type { Admission, Limiter } from '../../../src/daemon/limits/types.js';
import { fakeClock, keyEntry, USD, type FakeClock } from './fixtures.js';

export type LimiterFactory = (clock: FakeClock) => Promise<Limiter>;

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

const req = (key = keyEntry(), estimatedTokens = 0, estimatedCostPico = 0n) => ({ key, estimatedTokens, estimatedCostPico });

export function limiterContract(name: string, make: LimiterFactory): void {
  describe(`Limiter contract: ${name}`, () => {
    let limiter: Limiter | null = null;
    let clock: FakeClock;
    const start = async (iso?: string): Promise<Limiter> => {
      clock = fakeClock(iso);
      limiter = await make(clock);
      return limiter;
    };
    afterEach(async () => {
      await limiter?.close();
      limiter = null;
    });

    it('admits exactly 10 of 40 concurrent requests against 10 RPM, with Retry-After and headers', async () => {
      const l = await start();
      const key = keyEntry({ rpm: 10 });
      const results = await Promise.allSettled(Array.from({ length: 40 }, () => l.admit(req(key))));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as GatewayError] : []));
      expect(ok).toHaveLength(10);
      expect(refused).toHaveLength(30);
      for (const e of refused) {
        expect(e.status).toBe(429);
        expect(e.code).toBe('rate_limit_exceeded');
        expect(e.headers).toMatchObject({
          'retry-after': '6',
          'x-ratelimit-limit-requests': '10',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '1m0s',
        });
      }
      expect(refused[0]!.message).toMatch(/10 requests per minute.*Retry after 6s/);
    });

    it('refills one request per 60/RPM seconds and reports remaining and reset on success', async () => {
      const l = await start();
      const key = keyEntry({ rpm: 10 });
      const first = await l.admit(req(key));
      expect(first.headers).toEqual({
        'x-ratelimit-limit-requests': '10',
        'x-ratelimit-remaining-requests': '9',
        'x-ratelimit-reset-requests': '6s',
      });
      for (let i = 0; i < 9; i++) await l.admit(req(key));
      clock.advance(3_000);
      expect((await refusal(l.admit(req(key)))).headers?.['retry-after']).toBe('3');
      clock.advance(3_000);
      expect((await l.admit(req(key))).headers['x-ratelimit-remaining-requests']).toBe('0');
      await refusal(l.admit(req(key)));
      clock.advance(60_000);
      const again = await Promise.allSettled(Array.from({ length: 12 }, () => l.admit(req(key))));
      expect(again.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    });

    it('reserves TPM from the estimate and settles to the real count', async () => {
      const l = await start();
      const key = keyEntry({ tpm: 1000 });
      const a = await l.admit(req(key, 600));
      expect(a.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '400' });
      const e = await refusal(l.admit(req(key, 600)));
      expect(e.status).toBe(429);
      expect(e.headers?.['retry-after']).toBe('12'); // 200 tokens missing at 1000/min
      expect(e.message).toMatch(/1,000 tokens per minute/);
      a.settle({ tokens: 100, costPico: 0n });
      a.settle({ tokens: 100_000, costPico: 0n }); // idempotent: ignored
      const b = await l.admit(req(key, 600));
      expect(b.headers['x-ratelimit-remaining-tokens']).toBe('300');
      b.settle({ tokens: 1200, costPico: 0n }); // more than reserved: the bucket goes into debt
      const e2 = await refusal(l.admit(req(key, 1)));
      expect(e2.headers?.['x-ratelimit-remaining-tokens']).toBe('0');
      expect(e2.headers?.['retry-after']).toBe('19'); // from −300 to 1 token at 1000/min: 18.06 s
    });

    it('admits a request bigger than the TPM bucket only when the bucket is full', async () => {
      const l = await start();
      const key = keyEntry({ tpm: 1000 });
      const a = await l.admit(req(key, 5000));
      a.settle({ tokens: 5000, costPico: 0n });
      const e = await refusal(l.admit(req(key, 5000)));
      expect(e.headers?.['retry-after']).toBe('300'); // from −4000 back to full 1000 at 1000/min
    });

    it('refuses with 403 and the reset time once the monthly quota is used, counting reservations', async () => {
      const l = await start('2025-03-31T23:00:00.000Z');
      const key = keyEntry({ quotaTokens: 1000, quotaPeriod: 'month' });
      const a = await l.admit(req(key, 600));
      const near = await refusal(l.admit(req(key, 500)));
      expect(near.status).toBe(403);
      expect(near.code).toBe('quota_exceeded');
      expect(near.message).toMatch(/600 reserved by requests in flight.*only 400 remain.*2025-04-01T00:00:00\.000Z/);
      a.settle({ tokens: 1000, costPico: 0n });
      const done = await refusal(l.admit(req(key, 1)));
      expect(done.status).toBe(403);
      expect(done.message).toBe(
        "Token quota exhausted for key 'alice': 1,000 of 1,000 tokens used this month. The quota resets at 2025-04-01T00:00:00.000Z.",
      );
      expect(await l.state(key)).toMatchObject({ tokensUsed: 1000, requestsUsed: 1, tokensReserved: 0 });
      clock.advance(60 * 60_000); // April
      const b = await l.admit(req(key, 1000));
      b.settle({ tokens: 10, costPico: 0n });
      expect(await l.state(key)).toMatchObject({
        period: 'month',
        periodStart: Date.parse('2025-04-01T00:00:00Z'),
        periodEnd: Date.parse('2025-05-01T00:00:00Z'),
        tokensUsed: 10,
        requestsUsed: 1,
      });
    });

    it('admits a request alone while quota remains, even if its worst case is larger', async () => {
      const l = await start();
      const key = keyEntry({ quotaTokens: 100, quotaPeriod: 'day' });
      const a = await l.admit(req(key, 1044)); // nothing in flight: admitted
      expect((await refusal(l.admit(req(key, 1)))).message).toMatch(/1,044 reserved by requests in flight/);
      a.settle({ tokens: 60, costPico: 0n });
      await settled(l, key, 0);
      (await l.admit(req(key, 1044))).settle({ tokens: 60, costPico: 0n });
      await settled(l, key, 0);
      const e = await refusal(l.admit(req(key, 1)));
      expect(e.message).toMatch(/120 of 100 tokens used today. The quota resets at 2025-03-13T00:00:00\.000Z/);
    });

    it('uses UTC days and ISO weeks, and a reservation admitted before a rollover does not leak into the new period', async () => {
      const l = await start('2025-03-16T23:59:00.000Z'); // a Sunday
      const key = keyEntry({ quotaTokens: 100, quotaPeriod: 'week' });
      const a = await l.admit(req(key, 100));
      const e = await refusal(l.admit(req(key, 1)));
      expect(e.message).toMatch(/this week.*resets at 2025-03-17T00:00:00\.000Z/);
      clock.advance(120_000); // Monday
      await l.admit(req(key, 100)).then((b) => b.settle({ tokens: 40, costPico: 0n }));
      a.settle({ tokens: 100, costPico: 0n }); // charged to last week
      expect(await l.state(key)).toMatchObject({ tokensUsed: 40, tokensReserved: 0 });
      expect(await l.state({ ...key, limits: { ...key.limits, quotaPeriod: 'day' } })).toMatchObject({
        periodStart: Date.parse('2025-03-17T00:00:00Z'),
        tokensUsed: 40,
      });
    });

    it('limits concurrency and releases the slot at settle, exactly once', async () => {
      const l = await start();
      const key = keyEntry({ maxConcurrent: 2 });
      const a = await l.admit(req(key));
      await l.admit(req(key));
      const e = await refusal(l.admit(req(key)));
      expect(e.status).toBe(429);
      expect(e.code).toBe('concurrency_limit_exceeded');
      expect(e.headers?.['retry-after']).toBe('1');
      a.settle({ tokens: 0, costPico: 0n, reachedUpstream: false });
      a.settle({ tokens: 0, costPico: 0n });
      await settled(l, key, 1);
      await l.admit(req(key));
      await refusal(l.admit(req(key)));
      expect(await l.state(key)).toMatchObject({ inFlight: 2, requestsUsed: 0 });
    });

    it('refuses with 402 when credits are exhausted or a reservation would overdraw, and settles to actual cost', async () => {
      const l = await start();
      const key = keyEntry({}, { creditsPico: 1n * USD });
      const a = await l.admit(req(key, 10, (6n * USD) / 10n));
      const over = await refusal(l.admit(req(key, 10, (6n * USD) / 10n)));
      expect(over.status).toBe(402);
      expect(over.code).toBe('insufficient_credits');
      expect(over.message).toMatch(/may cost up to \$0\.60 but \$0\.40 remain/);
      a.settle({ tokens: 10, costPico: USD / 2n });
      await settled(l, key, 0);
      expect((await l.state(key)).creditsPico).toBe(USD / 2n);
      const b = await l.admit(req(key, 10, USD / 2n));
      b.settle({ tokens: 10, costPico: (USD * 6n) / 10n }); // real cost above the estimate: balance −$0.10
      await settled(l, key, 0);
      expect((await l.state(key)).creditsPico).toBe(-USD / 10n);
      const gone = await refusal(l.admit(req(key)));
      expect(gone.status).toBe(402);
      expect(gone.message).toMatch(/Credit balance exhausted for key 'alice' \(balance \$-0\.10\)/);
      const zero = keyEntry({}, { id: 'key_2', creditsPico: 0n });
      expect((await refusal(l.admit(req(zero)))).status).toBe(402);
      const unlimited = keyEntry({}, { id: 'key_3', creditsPico: null });
      await l.admit(req(unlimited, 10, 100n * USD));
    });

    it('keeps credits exact across snapshot reloads, stale snapshots, flush reports and admin top-ups', async () => {
      const l = await start();
      const v1 = keyEntry({}, { creditsPico: 1n * USD });
      expect(l.takeCreditRefreshes()).toEqual([]);
      (await l.admit(req(v1))).settle({ tokens: 1, costPico: (3n * USD) / 10n });
      await settled(l, v1, 0);
      expect(l.takeCreditRefreshes()).toEqual([v1.id]); // first sight: confirm with the store
      expect((await l.state(v1)).creditsPico).toBe((7n * USD) / 10n); // pending 0.3 not yet persisted
      // the writer persisted the 0.3: the store now holds 0.7
      await l.persisted('batch-1', [{ keyId: v1.id, costPico: (3n * USD) / 10n, balancePico: (7n * USD) / 10n }]);
      await l.persisted('batch-1', [{ keyId: v1.id, costPico: (3n * USD) / 10n, balancePico: (7n * USD) / 10n }]); // a retried report
      expect((await l.state(v1)).creditsPico).toBe((7n * USD) / 10n);
      // a reload shows the persisted balance; an old snapshot (read before the flush) is not adopted
      const v2 = { ...v1, creditsPico: (7n * USD) / 10n };
      expect((await l.state(v2)).creditsPico).toBe((7n * USD) / 10n);
      expect((await l.state(v1)).creditsPico).toBe((7n * USD) / 10n);
      // spend more, then an admin sets $5: adopted at once, unpersisted spend still counted
      (await l.admit(req(v2))).settle({ tokens: 1, costPico: USD / 10n });
      await settled(l, v2, 0);
      l.takeCreditRefreshes();
      const v3 = { ...v1, creditsPico: 5n * USD };
      expect((await l.state(v3)).creditsPico).toBe(5n * USD - USD / 10n);
      expect(l.takeCreditRefreshes()).toEqual([v1.id]);
      // the flush of that 0.1 happens after the top-up: the store says 4.9
      await l.persisted('batch-2', [{ keyId: v1.id, costPico: USD / 10n, balancePico: 5n * USD - USD / 10n }]);
      expect((await l.state(v3)).creditsPico).toBe(5n * USD - USD / 10n);
      // an admin re-sets a value already seen: not adopted blindly, but the refresh answer is the truth
      const v4 = { ...v1, creditsPico: 1n * USD };
      await l.state(v4);
      expect(l.takeCreditRefreshes()).toEqual([v1.id]);
      await l.persisted('refresh-1', [{ keyId: v1.id, costPico: 0n, balancePico: 1n * USD }]);
      expect((await l.state(v4)).creditsPico).toBe(1n * USD);
      // credits removed by an admin: no limit
      const none = { ...v1, creditsPico: null };
      await l.admit(req(none, 1, 100n * USD));
      expect((await l.state(none)).creditsPico).toBeNull();
    });

    it('seeds period totals once (SETNX) and counts requests only when they reached an upstream', async () => {
      const l = await start('2025-03-12T10:00:00.000Z');
      const key = keyEntry({ quotaTokens: 1000, quotaPeriod: 'month' });
      const month = Date.parse('2025-03-01T00:00:00Z');
      await l.seed([{ keyId: key.id, periodTokens: 900, periodRequests: 7, periodStart: month }]);
      await l.seed([{ keyId: key.id, periodTokens: 10, periodRequests: 1, periodStart: month }]);
      expect(await l.state(key)).toMatchObject({ tokensUsed: 900, requestsUsed: 7 });
      const a = await l.admit(req(key, 50));
      expect((await refusal(l.admit(req(key, 60)))).status).toBe(403);
      a.settle({ tokens: 0, costPico: 0n, reachedUpstream: false });
      const b = await l.admit(req(key, 50));
      b.settle({ tokens: 30, costPico: 0n });
      await settled(l, key, 0);
      expect(await l.state(key)).toMatchObject({ tokensUsed: 930, requestsUsed: 8 });
    });

    it('reserves nothing when it refuses', async () => {
      const l = await start();
      const key = keyEntry({ rpm: 2, maxConcurrent: 5 }, { creditsPico: 1n });
      const e = await refusal(l.admit(req(key, 10, 2n)));
      expect(e.status).toBe(402);
      expect(await l.state(key)).toMatchObject({ rpmRemaining: 2, inFlight: 0, tokensReserved: 0 });
    });
  });
}

/** Waits until background settlements (Redis) have landed: in-flight count reaches `inFlight`. */
export async function settled(l: Limiter, key: ReturnType<typeof keyEntry>, inFlight: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await l.state(key)).inFlight === inFlight) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  // one more round trip so that the last settlement's writes are visible
  await l.state(key);
}

export type { Admission };
