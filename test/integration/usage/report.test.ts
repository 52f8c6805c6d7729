/**
 * `lw usage` reports on PGlite and Postgres: grouped by day, model and key (names joined), filtered by
 * key reference and model alias, exact decimal costs and totals, `--since` durations and ISO dates
 * (a partial first day read from the raw events), and 400/404 on bad input.
 */
import { expect, it } from 'vitest';
import { createUsageReporter, parseSince } from '../../../src/admin/usage-report.js';
import { AdminError } from '../../../src/admin/types.js';
import { createUsageWriter } from '../../../src/daemon/usage/writer.js';
import { modelAliases, models } from '../../../src/db/schema.js';
import { USD } from '../../unit/limits/fixtures.js';
import { addKey, describeStores, rec } from './stores.js';
import { rejects } from '../../helpers/admin-error.js';

const NOW = new Date('2025-03-12T12:00:00Z');


describeStores('usage report', (store) => {
  async function fill(): Promise<void> {
    const s = store();
    await addKey(s, 'key_a', { name: 'alice', prefix: 'lw-aaaa1111' });
    await addKey(s, 'key_b', { name: 'bob', prefix: 'lw-bbbb2222' });
    await s.db.insert(models).values({ id: 'gpt-x' });
    await s.db.insert(modelAliases).values({ alias: 'codex', modelId: 'gpt-x' });
    const w = createUsageWriter(s, { flushMs: 1000 });
    const at = (iso: string) => new Date(iso);
    // 2025-03-01 (outside 7d), 03-10, 03-11 10:00 and 13:00 (a partial first day for --since 2d), 03-12
    w.record(rec({ keyId: 'key_a', ts: at('2025-03-01T10:00:00Z'), promptTokens: 1000, completionTokens: 1000, costPico: USD }));
    w.record(rec({ keyId: 'key_a', ts: at('2025-03-10T09:00:00Z'), promptTokens: 100, completionTokens: 10, cachedTokens: 50, costPico: 150_000_000n }));
    w.record(rec({ keyId: 'key_b', ts: at('2025-03-10T09:30:00Z'), modelId: 'claude-y', promptTokens: 200, completionTokens: 20, costPico: 1n }));
    w.record(rec({ keyId: 'key_a', ts: at('2025-03-11T10:00:00Z'), promptTokens: 300, completionTokens: 30, costPico: 2_000_000_000_000n }));
    w.record(rec({ keyId: 'key_b', ts: at('2025-03-11T13:00:00Z'), modelId: 'claude-y', promptTokens: 400, completionTokens: 40, costPico: 3n }));
    w.record(rec({ keyId: 'gone', ts: at('2025-03-12T08:00:00Z'), promptTokens: 1, completionTokens: 1, costPico: 0n, status: 502 }));
    await w.close();
  }

  it('groups by day over the rollups with exact totals', async () => {
    await fill();
    const r = await createUsageReporter(store(), () => NOW).report({ since: '7d', by: 'day' });
    expect(r.since).toBe('2025-03-05T12:00:00.000Z');
    expect(r.by).toBe('day');
    expect(r.rows.map((x) => [x.group, x.requests, x.prompt_tokens, x.completion_tokens, x.cost])).toEqual([
      ['2025-03-10', 2, 300, 30, '0.000150000001'],
      ['2025-03-11', 2, 700, 70, '2.000000000003'],
      ['2025-03-12', 1, 1, 1, '0.00'],
    ]);
    expect(r.totals).toEqual({ requests: 5, prompt_tokens: 1001, completion_tokens: 101, cached_tokens: 50, cost: '2.000150000004' });
  });

  it('groups by model and by key (names joined; deleted keys by id), filtered by key ref and alias', async () => {
    await fill();
    const rep = createUsageReporter(store(), () => NOW);
    const byModel = await rep.report({ since: '2025-03-01', by: 'model' });
    expect(byModel.rows.map((x) => [x.group, x.requests, x.cost])).toEqual([
      ['gpt-x', 4, '3.00015'],
      ['claude-y', 2, '0.000000000004'],
    ]);
    const byKey = await rep.report({ since: '2025-03-01', by: 'key' });
    expect(byKey.rows.map((x) => [x.group, x.requests])).toEqual([
      ['alice', 3],
      ['bob', 2],
      ['gone', 1],
    ]);
    for (const ref of ['alice', 'key_a', 'lw-aaaa1111', 'lw-aaaa']) {
      const one = await rep.report({ key: ref, since: '30d', by: 'model', model: 'codex' });
      expect(one.totals, ref).toMatchObject({ requests: 3, prompt_tokens: 1400, cost: '3.00015' });
    }
    expect((await rep.report({ key: 'bob', model: 'gpt-x', since: '30d' })).rows).toEqual([]);
  });

  it('reads the partial first day of a --since that is not midnight from the events', async () => {
    await fill();
    const rep = createUsageReporter(store(), () => NOW);
    const r = await rep.report({ since: '2025-03-11T12:00:00Z', by: 'day' });
    expect(r.rows.map((x) => [x.group, x.requests, x.prompt_tokens])).toEqual([
      ['2025-03-11', 1, 400],
      ['2025-03-12', 1, 1],
    ]);
    const byKey = await rep.report({ since: '24h', by: 'key' });
    expect(byKey.rows.map((x) => [x.group, x.requests])).toEqual([
      ['bob', 1],
      ['gone', 1],
    ]);
  });

  it('refuses bad input with 400 and unknown keys with 404', async () => {
    const rep = createUsageReporter(store(), () => NOW);
    await rejects(rep.report({ since: 'last tuesday' }), 400, /bad --since 'last tuesday': use a duration like 7d/);
    await rejects(rep.report({ since: '2030-01-01' }), 400, /in the future/);
    await rejects(rep.report({ by: 'week' as never }), 400, /bad --by 'week'/);
    await rejects(rep.report({ key: 'nobody' }), 404, /nobody/);
  });
});

it('parses --since durations and ISO dates', () => {
  expect(parseSince('7d', NOW).toISOString()).toBe('2025-03-05T12:00:00.000Z');
  expect(parseSince('24h', NOW).toISOString()).toBe('2025-03-11T12:00:00.000Z');
  expect(parseSince('90m', NOW).toISOString()).toBe('2025-03-12T10:30:00.000Z');
  expect(parseSince('2w', NOW).toISOString()).toBe('2025-02-26T12:00:00.000Z');
  expect(parseSince('2025-03-01', NOW).toISOString()).toBe('2025-03-01T00:00:00.000Z');
  expect(parseSince('2025-03-01T06:00', NOW).toISOString()).toBe('2025-03-01T06:00:00.000Z');
  expect(parseSince('2025-03-01T06:00:00+02:00', NOW).toISOString()).toBe('2025-03-01T04:00:00.000Z');
  expect(() => parseSince('0d', NOW)).toThrow(AdminError);
});
