/**
 * `lw serve --workers` IPC without processes: the codecs survive JSON (bigint as strings, Dates as epoch
 * ms, GatewayErrors with their headers), and two workers' links talking to one WorkerHost each over
 * in-memory JSON channels share the primary's memory limiter exactly (RPM, concurrency, credits), the
 * admissions a dead worker held are given back, usage reaches the primary's sink once and intact, and a
 * closed channel fails calls with 503 shutting_down.
 */
import { describe, expect, it, vi } from 'vitest';
import { WorkerHost, type HostServices } from '../../../src/daemon/cluster/host.js';
import { createIpcLimiter } from '../../../src/daemon/cluster/ipc-limiter.js';
import { createIpcUsageSink } from '../../../src/daemon/cluster/ipc-usage.js';
import { PrimaryLink, type Port } from '../../../src/daemon/cluster/link.js';
import {
  decodeDebit,
  decodeError,
  decodeKey,
  decodeState,
  decodeUsage,
  encodeDebit,
  encodeError,
  encodeKey,
  encodeState,
  encodeUsage,
  isLwMessage,
  restartDelay,
  type ToPrimary,
  type ToWorker,
} from '../../../src/daemon/cluster/protocol.js';
import { GatewayError } from '../../../src/daemon/errors.js';
import { createMemoryLimiter } from '../../../src/daemon/limits/memory.js';
import type { KeyLimitState, Limiter } from '../../../src/daemon/limits/types.js';
import type { KeyEntry } from '../../../src/daemon/state/types.js';
import type { UsageRecord, UsageSink } from '../../../src/daemon/usage/types.js';
import { silentLogger } from '../../../src/lib/log.js';

const BIG = 123_456_789_012_345_678_901n; // far past 2^53

function key(over: Partial<KeyEntry> = {}, limits: Partial<KeyEntry['limits']> = {}): KeyEntry {
  return {
    id: 'key_1',
    name: 'alice',
    prefix: 'lw-abc',
    status: 'active',
    expiresAt: null,
    tierId: 'tier_1',
    tierName: 'beta',
    limits: { rpm: null, tpm: null, quotaTokens: null, quotaPeriod: 'month', maxConcurrent: null, ...limits },
    modelGlobs: ['gpt-*'],
    creditsPico: null,
    ...over,
  };
}

function record(i: number, costPico: bigint): UsageRecord {
  return {
    ts: new Date(1_700_000_000_123 + i),
    requestId: `req_${i}`,
    keyId: 'key_1',
    modelId: 'gpt-4o-mini',
    providerId: 'prov_1',
    endpoint: 'chat',
    status: 200,
    promptTokens: 11,
    completionTokens: 7,
    cachedTokens: 0,
    costPico,
    latencyMs: 12,
    ttfbMs: null,
    estimated: false,
    unpriced: false,
    attempts: [{ provider: 'mock', upstreamModel: 'm', status: 200, ms: 3 }],
    errorCode: null,
  };
}

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('protocol codecs', () => {
  it('round-trip bigint, Date and null fields through JSON exactly', () => {
    const k = key({ creditsPico: BIG });
    expect(decodeKey(json(encodeKey(k)))).toEqual(k);
    expect(decodeKey(json(encodeKey(key())))).toEqual(key());
    const r = record(1, BIG);
    const back = decodeUsage(json(encodeUsage(r)));
    expect(back).toEqual(r);
    expect(back.ts).toBeInstanceOf(Date);
    expect(typeof back.costPico).toBe('bigint');
    const st: KeyLimitState = {
      period: 'month',
      periodStart: 1,
      periodEnd: 2,
      tokensUsed: 3,
      requestsUsed: 4,
      tokensReserved: 5,
      creditsPico: -BIG,
      rpmRemaining: null,
      rpmResetAt: null,
      tpmRemaining: 7,
      inFlight: 1,
    };
    expect(decodeState(json(encodeState(st)))).toEqual(st);
    expect(decodeDebit(json(encodeDebit({ keyId: 'k', costPico: BIG, balancePico: null })))).toEqual({ keyId: 'k', costPico: BIG, balancePico: null });
  });

  it('carries a GatewayError with its code, status, param and headers; other errors as plain errors', () => {
    const ge = new GatewayError('rate_limit_exceeded', 'Rate limit reached: 5 requests per minute.', { headers: { 'retry-after': '12' } });
    const back = decodeError(json(encodeError(ge)));
    expect(back).toBeInstanceOf(GatewayError);
    expect(back).toMatchObject({ code: 'rate_limit_exceeded', status: 429, message: ge.message, headers: { 'retry-after': '12' }, param: null });
    const plain = decodeError(json(encodeError(new Error('boom'))));
    expect(plain).not.toBeInstanceOf(GatewayError);
    expect(plain.message).toBe('boom');
  });

  it('recognises only tagged messages', () => {
    expect(isLwMessage({ lw: 1, t: 'drain' })).toBe(true);
    expect(isLwMessage({ cmd: 'NODE_CLUSTER', act: 'online' })).toBe(false);
    expect(isLwMessage({ type: 'prom-client:getMetricsReq' })).toBe(false);
    expect(isLwMessage(null)).toBe(false);
  });

  it('restarts a crashed worker at once, then backs off while workers keep dying', () => {
    const now = 1_000_000;
    expect(restartDelay([now], now)).toBe(0);
    expect(restartDelay([now - 120_000, now], now)).toBe(0);
    expect(restartDelay([now - 2, now - 1, now], now)).toBe(500);
    expect(restartDelay(Array.from({ length: 20 }, (_, i) => now - i), now)).toBe(30_000);
  });
});

/** Two ends of a channel that deliver asynchronously, as JSON, in order. */
function channel(): { worker: Port<ToPrimary, ToWorker>; primary: Port<ToWorker, ToPrimary>; close(): void } {
  const toPrimary: Array<(m: ToPrimary) => void> = [];
  const toWorker: Array<(m: ToWorker) => void> = [];
  const closers: Array<() => void> = [];
  let open = true;
  const deliver = <T>(subs: Array<(m: T) => void>, m: T) => {
    const copy = json(m);
    setImmediate(() => {
      if (open) for (const s of subs) s(copy);
    });
  };
  return {
    worker: { send: (m) => open && deliver(toPrimary, m), onMessage: (cb) => void toWorker.push(cb), onClose: (cb) => void closers.push(cb) },
    primary: { send: (m) => open && deliver(toWorker, m), onMessage: (cb) => void toPrimary.push(cb), onClose: () => {} },
    close() {
      open = false;
      for (const c of closers) c();
    },
  };
}

function sinkSpy(): UsageSink & { got: UsageRecord[] } {
  const got: UsageRecord[] = [];
  return { got, record: (r) => void got.push(r), flush: async () => {}, close: async () => {}, depth: () => 0 };
}

function cluster(limiter: Limiter, usage: UsageSink = sinkSpy()) {
  const services: HostServices = {
    limiter,
    usage,
    log: silentLogger,
    changed: async () => {},
    metrics: async () => ({ text: '', contentType: 'text/plain' }),
    hello: () => {},
    ready: () => {},
    failed: () => {},
  };
  const closed = () => new GatewayError('shutting_down', 'gone');
  return [1, 2].map((i) => {
    const ch = channel();
    const host = new WorkerHost(ch.primary, services, 1000 + i, i);
    const link = new PrimaryLink(ch.worker, closed);
    return { ch, host, link, limiter: createIpcLimiter(link), usage: createIpcUsageSink(link, { log: silentLogger, flushMs: 5, maxBatch: 3 }) };
  });
}

const req = (k: KeyEntry, cost = 0n) => ({ key: k, estimatedTokens: 10, estimatedCostPico: cost });

describe('workers sharing the primary limiter over IPC', () => {
  it('admits exactly 5 of 40 simultaneous requests on 5 RPM split over two workers, refusals intact', async () => {
    const [a, b] = cluster(createMemoryLimiter());
    const k = key({}, { rpm: 5 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => (i % 2 ? a! : b!).limiter.admit(req(k))));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(5);
    const remaining = ok.map((r) => Number((r as PromiseFulfilledResult<{ headers: Record<string, string> }>).value.headers['x-ratelimit-remaining-requests']));
    expect(remaining.sort()).toEqual([0, 1, 2, 3, 4]);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      const e = (r as PromiseRejectedResult).reason as GatewayError;
      expect(e).toBeInstanceOf(GatewayError);
      expect(e.code).toBe('rate_limit_exceeded');
      expect(Number(e.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    }
  });

  it('keeps concurrency exact, releases on settle, and gives back what a dead worker held', async () => {
    const limiter = createMemoryLimiter();
    const [a, b] = cluster(limiter);
    const k = key({}, { maxConcurrent: 2 });
    const held = await a!.limiter.admit(req(k));
    await b!.limiter.admit(req(k));
    await expect(b!.limiter.admit(req(k))).rejects.toMatchObject({ code: 'concurrency_limit_exceeded' });
    held.settle({ tokens: 18, costPico: 0n });
    held.settle({ tokens: 18, costPico: 0n }); // idempotent
    const again = await a!.limiter.admit(req(k));
    expect(again.headers).toBeDefined();
    expect(a!.host.held).toBe(1);
    expect(b!.host.held).toBe(1);
    expect((await limiter.state(k)).inFlight).toBe(2);
    // both workers die: the primary settles what they held
    expect(a!.host.release() + b!.host.release()).toBe(2);
    const st = await limiter.state(k);
    expect(st.inFlight).toBe(0);
    expect(st.tokensReserved).toBe(0);
    expect(st.requestsUsed).toBe(1);
  });

  it('spends credits exactly across workers, amounts intact past 2^53', async () => {
    const limiter = createMemoryLimiter();
    const [a, b] = cluster(limiter);
    const k = key({ creditsPico: BIG });
    const x = await a!.limiter.admit(req(k, BIG - 1n));
    await expect(b!.limiter.admit(req(k, 2n))).rejects.toMatchObject({ code: 'insufficient_credits', status: 402 });
    x.settle({ tokens: 18, costPico: BIG - 5n });
    await new Promise((r) => setTimeout(r, 10));
    expect((await b!.limiter.state(k)).creditsPico).toBe(5n);
  });

  it('hands every usage record to the primary once, in batches, with exact values', async () => {
    const spy = sinkSpy();
    const [a, b] = cluster(createMemoryLimiter(), spy);
    for (let i = 0; i < 7; i++) (i % 2 ? a! : b!).usage.record(record(i, BIG + BigInt(i)));
    expect(a!.usage.depth() + b!.usage.depth()).toBe(7);
    await Promise.all([a!.usage.flush(), b!.usage.flush()]);
    expect(a!.usage.depth() + b!.usage.depth()).toBe(0);
    expect(spy.got.map((r) => r.requestId).sort()).toEqual(['req_0', 'req_1', 'req_2', 'req_3', 'req_4', 'req_5', 'req_6']);
    const r3 = spy.got.find((r) => r.requestId === 'req_3')!;
    expect(r3).toEqual(record(3, BIG + 3n));
  });

  it('hands what is still queued to the primary on close, without waiting for the batch timer', async () => {
    const spy = sinkSpy();
    const [a] = cluster(createMemoryLimiter(), spy);
    const sink = createIpcUsageSink(a!.link, { log: silentLogger, flushMs: 60_000, maxBatch: 1000 });
    sink.record(record(1, 5n));
    await sink.close();
    expect(spy.got.map((r) => r.requestId)).toEqual(['req_1']);
    expect(sink.depth()).toBe(0);
  });

  it('gives back an admission the primary granted after the worker stopped waiting', async () => {
    const limiter = createMemoryLimiter();
    const ch = channel();
    let delayed: ToPrimary | null = null;
    const sent: string[] = [];
    const slow: Port<ToPrimary, ToWorker> = {
      ...ch.worker,
      send: (m) => {
        sent.push(m.t);
        if (m.t === 'admit' && !delayed) delayed = m;
        else ch.worker.send(m);
      },
    };
    const link = new PrimaryLink(slow, () => new GatewayError('shutting_down', 'gone'));
    const services = { limiter, usage: sinkSpy(), log: silentLogger, changed: async () => {}, metrics: async () => ({ text: '', contentType: '' }), hello: () => {}, ready: () => {}, failed: () => {} };
    const host = new WorkerHost(ch.primary, services, 1, 1);
    const k = key({}, { maxConcurrent: 1 });
    await expect(createIpcLimiter(link, { timeoutMs: 20 }).admit(req(k))).rejects.toMatchObject({ code: 'internal_error' });
    ch.worker.send(delayed!); // the primary admits it now; the late reply makes the worker settle it
    await vi.waitFor(() => expect(sent).toEqual(['admit', 'settle']));
    await vi.waitFor(async () => expect((await limiter.state(k)).inFlight).toBe(0));
    expect(host.held).toBe(0);
  });

  it('fails calls with 503 shutting_down once the primary is gone', async () => {
    const [a] = cluster(createMemoryLimiter());
    a!.ch.close();
    await expect(a!.limiter.admit(req(key()))).rejects.toMatchObject({ code: 'shutting_down', status: 503 });
  });
});
