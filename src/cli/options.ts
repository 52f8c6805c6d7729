/**
 * @module zod schemas for command-line option values (all arrive as strings): whole numbers, limits
 * that may be cleared, USD amounts, comma lists, durations. A bad value fails before the store opens,
 * and `handleCliError` turns the ZodError into `error: invalid --rpm: …`.
 */
import { z } from 'zod';

const CLEAR_WORDS = ['none', 'unlimited', 'inherit', 'null'] as const;

/** `60`, `1_000_000` or `1,000,000` → a safe non-negative integer. */
export const wholeNumber = z
  .string()
  .trim()
  .regex(/^\d[\d_,]*$/, 'expected a whole number like 60')
  .transform((s) => Number(s.replace(/[_,]/g, '')))
  .refine((n) => Number.isSafeInteger(n), 'number too large');

const isClear = (s: string): boolean => (CLEAR_WORDS as readonly string[]).includes(s.trim().toLowerCase());

/** A whole number, or `none` / `unlimited` / `inherit` → null (no limit, or back to the tier's). */
export const limit = z
  .string()
  .trim()
  .regex(/^(\d[\d_,]*|none|unlimited|inherit|null)$/i, "expected a whole number like 60, or 'none'")
  .transform((s) => (isClear(s) ? null : Number(s.replace(/[_,]/g, ''))))
  .refine((n) => n === null || Number.isSafeInteger(n), 'number too large');

/** A USD amount as an exact decimal string. */
export const usd = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'expected an amount in USD like 12.50');

/** A USD amount, or `none` → null (remove the balance). */
export const usdOrNone = z
  .string()
  .trim()
  .regex(/^(\d+(\.\d+)?|none|unlimited|inherit|null)$/i, "expected an amount in USD like 12.50, or 'none'")
  .transform((s) => (isClear(s) ? null : s));

const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** `a, b,c` → `['a','b','c']` (empty items dropped). */
export const csv = z
  .string()
  .refine((s) => splitList(s).length > 0, 'expected a comma-separated list like a,b')
  .transform(splitList);

/** A list, or `none` / `inherit` → null (no per-key allowlist). */
export const csvOrNone = z
  .string()
  .refine((s) => splitList(s).length > 0, "expected a comma-separated list like a,b, or 'none'")
  .transform((s) => (isClear(s) ? null : splitList(s)));

/** A span back from now (`7d`, `24h`, `30m`, `2w`) or an ISO date. */
export const since = z
  .string()
  .trim()
  .regex(/^(\d+[smhdw]|\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)$/, 'expected a span like 7d, 24h or a date like 2025-01-31');

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** `2s`, `500ms`, `1m` → milliseconds (at least 200 ms). */
export const interval = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h)?$/, 'expected an interval like 2s, 500ms or 1m')
  .transform((s) => {
    const m = /^(\d+)(ms|s|m|h)?$/.exec(s);
    return Number(m?.[1] ?? 0) * UNIT_MS[(m?.[2] ?? 's') as keyof typeof UNIT_MS];
  })
  .refine((ms) => ms >= 200, 'the interval must be at least 200ms');

/** `K=V` pairs (repeatable `--header`) → a record. */
export const headerPairs = z
  .array(z.string().regex(/^[^=\s]+=.*$/, 'expected NAME=VALUE'))
  .transform((pairs) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])));

/** Collects a repeatable option into an array (commander's `argParser`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Copies only the keys whose value is not undefined (so an unset flag never overwrites a field). */
export function definedOnly<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
