import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../src/daemon/state/types.js';
import type { TokenUsage } from '../../../src/daemon/translate/chat/types.js';
import { costOf, estimatePromptTokens, estimateTextTokens, MAX_EXACT_CHARS } from '../../../src/daemon/usage/estimate.js';

const usage = (p: number, c: number, cached = 0): TokenUsage => ({
  promptTokens: p,
  completionTokens: c,
  cachedTokens: cached,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});
type Prices = Pick<ModelEntry, 'priceInMicros' | 'priceOutMicros' | 'priceCachedInMicros'>;
const prices = (inp: bigint | null, out: bigint | null, cached: bigint | null = null): Prices => ({
  priceInMicros: inp,
  priceOutMicros: out,
  priceCachedInMicros: cached,
});

describe('token estimates', () => {
  it('counts text with the o200k tokenizer, special tokens as plain text', () => {
    expect(estimateTextTokens('Hello, world!')).toBe(countTokens('Hello, world!'));
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('a <|endoftext|> b')).toBeGreaterThan(3);
  });

  it('counts messages, parts, tool calls and tool definitions with chat framing', () => {
    const text = 'What is the weather in Paris?';
    const base = estimatePromptTokens({ messages: [{ role: 'user', content: text }] });
    expect(base).toBe(3 + countTokens('user') + countTokens(text) + 3);
    const parts = estimatePromptTokens({
      messages: [{ role: 'user', content: [{ type: 'text', text }, { type: 'image_url', image_url: { url: 'data:', detail: 'low' } }] }],
    });
    expect(parts).toBe(base + 85);
    const tools = [{ type: 'function' as const, function: { name: 'weather', parameters: { type: 'object' } } }];
    expect(estimatePromptTokens({ messages: [{ role: 'user', content: text }], tools })).toBe(base + countTokens(JSON.stringify(tools)));
    const withCall = estimatePromptTokens({
      messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] }],
    });
    expect(withCall).toBe(3 + countTokens('assistant') + countTokens('weather') + countTokens('{"city":"Paris"}') + 3);
  });

  it('caps tokenizer work on huge inputs and extrapolates the rest', () => {
    const chunk = 'The quick brown fox jumps over the lazy dog. ';
    const huge = chunk.repeat(Math.ceil((MAX_EXACT_CHARS * 40) / chunk.length)); // ~1.9 MB
    const t0 = performance.now();
    const n = estimateTextTokens(huge);
    const exact = countTokens(huge.slice(0, MAX_EXACT_CHARS * 4));
    expect(performance.now() - t0).toBeLessThan(5_000); // generous: the point is "not seconds per MB"
    expect(n / ((exact * huge.length) / (MAX_EXACT_CHARS * 4))).toBeGreaterThan(0.95);
    expect(n / ((exact * huge.length) / (MAX_EXACT_CHARS * 4))).toBeLessThan(1.1);
  });
});

describe('costOf', () => {
  it('bills input, cached input and output exactly in pico-dollars', () => {
    // $3 / $15 per 1M, cached $0.30
    const m = prices(3_000_000n, 15_000_000n, 300_000n);
    expect(costOf(m, usage(1000, 200, 400))).toEqual({ costPico: 600n * 3_000_000n + 400n * 300_000n + 200n * 15_000_000n, unpriced: false });
    expect(costOf(prices(3_000_000n, 15_000_000n), usage(1000, 0, 400)).costPico).toBe(1000n * 3_000_000n);
    expect(costOf(m, usage(10, 5, 50)).costPico).toBe(10n * 300_000n + 5n * 15_000_000n); // cached clamped to prompt
  });

  it('never bills an unpriced model as a silent $0', () => {
    expect(costOf(prices(null, null), usage(10, 10))).toEqual({ costPico: 0n, unpriced: true });
    expect(costOf(prices(1n, null), usage(10, 10))).toEqual({ costPico: 10n, unpriced: true });
    expect(costOf(prices(null, 1n), usage(0, 10))).toEqual({ costPico: 10n, unpriced: false });
    expect(costOf(prices(null, null), usage(0, 0))).toEqual({ costPico: 0n, unpriced: false });
  });
});
