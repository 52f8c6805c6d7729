/**
 * The usage batch filled as requests finish: each record encoded once into the JSON row the store's
 * jsonb_to_recordset reads (exactly what JSON.stringify of the row object would give), the day memo
 * correct across midnight in both directions, and per-key spend and daily rollups summed exactly.
 */
import { describe, expect, it } from 'vitest';
import { batchDay, encodeUsageRow, UsageBatch } from '../../../src/db/queries/usage-batch.js';
import type { UsageRecord } from '../../../src/daemon/usage/types.js';

function rec(over: Partial<UsageRecord> = {}): UsageRecord {
  return {
    ts: new Date('2026-12-07T10:00:00.123Z'),
    requestId: 'req_1',
    keyId: 'key_a',
    modelId: 'gpt-4o',
    providerId: 'prov_1',
    endpoint: 'chat',
    status: 200,
    promptTokens: 12,
    completionTokens: 30,
    cachedTokens: 2,
    costPico: 123_456_789_012_345_678n,
    latencyMs: 12.6,
    ttfbMs: 3.2,
    estimated: false,
    unpriced: false,
    attempts: [{ provider: 'openai', upstreamModel: 'gpt-4o', status: 200, ms: 11 }],
    errorCode: null,
    ...over,
  };
}

describe('encodeUsageRow', () => {
  it('is the JSON of the row object, money as an exact decimal string', () => {
    const r = rec();
    expect(JSON.parse(encodeUsageRow(r))).toEqual({
      ts: '2026-12-07T10:00:00.123Z',
      request_id: 'req_1',
      key_id: 'key_a',
      model_id: 'gpt-4o',
      provider_id: 'prov_1',
      endpoint: 'chat',
      status: 200,
      prompt_tokens: 12,
      completion_tokens: 30,
      cached_tokens: 2,
      cost_pico: '123456789012345678',
      latency_ms: 13,
      ttfb_ms: 3,
      estimated: false,
      unpriced: false,
      attempts: [{ provider: 'openai', upstreamModel: 'gpt-4o', status: 200, ms: 11 }],
      error_code: null,
    });
  });

  it('escapes what names may hold and writes nulls', () => {
    const odd = 'a"b\\c\n\u2028é🙂';
    const row = JSON.parse(
      encodeUsageRow(rec({ modelId: odd, providerId: null, ttfbMs: null, errorCode: 'upstream_error', attempts: [{ provider: odd, upstreamModel: odd, status: 502, error: 'x', ms: 1 }] })),
    ) as Record<string, unknown>;
    expect(row['model_id']).toBe(odd);
    expect(row['provider_id']).toBeNull();
    expect(row['ttfb_ms']).toBeNull();
    expect(row['error_code']).toBe('upstream_error');
    expect((row['attempts'] as Array<{ provider: string }>)[0]!.provider).toBe(odd);
  });

  it('never writes a number JSON cannot carry (a poison batch would be retried forever)', () => {
    const text = encodeUsageRow(rec({ latencyMs: Number.NaN, promptTokens: Number.POSITIVE_INFINITY }));
    const row = JSON.parse(text) as Record<string, unknown>;
    expect(row['latency_ms']).toBe(0);
    expect(row['prompt_tokens']).toBe(0);
  });
});

describe('batchDay', () => {
  it('gives the UTC day and stays right when records cross midnight either way', () => {
    const before = Date.parse('2026-12-06T23:59:59.999Z');
    const after = Date.parse('2026-12-07T00:00:00.000Z');
    expect(batchDay(before)).toBe('2026-12-06');
    expect(batchDay(after)).toBe('2026-12-07');
    expect(batchDay(before)).toBe('2026-12-06');
    expect(batchDay(Date.parse('1969-12-31T12:00:00Z'))).toBe('1969-12-31');
    expect(batchDay(Date.parse('2027-01-01T00:00:00Z'))).toBe('2027-01-01');
  });
});

describe('UsageBatch', () => {
  it('sums spend per key and rollups per key, day and model, and joins rows into one array', () => {
    const b = new UsageBatch('b1');
    b.add(rec({ requestId: 'r1', costPico: 5n }));
    b.add(rec({ requestId: 'r2', costPico: 7n, ts: new Date('2026-12-07T11:00:00Z') }));
    b.add(rec({ requestId: 'r3', costPico: 1n, keyId: 'key_b', modelId: 'm2' }));
    b.add(rec({ requestId: 'r4', costPico: 2n, ts: new Date('2026-12-08T00:00:01Z') }));
    expect(b.size).toBe(4);
    expect(b.perKey.get('key_a')).toEqual({ cost: 14n, last: Date.parse('2026-12-08T00:00:01Z') });
    expect(b.perKey.get('key_b')).toEqual({ cost: 1n, last: Date.parse('2026-12-07T10:00:00.123Z') });
    const daily = [...b.daily.values()].map((d) => [d.keyId, d.day, d.modelId, d.requests, d.promptTokens, d.costPico]);
    expect(daily).toEqual([
      ['key_a', '2026-12-07', 'gpt-4o', 2, 24, 12n],
      ['key_b', '2026-12-07', 'm2', 1, 12, 1n],
      ['key_a', '2026-12-08', 'gpt-4o', 1, 12, 2n],
    ]);
    const all = JSON.parse(b.eventsJson()) as Array<{ request_id: string }>;
    expect(all.map((r) => r.request_id)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect((JSON.parse(b.eventsJson(1, 3)) as Array<{ request_id: string }>).map((r) => r.request_id)).toEqual(['r2', 'r3']);
  });

  it('keeps every row whole when its buffer grows past its first size, and slices on row boundaries', () => {
    const b = new UsageBatch('b2');
    const long = 'm'.repeat(300) + 'é';
    for (let i = 0; i < 200; i++) b.add(rec({ requestId: `r${i}`, modelId: `${long}${i}` }));
    const rows = JSON.parse(b.eventsJson()) as Array<{ request_id: string; model_id: string }>;
    expect(rows).toHaveLength(200);
    expect(rows[199]).toMatchObject({ request_id: 'r199', model_id: `${long}199` });
    const mid = JSON.parse(b.eventsJson(150, 152)) as Array<{ request_id: string }>;
    expect(mid.map((r) => r.request_id)).toEqual(['r150', 'r151']);
    expect(b.eventsJson(5, 5)).toBe('[]');
    expect(new UsageBatch('empty').eventsJson()).toBe('[]');
  });
});
