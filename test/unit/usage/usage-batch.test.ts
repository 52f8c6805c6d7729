/**
 * The usage batch filled as requests finish: each record encoded once into the COPY text line the
 * store reads (escapes, nulls, and a real COPY into usage_events reading back every field), the day memo
 * correct across midnight in both directions, and per-key spend and daily rollups summed exactly.
 */
import { describe, expect, it } from 'vitest';
import { copyIn } from '../../../src/db/copy-in.js';
import { attemptsJson, batchDay, encodeUsageRow, isoOf, USAGE_COPY_COLUMNS, UsageBatch } from '../../../src/db/queries/usage-batch.js';
import { usageEvents } from '../../../src/db/schema.js';
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

/** COPY text format back to fields (the format's own rules: \\N is null, backslash escapes). */
function decodeLine(line: string): (string | null)[] {
  expect(line.endsWith('\n')).toBe(true);
  return line
    .slice(0, -1)
    .split('\t')
    .map((f) => (f === '\\N' ? null : f.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r' })[c] ?? c)));
}
const COLUMNS = USAGE_COPY_COLUMNS.split(', ');
const fields = (line: string) => Object.fromEntries(decodeLine(line).map((v, i) => [COLUMNS[i], v]));

describe('encodeUsageRow', () => {
  it('is one COPY text line in USAGE_COPY_COLUMNS order, money as an exact decimal', () => {
    expect(fields(encodeUsageRow(rec()))).toEqual({
      ts: '2026-12-07T10:00:00.123Z',
      request_id: 'req_1',
      key_id: 'key_a',
      model_id: 'gpt-4o',
      provider_id: 'prov_1',
      endpoint: 'chat',
      status: '200',
      prompt_tokens: '12',
      completion_tokens: '30',
      cached_tokens: '2',
      cost_pico: '123456789012345678',
      latency_ms: '13',
      ttfb_ms: '3',
      estimated: 'f',
      unpriced: 'f',
      attempts: '[{"provider":"openai","upstreamModel":"gpt-4o","status":200,"ms":11}]',
      error_code: null,
    });
  });

  it('escapes what names may hold (tab, newline, backslash) and writes nulls', () => {
    const odd = 'a"b\\c\n\t\r\u2028é🙂\\N';
    const line = encodeUsageRow(rec({ modelId: odd, requestId: odd, providerId: null, ttfbMs: null, errorCode: 'upstream_error', estimated: true, attempts: [{ provider: odd, upstreamModel: odd, status: 502, error: 'x', ms: 1 }] }));
    expect(line.split('\n')).toHaveLength(2); // one line, whatever the names hold
    const row = fields(line);
    expect(row['model_id']).toBe(odd);
    expect(row['request_id']).toBe(odd);
    expect(row['provider_id']).toBeNull();
    expect(row['ttfb_ms']).toBeNull();
    expect(row['error_code']).toBe('upstream_error');
    expect(row['estimated']).toBe('t');
    expect((JSON.parse(row['attempts']!) as Array<{ provider: string }>)[0]!.provider).toBe(odd);
  });

  it('never writes a number an integer column cannot take (a poison batch would be retried forever)', () => {
    const row = fields(encodeUsageRow(rec({ latencyMs: Number.NaN, promptTokens: Number.POSITIVE_INFINITY })));
    expect(row['latency_ms']).toBe('0');
    expect(row['prompt_tokens']).toBe('0');
  });

  it('is read back by the store exactly (a real COPY into usage_events)', async () => {
    const { openStore } = await import('../../../src/db/client.js');
    const { runMigrations } = await import('../../../src/db/migrate.js');
    const store = await openStore({ dataDir: 'memory://' });
    try {
      await runMigrations(store);
      const odd = 'tab\there\\back\nline é🙂';
      const b = new UsageBatch('real');
      b.add(rec({ requestId: 'r1', modelId: odd, attempts: [{ provider: odd, upstreamModel: 'u', status: 502, error: 'say "no"\\', ms: 1 }] }));
      b.add(rec({ requestId: 'r2', providerId: null, ttfbMs: null, unpriced: true, errorCode: 'x' }));
      await store.db.transaction((tx) => copyIn(tx, `usage_events (${USAGE_COPY_COLUMNS})`, b.eventsCopyData()));
      const rows = await store.db.select().from(usageEvents).orderBy(usageEvents.requestId);
      expect(rows).toEqual([
        { ...rec({ requestId: 'r1', modelId: odd, attempts: [{ provider: odd, upstreamModel: 'u', status: 502, error: 'say "no"\\', ms: 1 }] }), latencyMs: 13, ttfbMs: 3 },
        { ...rec({ requestId: 'r2', providerId: null, ttfbMs: null, unpriced: true, errorCode: 'x' }), latencyMs: 13 },
      ]);
    } finally {
      await store.close();
    }
  }, 60_000); // an in-process PGlite starts in ~5 s on a busy 2-core machine; the unit default is 5 s
});

describe('isoOf and attemptsJson', () => {
  it('isoOf is Date#toISOString, across seconds, days and years, in any order', () => {
    const instants = [
      Date.parse('2026-12-07T10:00:00.000Z'),
      Date.parse('2026-12-07T10:00:00.005Z'),
      Date.parse('2026-12-07T10:00:00.050Z'),
      Date.parse('2026-12-07T10:00:00.999Z'),
      Date.parse('2026-12-07T10:00:01.000Z'),
      Date.parse('2026-12-07T09:59:59.999Z'),
      Date.parse('2026-12-31T23:59:59.999Z'),
      Date.parse('2027-01-01T00:00:00.001Z'),
      0,
      -1,
      -86_400_001,
      Date.parse('+010000-01-01T00:00:00.000Z'),
      Date.parse('2026-12-07T10:00:00.123Z'),
    ];
    for (let i = 0; i < 2_000; i++) instants.push(Date.parse('2026-12-07T10:00:00Z') + Math.floor(Math.random() * 5_000) - 2_500);
    for (const ms of instants) expect(isoOf(ms)).toBe(new Date(ms).toISOString());
  });

  it('attemptsJson is JSON.stringify of the attempts', () => {
    const cases = [
      [],
      [{ provider: 'openai', upstreamModel: 'gpt-4o', status: 200, ms: 11 }],
      [
        { provider: 'a"b\\c\n', upstreamModel: 'é🙂\u2028', status: 502, error: 'upstream_error', ms: 1.5 },
        { provider: 'b', upstreamModel: 'm', status: 499, error: 'client_closed', ms: Number.NaN },
        { provider: 'c', upstreamModel: 'm', status: 200, error: undefined, ms: -0 },
      ],
    ];
    for (const a of cases) expect(attemptsJson(a)).toBe(JSON.stringify(a));
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
  it('sums spend per key and rollups per key, day and model, and holds the rows in order', () => {
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
    const lines = b.eventsCopyData().toString('utf8').split(/(?<=\n)/);
    expect(lines.map((l) => fields(l)['request_id'])).toEqual(['r1', 'r2', 'r3', 'r4']);
  });

  it('keeps every row whole when its buffer grows past its first size', () => {
    const b = new UsageBatch('b2');
    const long = 'm'.repeat(300) + 'é';
    for (let i = 0; i < 200; i++) b.add(rec({ requestId: `r${i}`, modelId: `${long}${i}` }));
    const lines = b.eventsCopyData().toString('utf8').split(/(?<=\n)/);
    expect(lines).toHaveLength(200);
    expect(fields(lines[199]!)).toMatchObject({ request_id: 'r199', model_id: `${long}199` });
    expect(new UsageBatch('empty').eventsCopyData()).toHaveLength(0);
  });

  it('hands a written batch\'s buffer to the next batch, which holds only its own rows', () => {
    const a = new UsageBatch('a');
    for (let i = 0; i < 50; i++) a.add(rec({ requestId: `old${i}` }));
    const memory = a.eventsCopyData().buffer;
    a.recycle();
    expect(a.eventsCopyData()).toHaveLength(0);
    expect(a.size).toBe(50); // the count stays for the flush report
    const b = new UsageBatch('b');
    b.add(rec({ requestId: 'new' }));
    expect(b.eventsCopyData().buffer).toBe(memory); // the same off-heap memory, no new garbage
    expect(b.eventsCopyData().toString('utf8')).toBe(encodeUsageRow(rec({ requestId: 'new' })));
    b.recycle();
  });
});
