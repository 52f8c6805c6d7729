/**
 * @module Pure text helpers shared by the plain renderer and the ink components: aligned columns,
 * numbers, dates and unicode bar charts. No colours here: plain output must stay free of ANSI codes.
 */
import type { Tone } from './ui/theme.js';

/** One column of a table: a header and how to read a row's cell (always a string, never colour). */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
  /** Semantic tone of a cell on a TTY (a theme token name); ignored by plain output. */
  tone?: (row: T) => Tone | undefined;
}

/** Cell values and the width of each column (the widest of header and cells). */
export function layoutTable<T>(
  columns: readonly Column<T>[],
  rows: readonly T[],
): { cells: string[][]; widths: number[] } {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  return { cells, widths };
}

function pad(text: string, width: number, align: 'left' | 'right' | undefined): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

/**
 * Aligned plain-text columns separated by two spaces, header first, no trailing spaces.
 * @example plainTable([{ header: 'NAME', value: (r: { n: string }) => r.n }], [{ n: 'a' }]) // 'NAME\na'
 */
export function plainTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const { cells, widths } = layoutTable(columns, rows);
  const line = (values: string[]): string =>
    values
      .map((v, i) => pad(v, widths[i] ?? 0, columns[i]?.align))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** `label  value` lines with the labels aligned. */
export function plainFields(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(width + 1)}  ${v}`.trimEnd()).join('\n');
}

/** 1234567 → `1,234,567`; null → the given placeholder. */
export function formatInt(n: number | null | undefined, none = '-'): string {
  return n === null || n === undefined ? none : n.toLocaleString('en-US');
}

/** ISO timestamp → `YYYY-MM-DD HH:MM` (UTC); null → placeholder. */
export function formatTime(iso: string | null | undefined, none = 'never'): string {
  if (!iso) return none;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** An exact decimal USD string → `$0.0015`; null → placeholder. */
export function formatUsd(amount: string | null | undefined, none = '-'): string {
  return amount === null || amount === undefined ? none : `$${amount}`;
}

/** A list (allowlist, aliases) → `a, b`; null or empty → placeholder. */
export function formatList(items: readonly string[] | null | undefined, none = '-'): string {
  return items && items.length > 0 ? items.join(', ') : none;
}

const PARTIALS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/**
 * A horizontal bar of unicode blocks, `value / max` of `width` cells, in eighths of a cell.
 * A non-zero value always shows at least a sliver.
 * @example bar(5, 10, 4) // '██'
 */
export function bar(value: number, max: number, width: number): string {
  if (value <= 0 || max <= 0 || width <= 0) return '';
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + (PARTIALS[eighths % 8] ?? '');
}
