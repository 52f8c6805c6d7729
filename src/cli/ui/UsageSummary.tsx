/** @module `lw usage` on a TTY: totals, the grouped rows, and a per-day bar chart of tokens. */
import { Box, Text } from 'ink';
import type { UsageReport, UsageRow } from '../../admin/types.js';
import { bar, formatInt, formatTime, formatUsd } from '../format.js';
import { usageColumns } from '../usage-columns.js';
import { Table } from './Table.js';
import { theme } from './theme.js';

export interface UsageSummaryProps {
  report: UsageReport;
  /** Per-day rows for the chart; defaults to the report's rows when it is grouped by day. */
  daily?: readonly UsageRow[] | undefined;
  /** Shown in watch mode: when the numbers were read. */
  updatedAt?: string | undefined;
  /** Widest bar in cells. */
  barWidth?: number;
}

function DayChart({ rows, width }: { rows: readonly UsageRow[]; width: number }) {
  const tokens = (r: UsageRow) => r.prompt_tokens + r.completion_tokens;
  const max = Math.max(0, ...rows.map(tokens));
  const label = Math.max(...rows.map((r) => r.group.length));
  const digits = Math.max(...rows.map((r) => formatInt(tokens(r)).length));
  return (
    <Box flexDirection="column">
      <Text color={theme.heading} bold>
        Tokens per day
      </Text>
      {rows.map((r) => (
        <Box key={r.group}>
          <Box width={label} marginRight={2} flexShrink={0}>
            <Text color={theme.muted}>{r.group}</Text>
          </Box>
          <Box width={digits} marginRight={1} flexShrink={0} justifyContent="flex-end">
            <Text>{formatInt(tokens(r))}</Text>
          </Box>
          <Text color={theme.bar}>{bar(tokens(r), max, width)}</Text>
        </Box>
      ))}
    </Box>
  );
}

export function UsageSummary({ report, daily, updatedAt, barWidth = 40 }: UsageSummaryProps) {
  const t = report.totals;
  const days = daily ?? (report.by === 'day' ? report.rows : []);
  return (
    <Box flexDirection="column" gap={1}>
      <Text>
        <Text bold>Usage</Text>
        <Text color={theme.muted}>
          {' '}
          since {formatTime(report.since)} by {report.by}
          {updatedAt ? ` · updated ${formatTime(updatedAt)}` : ''}
        </Text>
      </Text>
      <Text>
        <Text color={theme.accent}>{formatInt(t.requests)}</Text> requests ·{' '}
        <Text color={theme.accent}>{formatInt(t.prompt_tokens)}</Text> prompt ·{' '}
        <Text color={theme.accent}>{formatInt(t.completion_tokens)}</Text> completion ·{' '}
        <Text color={theme.accent}>{formatInt(t.cached_tokens)}</Text> cached ·{' '}
        <Text color={theme.ok}>{formatUsd(t.cost)}</Text>
      </Text>
      <Table columns={usageColumns(report.by)} rows={report.rows} empty="no usage in this period" />
      {days.length > 0 ? <DayChart rows={days} width={barWidth} /> : null}
    </Box>
  );
}
