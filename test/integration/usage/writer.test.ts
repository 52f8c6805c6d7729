/**
 * The batched usage writer on PGlite and Postgres: one transaction per batch, flushed within a second,
 * what arrives during a write left for the next tick (a full batch written at once),
 * rollups equal to the sums of the events, exact credit debits that the limiter follows, retries that
 * never duplicate, close() that flushes, and a bounded queue that counts what it drops.
 */
import { sql } from 'drizzle-orm';
import { expect, it, vi } from 'vitest';
import { createMemoryLimiter } from '../../../src/daemon/limits/memory.js';
import type { CreditLedger, PersistedDebit } from '../../../src/daemon/limits/types.js';
import type { UsageRecord } from '../../../src/daemon/usage/types.js';
import { createUsageWriter } from '../../../src/daemon/usage/writer.js';
import { periodSeeds } from '../../../src/db/queries/usage.js';
import { apiKeys, usageDaily, usageEvents } from '../../../src/db/schema.js';
import { fakeClock, keyEntry, USD } from '../../unit/limits/fixtures.js';
import { addKey, creditsOf, describeStores, rec } from './stores.js';

describeStores('usage writer', (store) => {
  it('flushes a batch within a second in one transaction', async () => {
    await addKey(store(), 'k1');
    const flushes: number[] = [];
    const w = createUsageWriter(store(), { onFlush: (f) => flushes.push(f.records) });
    for (let i = 0; i < 3; i++) w.record(rec());
    expect(w.depth()).toBe(3);
    await vi.waitFor(
      async () => {
        const [row] = await store().db.select({ n: sql<number>`count(*)::int` }).from(usageEvents);
        expect(row!.n).toBe(3);
      },
      { timeout: 1_000, interval: 20 },
    );
    expect(flushes).toEqual([3]);
    expect(w.depth()).toBe(0);
    await w.close();
  });

  it('writes what arrives during a write at the next tick, not right after it (one transaction per tick at load)', async () => {
    await addKey(store(), 'k1');
    const flushes: number[] = [];
    let during = 0;
    const w = createUsageWriter(store(), {
      flushMs: 300,
      onFlush: (f) => {
        flushes.push(f.records);
        // records that arrive while a write is under way (as under load)
        if (flushes.length === 1) for (; during < 4; during++) w.record(rec());
      },
    });
    for (let i = 0; i < 5; i++) w.record(rec());
    await vi.waitFor(() => expect(flushes).toEqual([5]), { timeout: 1_000, interval: 5 });
    // the four wait for the timer instead of a second transaction at once
    await new Promise((r) => setTimeout(r, 100));
    expect(flushes).toEqual([5]);
    expect(w.depth()).toBe(4);
    await vi.waitFor(() => expect(flushes).toEqual([5, 4]), { timeout: 1_000, interval: 5 });
    // a batch that fills up is written at once, leaving the open one alone
    const full = createUsageWriter(store(), { flushMs: 1_000, maxBatch: 3, onFlush: (f) => flushes.push(f.records) });
    for (let i = 0; i < 4; i++) full.record(rec());
    await vi.waitFor(() => expect(flushes).toEqual([5, 4, 3]), { timeout: 500, interval: 5 });
    expect(full.depth()).toBe(1);
    await full.flush();
    expect(flushes).toEqual([5, 4, 3, 1]);
    await Promise.all([w.close(), full.close()]);
  });

  it('writes rollups equal to the sums of the events and debits credits exactly', async () => {
    const s = store();
    await addKey(s, 'k1', { creditsPico: 10n * USD });
    await addKey(s, 'k2'); // no credit limit
    const w = createUsageWriter(s, { maxBatch: 7, flushMs: 1000 });
    const records: UsageRecord[] = [];
    for (let i = 0; i < 40; i++) {
      const r = rec({
        keyId: i % 3 === 0 ? 'k2' : 'k1',
        modelId: i % 2 ? 'gpt-x' : 'claude-y',
        ts: new Date(Date.parse('2025-03-11T22:00:00Z') + i * 7_200_000 * 0.1), // spans two UTC days
        promptTokens: 100 + i,
        completionTokens: 7 * i,
        cachedTokens: i % 5,
        costPico: 123_456_789_012n * BigInt(i) + 7n,
        status: i === 5 ? 502 : 200,
      });
      records.push(r);
      w.record(r);
    }
    await w.flush();
    expect(w.depth()).toBe(0);
    const [ev] = await s.db.select({ n: sql<number>`count(*)::int` }).from(usageEvents);
    expect(ev!.n).toBe(40);
    const daily = await s.db.select().from(usageDaily);
    const expected = new Map<string, { requests: number; prompt: number; completion: number; cached: number; cost: bigint }>();
    for (const r of records) {
      const k = `${r.keyId}|${r.ts.toISOString().slice(0, 10)}|${r.modelId}`;
      const e = expected.get(k) ?? { requests: 0, prompt: 0, completion: 0, cached: 0, cost: 0n };
      e.requests++;
      e.prompt += r.promptTokens;
      e.completion += r.completionTokens;
      e.cached += r.cachedTokens;
      e.cost += r.costPico;
      expected.set(k, e);
    }
    expect(new Set(daily.map((d) => d.day))).toEqual(new Set(['2025-03-11', '2025-03-12']));
    expect(new Map(daily.map((d) => [`${d.keyId}|${d.day}|${d.modelId}`, { requests: d.requests, prompt: d.promptTokens, completion: d.completionTokens, cached: d.cachedTokens, cost: d.costPico }]))).toEqual(expected);
    const k1Cost = records.filter((r) => r.keyId === 'k1').reduce((a, r) => a + r.costPico, 0n);
    expect(await creditsOf(s, 'k1')).toBe(10n * USD - k1Cost);
    expect(await creditsOf(s, 'k2')).toBeNull();
    const [k1] = await s.db.select({ last: apiKeys.lastUsedAt }).from(apiKeys).where(sql`${apiKeys.id} = 'k1'`);
    const lastK1 = Math.max(...records.filter((r) => r.keyId === 'k1').map((r) => r.ts.getTime()));
    expect(k1!.last?.getTime()).toBe(lastK1);
    // a second batch adds to the same rollup rows
    w.record(rec({ keyId: 'k1', ts: new Date('2025-03-12T23:59:59Z'), modelId: 'gpt-x', costPico: 5n }));
    await w.close();
    expect(await creditsOf(s, 'k1')).toBe(10n * USD - k1Cost - 5n);
    const seeds = await periodSeeds(s.db, Date.parse('2025-03-12T12:00:00Z'));
    const dayK1 = seeds.find((e) => e.keyId === 'k1' && e.periodStart === Date.parse('2025-03-12T00:00:00Z'));
    const dayRecs = [...records, rec({ keyId: 'k1', promptTokens: 10, completionTokens: 5 })].filter(
      (r) => r.keyId === 'k1' && r.ts.toISOString().startsWith('2025-03-12'),
    );
    expect(dayK1).toEqual({
      keyId: 'k1',
      periodStart: Date.parse('2025-03-12T00:00:00Z'),
      periodTokens: dayRecs.reduce((a, r) => a + r.promptTokens + r.completionTokens, 0),
      periodRequests: dayRecs.length,
    });
  });

  it('reports debits to the limiter inside the transaction, so its balance equals the store', async () => {
    const s = store();
    await addKey(s, 'k1', { creditsPico: 1n * USD });
    const clock = fakeClock();
    const limiter = createMemoryLimiter({ clock });
    const w = createUsageWriter(s, { credits: limiter, flushMs: 1000 });
    const key = keyEntry({}, { id: 'k1', creditsPico: 1n * USD });
    for (const cost of [111_111_111n, 222_222_222n, 3n]) {
      const adm = await limiter.admit({ key, estimatedTokens: 10, estimatedCostPico: cost });
      adm.settle({ tokens: 10, costPico: cost });
      w.record(rec({ keyId: 'k1', costPico: cost }));
    }
    await w.flush();
    const stored = await creditsOf(s, 'k1');
    expect(stored).toBe(1n * USD - 333_333_336n);
    expect((await limiter.state(key)).creditsPico).toBe(stored);
    // an admin top-up in the store; the daemon's snapshot shows it; the refresh confirms it in the next flush
    await s.db.update(apiKeys).set({ creditsPico: 3n * USD }).where(sql`${apiKeys.id} = 'k1'`);
    const reloaded = { ...key, creditsPico: 3n * USD };
    expect((await limiter.state(reloaded)).creditsPico).toBe(3n * USD);
    await w.flush();
    expect(limiter.takeCreditRefreshes()).toEqual([]);
    expect((await limiter.state(reloaded)).creditsPico).toBe(3n * USD);
    await w.close();
  });

  it('keeps a failed batch and retries it without duplicating anything', async () => {
    const s = store();
    await addKey(s, 'k1', { creditsPico: 100n });
    let fail = true;
    const seen: Array<[string, readonly PersistedDebit[]]> = [];
    const ledger: CreditLedger = {
      async persisted(batchId, debits) {
        seen.push([batchId, debits]);
        if (fail) throw new Error('ledger down');
      },
      takeCreditRefreshes: () => [],
    };
    const w = createUsageWriter(s, { credits: ledger, flushMs: 1000 });
    w.record(rec({ keyId: 'k1', costPico: 30n }));
    w.record(rec({ keyId: 'k1', costPico: 12n }));
    await expect(w.flush()).rejects.toThrow('ledger down');
    expect(w.depth()).toBe(2);
    expect(await creditsOf(s, 'k1')).toBe(100n); // rolled back
    fail = false;
    w.record(rec({ keyId: 'k1', costPico: 1n }));
    await w.flush();
    expect(await creditsOf(s, 'k1')).toBe(57n);
    const [ev] = await s.db.select({ n: sql<number>`count(*)::int` }).from(usageEvents);
    expect(ev!.n).toBe(3);
    expect(seen[0]![0]).toBe(seen[1]![0]); // the retry reuses the batch id
    expect(seen[1]![1]).toEqual([{ keyId: 'k1', costPico: 42n, balancePico: 58n }]);
    expect(seen[2]![1]).toEqual([{ keyId: 'k1', costPico: 1n, balancePico: 57n }]);
    await w.close();
  });

  it('close() flushes everything; the bounded queue counts what it drops', async () => {
    const s = store();
    await addKey(s, 'k1');
    const dropped: number[] = [];
    const w = createUsageWriter(s, { flushMs: 1000, maxBatch: 2, maxQueue: 5, onDropped: (n) => dropped.push(n) });
    for (let i = 0; i < 7; i++) w.record(rec());
    expect(dropped).toEqual([1, 1]);
    await w.close();
    const [ev] = await s.db.select({ n: sql<number>`count(*)::int` }).from(usageEvents);
    expect(ev!.n).toBe(5);
    w.record(rec());
    expect(dropped).toEqual([1, 1, 1]);
  });
});
