/** @module The built-in model catalog: seed coverage, aliases, upstream-name matching and discovery enrichment. */
import { describe, expect, it } from 'vitest';
import { catalog, enrichDiscoveredModel, findCatalogEntry } from '../../../src/daemon/providers/catalog.js';
import { parsePricePerMillion } from '../../../src/lib/money.js';

/** Seed 000's "Models Catalog", both tables, with their status (41 ids). */
const SEED_000: Array<[id: string, status: 'GA' | 'Preview']> = [
  ['gpt-5.3-codex', 'GA'],
  ['gpt-5.2-codex', 'GA'],
  ['gpt-5.1-codex', 'GA'],
  ['gpt-5.1-codex-max', 'GA'],
  ['gpt-5.1-codex-mini', 'Preview'],
  ['gpt-5.2', 'GA'],
  ['gpt-5.1', 'GA'],
  ['gpt-5-mini', 'GA'],
  ['claude-opus-4.6', 'GA'],
  ['claude-opus-4.6-fast', 'Preview'],
  ['claude-opus-4.5', 'GA'],
  ['claude-sonnet-4.6', 'GA'],
  ['claude-sonnet-4.5', 'GA'],
  ['claude-sonnet-4', 'GA'],
  ['claude-haiku-4.5', 'GA'],
  ['gemini-3.1-pro', 'Preview'],
  ['gemini-3-pro', 'Preview'],
  ['gemini-3-flash', 'Preview'],
  ['gemini-2.5-pro', 'GA'],
  ['grok-code-fast-1', 'GA'],
  ['raptor-mini', 'Preview'],
  ['goldeneye', 'Preview'],
  ['gpt-4o', 'GA'],
  ['gpt-4o-mini', 'GA'],
  ['o1', 'GA'],
  ['o1-mini', 'GA'],
  ['o3-mini', 'GA'],
  ['o4-mini', 'GA'],
  ['Llama-3.3-70B-Instruct', 'GA'],
  ['Llama-3.2-90B-Vision-Instruct', 'GA'],
  ['Llama-4-Scout', 'Preview'],
  ['Phi-4', 'GA'],
  ['Phi-4-mini-instruct', 'GA'],
  ['MAI-DS-R1', 'GA'],
  ['DeepSeek-R1', 'GA'],
  ['DeepSeek-V3', 'GA'],
  ['Mistral-Small-3.1', 'GA'],
  ['Codestral-2501', 'GA'],
  ['Mistral-Medium-3', 'GA'],
  ['Command-R-Plus', 'GA'],
  ['Command-R', 'GA'],
];

/** Seed 001's table (the newer context numbers win over seed 000's). */
const SEED_001: Array<[id: string, context: number]> = [
  ['gpt-5.4', 400_000],
  ['gpt-5.4-mini', 400_000],
  ['gpt-5.3-codex', 400_000],
  ['o3', 200_000],
  ['o4-mini', 200_000],
  ['claude-opus-4.6', 1_000_000],
  ['claude-sonnet-4.6', 1_000_000],
];

const byId = new Map(catalog().map((e) => [e.id, e]));

describe('catalog data', () => {
  it('has the 41 ids of seed 000 with their exact spelling and status', () => {
    expect(SEED_000).toHaveLength(41);
    for (const [id, status] of SEED_000) {
      expect(byId.get(id)?.status, id).toBe(status);
    }
  });

  it("has seed 001's models with seed 001's context windows", () => {
    for (const [id, context] of SEED_001) expect(byId.get(id)?.context_window, id).toBe(context);
    expect(byId.get('gpt-5.3-codex')?.max_output).toBe(128_000);
  });

  it('keeps seed 000 context for models seed 001 does not list', () => {
    expect(byId.get('gpt-5.1-codex-mini')?.context_window).toBe(64_000);
    expect(byId.get('Phi-4')?.context_window).toBe(16_384);
    expect(byId.get('Llama-4-Scout')?.context_window).toBe(512_000);
    expect(byId.get('gemini-2.5-pro')?.context_window).toBe(1_048_576);
  });

  it('has the embedding models of seed 002 with their dimensions', () => {
    const small = byId.get('text-embedding-3-small');
    expect(small).toMatchObject({ kind: 'embedding', context_window: 8192 });
    expect(small?.capabilities.dimensions).toEqual({ min: 1, max: 1536, default: 1536 });
    const ada = byId.get('text-embedding-ada-002');
    expect(ada).toMatchObject({ kind: 'embedding', context_window: 8192 });
    expect(ada?.capabilities.dimensions).toBeUndefined();
    expect(byId.get('text-embedding-3-large')?.capabilities.dimensions).toEqual({ min: 1, max: 3072, default: 3072 });
  });

  it('has unique ids, and no name (id, alias, upstream name) claimed by two models', () => {
    const owner = new Map<string, string>();
    for (const entry of catalog()) {
      for (const name of [entry.id, ...entry.aliases, ...entry.upstream_names]) {
        const key = name.toLowerCase();
        expect(owner.get(key) ?? entry.id, `${name} claimed by ${owner.get(key)} and ${entry.id}`).toBe(entry.id);
        owner.set(key, entry.id);
      }
    }
  });

  it('has prices that money.ts parses exactly, and sane token limits', () => {
    for (const e of catalog()) {
      for (const price of [e.prices.input, e.prices.output, e.prices.cached_input]) {
        if (price !== null) expect(() => parsePricePerMillion(price), `${e.id} ${price}`).not.toThrow();
      }
      if (e.max_output !== null && e.context_window !== null) {
        expect(e.max_output, e.id).toBeLessThanOrEqual(e.context_window);
      }
      expect(e.kind === 'embedding', e.id).toBe(e.id.includes('embedding'));
    }
  });

  it('lists the well-known list prices as exact decimal strings', () => {
    expect(byId.get('gpt-4o')?.prices).toEqual({ input: '2.5', output: '10', cached_input: '1.25' });
    expect(byId.get('gpt-4o-mini')?.prices).toEqual({ input: '0.15', output: '0.6', cached_input: '0.075' });
    expect(byId.get('claude-sonnet-4.5')?.prices).toEqual({ input: '3', output: '15', cached_input: '0.3' });
    expect(byId.get('text-embedding-3-small')?.prices.input).toBe('0.02');
    expect(byId.get('Llama-3.3-70B-Instruct')?.prices).toEqual({ input: null, output: null, cached_input: null });
  });

  it('is frozen', () => {
    expect(Object.isFrozen(catalog())).toBe(true);
    expect(Object.isFrozen(catalog()[0])).toBe(true);
  });
});

describe('findCatalogEntry', () => {
  it('resolves the aliases of seed 001', () => {
    expect(findCatalogEntry('codex')?.id).toBe('gpt-5.3-codex');
    expect(findCatalogEntry('gpt-codex')?.id).toBe('gpt-5.3-codex');
    expect(findCatalogEntry('gpt5.4')?.id).toBe('gpt-5.4');
  });

  it.each([
    ['GPT-4O', 'gpt-4o'],
    ['llama-3.3-70b-instruct', 'Llama-3.3-70B-Instruct'],
    [' gpt-5.1 ', 'gpt-5.1'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['anthropic/claude-sonnet-4.5', 'claude-sonnet-4.5'],
    ['x-ai/grok-code-fast-1', 'grok-code-fast-1'],
    ['meta-llama/llama-4-scout', 'Llama-4-Scout'],
    ['meta-llama/Llama-4-Scout-17B-16E-Instruct', 'Llama-4-Scout'],
    ['models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['gemini-3-pro-preview', 'gemini-3-pro'],
    ['gemini-2.5-pro-preview-06-05', 'gemini-2.5-pro'],
    ['deepseek/deepseek-r1', 'DeepSeek-R1'],
    ['deepseek/deepseek-r1:free', 'DeepSeek-R1'],
    ['llama3.3:latest', 'Llama-3.3-70B-Instruct'],
    ['llama-3.3-70b-versatile', 'Llama-3.3-70B-Instruct'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['o3-mini-2025-01-31', 'o3-mini'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5', 'claude-sonnet-4.5'],
    ['claude-opus-4-1-20250805', 'claude-opus-4.1'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4.5'],
    ['claude-opus-4-6', 'claude-opus-4.6'],
    ['claude-sonnet-4-20250514', 'claude-sonnet-4'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku-latest'],
    ['command-r-plus-08-2024', 'Command-R-Plus'],
  ])('%s → %s', (name, id) => {
    expect(findCatalogEntry(name)?.id).toBe(id);
  });

  it.each(['', 'gpt-6', 'o1-preview', 'gpt-4o-audio-preview', 'claude-opus-4', 'my-model', 'openai/'])(
    'does not guess for %j',
    (name) => {
      expect(findCatalogEntry(name)).toBeUndefined();
    },
  );
});

describe('enrichDiscoveredModel', () => {
  it('copies the catalog entry for a known upstream name, under the public id', () => {
    expect(enrichDiscoveredModel('claude-sonnet-4-5-20250929')).toEqual({
      id: 'claude-sonnet-4.5',
      upstream_model: 'claude-sonnet-4-5-20250929',
      catalog_id: 'claude-sonnet-4.5',
      match: 'exact',
      kind: 'chat',
      context_window: 200_000,
      max_output: 64_000,
      status: 'GA',
      prices: { input: '3', output: '15', cached_input: '0.3' },
      capabilities: { tools: true, vision: true, reasoning: true },
      aliases: [],
    });
    expect(enrichDiscoveredModel('openai/gpt-5.3-codex')).toMatchObject({
      id: 'gpt-5.3-codex',
      upstream_model: 'openai/gpt-5.3-codex',
      aliases: ['codex', 'gpt-codex'],
    });
  });

  it('keeps the own id of a dated snapshot, with metadata but no prices', () => {
    expect(enrichDiscoveredModel('gpt-4o-2024-05-13')).toMatchObject({
      id: 'gpt-4o-2024-05-13',
      catalog_id: 'gpt-4o',
      match: 'snapshot',
      context_window: 128_000,
      prices: { input: null, output: null, cached_input: null },
      capabilities: { tools: true, vision: true, reasoning: false },
    });
  });

  it('carries the dimensions range of embedding models', () => {
    const small = enrichDiscoveredModel('text-embedding-3-small');
    expect(small.kind).toBe('embedding');
    expect(small.capabilities.dimensions).toEqual({ min: 1, max: 1536, default: 1536 });
    small.capabilities.dimensions!.max = 1;
    expect(findCatalogEntry('text-embedding-3-small')?.capabilities.dimensions?.max).toBe(1536);
  });

  it('guesses the kind of unknown models from the name and knows nothing else', () => {
    expect(enrichDiscoveredModel('nomic-embed-text:latest')).toEqual({
      id: 'nomic-embed-text:latest',
      upstream_model: 'nomic-embed-text:latest',
      catalog_id: null,
      match: 'none',
      kind: 'embedding',
      context_window: null,
      max_output: null,
      status: 'GA',
      prices: { input: null, output: null, cached_input: null },
      capabilities: {},
      aliases: [],
    });
    expect(enrichDiscoveredModel('BAAI/bge-m3-Embedding').kind).toBe('embedding');
    expect(enrichDiscoveredModel('qwen2.5-coder:14b')).toMatchObject({ kind: 'chat', match: 'none' });
  });
});
