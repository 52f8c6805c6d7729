import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import type { UsageReport } from '../../../../src/admin/types.js';
import { UsageSummary } from '../../../../src/cli/ui/UsageSummary.js';

const report: UsageReport = {
  totals: { requests: 30, prompt_tokens: 12_000, completion_tokens: 3_000, cached_tokens: 500, cost: '0.0105' },
  rows: [
    { group: '2025-01-01', requests: 10, prompt_tokens: 4_000, completion_tokens: 1_000, cached_tokens: 0, cost: '0.0035' },
    { group: '2025-01-02', requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, cost: '0' },
    { group: '2025-01-03', requests: 20, prompt_tokens: 8_000, completion_tokens: 2_000, cached_tokens: 500, cost: '0.007' },
  ],
  by: 'day',
  since: '2025-01-01T00:00:00.000Z',
};

const frame = (el: ReactElement) => stripVTControlCharacters(render(el).lastFrame() ?? '');

describe('UsageSummary', () => {
  it('renders totals, rows and a per-day bar chart scaled to the busiest day', () => {
    const out = frame(<UsageSummary report={report} barWidth={10} />);
    expect(out).toMatchInlineSnapshot(`
      "Usage since 2025-01-01 00:00 by day

      30 requests · 12,000 prompt · 3,000 completion · 500 cached · $0.0105

      DAY         REQUESTS  PROMPT  COMPLETION  CACHED     COST
      2025-01-01        10   4,000       1,000       0  $0.0035
      2025-01-02         0       0           0       0       $0
      2025-01-03        20   8,000       2,000     500   $0.007

      Tokens per day
      2025-01-01   5,000 █████
      2025-01-02       0
      2025-01-03  10,000 ██████████"
    `);
    expect(out).toMatch(/2025-01-03 {2}10,000 █{10}$/m);
    expect(out).toMatch(/2025-01-01 {3}5,000 █{5}$/m);
    expect(out).toMatch(/2025-01-02 {7}0$/m);
  });

  it('uses the given daily rows when grouped by model, and says when there is no usage', () => {
    const byModel: UsageReport = { ...report, by: 'model', rows: [] };
    const out = frame(<UsageSummary report={byModel} daily={report.rows.slice(0, 1)} updatedAt="2025-01-03T10:00:00Z" barWidth={4} />);
    expect(out).toContain('no usage in this period');
    expect(out).toContain('updated 2025-01-03 10:00');
    expect(out).toMatch(/2025-01-01 {2}5,000 ████/);
  });
});
