/** @module Shared pieces of the configure tests: golden fixtures, a sample catalog, temp homes. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CatalogModelInfo, ConfigureInput, ReadText } from '../../../src/configure/types.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'configure');

export function fixture(client: string, name: string): string {
  return readFileSync(join(FIXTURES, client, name), 'utf8');
}

/** Compares with the golden file; `UPDATE_GOLDEN=1` rewrites it instead (review the diff!). */
export function expectGolden(client: string, name: string, actual: string): void {
  const path = join(FIXTURES, client, name);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

export const MODELS: CatalogModelInfo[] = [
  { id: 'gpt-4o-mini', contextWindow: 128000, maxOutput: 16384, priceIn: '0.15', priceOut: '0.6' },
  {
    id: 'claude-sonnet-4.6',
    contextWindow: 200000,
    maxOutput: 64000,
    priceIn: '3',
    priceOut: '15',
    vision: true,
    tools: true,
  },
  { id: 'local-llama', contextWindow: null, maxOutput: null, priceIn: null, priceOut: null },
];

export const BASE_URL = 'http://127.0.0.1:8040/v1';

export function makeInput(homeDir: string, overrides: Partial<ConfigureInput> = {}): ConfigureInput {
  return { baseUrl: BASE_URL, model: 'gpt-4o-mini', models: MODELS, env: {}, homeDir, ...overrides };
}

export function tempDir(prefix = 'lw-configure-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A reader over an in-memory file map (paths not in the map do not exist). */
export function mapReader(files: Record<string, string>): ReadText {
  return (path) => files[path] ?? null;
}

/** Every comment of `before` (from a `#` or `//` at line start or after a space) must still be in `after`. */
export function expectCommentsKept(before: string, after: string, marker = '#'): void {
  const escaped = marker.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&');
  const re = new RegExp(`(?:^|\\s)(${escaped}.*)$`);
  const comments = before
    .split('\n')
    .map((l) => re.exec(l)?.[1]?.trim())
    .filter((c): c is string => c !== undefined);
  expect(comments.length).toBeGreaterThan(0);
  for (const c of comments) expect(after).toContain(c);
}
