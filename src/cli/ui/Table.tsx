/** @module Generic column table for every `list` command on a TTY (data in, text out, no fetching). */
import { Box, Text } from 'ink';
import { layoutTable, type Column } from '../format.js';
import { theme, toneColor } from './theme.js';

export type { Column } from '../format.js';

export interface TableProps<T> {
  columns: readonly Column<T>[];
  rows: readonly T[];
  /** Shown instead of an empty table. */
  empty?: string;
}

/**
 * @example
 * <Table columns={[{ header: 'NAME', value: (k: KeyView) => k.name }]} rows={keys} empty="no keys yet" />
 */
export function Table<T>({ columns, rows, empty = 'nothing to show' }: TableProps<T>) {
  if (rows.length === 0) return <Text color={theme.muted}>{empty}</Text>;
  const { cells, widths } = layoutTable(columns, rows);
  const last = columns.length - 1;
  const cell = (text: string, i: number, color: string | undefined, bold = false) => (
    <Box
      key={i}
      width={widths[i]}
      flexShrink={i === last ? 1 : 0}
      marginRight={i === last ? 0 : 2}
      justifyContent={columns[i]?.align === 'right' ? 'flex-end' : 'flex-start'}
    >
      <Text color={color} bold={bold} wrap="truncate-end">
        {text}
      </Text>
    </Box>
  );
  return (
    <Box flexDirection="column">
      <Box>{columns.map((c, i) => cell(c.header, i, theme.heading, true))}</Box>
      {rows.map((row, r) => (
        <Box key={r}>{columns.map((c, i) => cell(cells[r]?.[i] ?? '', i, toneColor(c.tone?.(row))))}</Box>
      ))}
    </Box>
  );
}

export interface FieldsProps {
  pairs: ReadonlyArray<readonly [string, string]>;
}

/** `label  value` lines (a `show` command) with muted, aligned labels. */
export function Fields({ pairs }: FieldsProps) {
  const width = Math.max(0, ...pairs.map(([k]) => k.length)) + 1;
  return (
    <Box flexDirection="column">
      {pairs.map(([k, v]) => (
        <Box key={k}>
          <Box width={width} marginRight={2} flexShrink={0}>
            <Text color={theme.muted}>{k + ':'}</Text>
          </Box>
          <Text>{v}</Text>
        </Box>
      ))}
    </Box>
  );
}
