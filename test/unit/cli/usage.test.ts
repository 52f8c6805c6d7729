import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseUsageOptions, usageLine } from '../../../src/cli/commands/usage.js';
import { fakeAdmin, runCli } from './fake-admin.js';

describe('lw usage', () => {
  it('--json prints {totals, rows} as SPEC §4 and passes the filters', async () => {
    const r = await runCli(['usage', '--key', 'alice', '--model', 'gpt-4o', '--since', '7d', '--by', 'day', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { totals: Record<string, unknown>; rows: unknown[] };
    expect(Object.keys(report.totals)).toEqual(
      expect.arrayContaining(['requests', 'prompt_tokens', 'completion_tokens', 'cost']),
    );
    expect(report.rows).toHaveLength(2);
    expect(r.service.calls).toEqual([['usage.report', [{ key: 'alice', model: 'gpt-4o', since: '7d', by: 'day' }]]]);
  });

  it('plain: totals line and an aligned table, no chart, no ANSI', async () => {
    const r = await runCli(['usage']);
    expect(r.stdout).toBe(
      [
        'usage since 2024-12-26T00:00:00.000Z by day',
        'requests 3  prompt 300  completion 150  cached 10  cost $0.00123',
        '',
        'DAY         REQUESTS  PROMPT  COMPLETION  CACHED      COST',
        '2025-01-01         1     100          50       0   $0.0004',
        '2025-01-02         2     200         100      10  $0.00083',
        '',
      ].join('\n'),
    );
  });

  it('on a TTY: totals, rows and a per-day chart, fetched by day when grouped otherwise', async () => {
    const r = await runCli(['usage', '--by', 'model'], { isTTY: true });
    const text = stripVTControlCharacters(r.stdout);
    expect(text).toContain('3 requests · 300 prompt · 150 completion · 10 cached · $0.00123');
    expect(text).toMatch(/MODEL +REQUESTS/);
    expect(text).toContain('Tokens per day');
    expect(text).toMatch(/2025-01-02 {2}300 █{40}/);
    expect(r.service.calls.map((c) => (c[1][0] as { by?: string }).by)).toEqual(['model', 'day']);
  });

  it('rejects a bad --since, --by or --interval with one line', async () => {
    for (const [flags, flag] of [
      [['--since', 'yesterday'], '--since'],
      [['--by', 'week'], '--by'],
      [['--watch', '--interval', '10ms'], '--interval'],
      [['--watch', '--count', '0'], '--count'],
    ] as const) {
      const r = await runCli(['usage', ...flags]);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^error: invalid ${flag}: `));
    }
  });

  it('--watch without a TTY prints one line per refresh and stops after --count', async () => {
    const r = await runCli(['usage', '--watch', '--interval', '200ms', '--count', '3']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^\S+Z requests=3 prompt_tokens=300 completion_tokens=150 cached_tokens=10 cost=0\.00123$/);
    expect([r.opened, r.closed]).toEqual([1, 1]);
  });

  it('--watch --json prints one JSON report per line', async () => {
    const r = await runCli(['usage', '--watch', '--interval', '200ms', '--count', '2', '--json']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { time: string; totals: unknown });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toHaveProperty('time');
    expect(lines[0]).toHaveProperty('totals');
  });

  it('--watch on a TTY re-renders live and Ctrl-C (abort) exits 0', async () => {
    const ac = new AbortController();
    const service = fakeAdmin();
    const original = service.usage.report.bind(service.usage);
    let reads = 0;
    service.usage.report = async (q) => {
      if (++reads === 3) setImmediate(() => ac.abort());
      return original(q);
    };
    const r = await runCli(['usage', '--watch', '--interval', '200ms'], { service, isTTY: true, signal: ac.signal });
    expect(r.code).toBe(0);
    expect(reads).toBeGreaterThanOrEqual(3);
    const text = stripVTControlCharacters(r.stdout);
    expect(text).toContain('Tokens per day');
    expect(text).toContain('updated');
    expect(r.closed).toBe(r.opened);
  });

  it('--help has examples', async () => {
    const r = await runCli(['usage', '--help']);
    expect(r.stdout).toContain('Examples:\n  $ lw usage');
    expect(r.stdout).toContain('--watch');
  });

  it('parseUsageOptions defaults the interval to 2 s and usageLine is stable', () => {
    expect(parseUsageOptions({ watch: true, interval: '1m' })).toEqual({ query: {}, watch: true, intervalMs: 60_000, count: undefined });
    expect(parseUsageOptions({})).toMatchObject({ intervalMs: 2_000, watch: false });
    const line = usageLine(fakeAdmin().usageReport, new Date('2025-01-01T00:00:00Z'));
    expect(line).toBe('2025-01-01T00:00:00.000Z requests=3 prompt_tokens=300 completion_tokens=150 cached_tokens=10 cost=0.00123');
  });
});
