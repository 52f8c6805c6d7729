import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it, vi } from 'vitest';
import * as bpe from '../../../src/daemon/usage/bpe.js';
import type { ModelEntry } from '../../../src/daemon/state/types.js';
import type { TokenUsage } from '../../../src/daemon/translate/chat/types.js';
import {
  costOf,
  estimatePromptTokens,
  estimateTextTokens,
  MAX_EXACT_CHARS,
  quickPromptTokens,
  quickTextTokens,
} from '../../../src/daemon/usage/estimate.js';

// estimate.ts counts with bpe.ts's `countTokens`: a pass-through spy sees every call it makes
vi.mock('../../../src/daemon/usage/bpe.js', async (importOriginal) => {
  const actual = await importOriginal<typeof bpe>();
  return { ...actual, countTokens: vi.fn(actual.countTokens) };
});

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

describe('quick (tokenizer-free) estimates', () => {
  /** ceil(chars / 3): what the quick estimates charge for text. */
  const q = (chars: number): number => Math.ceil(chars / 3);

  it('quickTextTokens is a third of the length, rounded up', () => {
    expect(quickTextTokens('')).toBe(0);
    expect(quickTextTokens('a')).toBe(1);
    expect(quickTextTokens('abc')).toBe(1);
    expect(quickTextTokens('abcd')).toBe(2);
    expect(quickTextTokens('Hello, world!')).toBe(5);
  });

  it('counts role and text with the same per-message framing as estimatePromptTokens', () => {
    expect(quickPromptTokens({ messages: [{ role: 'user', content: 'Hi' }] })).toBe(3 + q('userHi'.length) + 3);
    const two = quickPromptTokens({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is the weather in Paris?' },
      ],
    });
    expect(two).toBe(2 * 3 + q('system'.length + 'Be brief.'.length + 'user'.length + 29) + 3);
    expect(quickPromptTokens({ messages: [] })).toBe(3);
  });

  it('counts names, multi-part text, reasoning and unknown parts; images at fixed costs', () => {
    const text = 'abcdef';
    const parts = quickPromptTokens({
      messages: [
        {
          role: 'user',
          name: 'alice',
          content: [
            { type: 'text', text },
            { type: 'text', text: 'xyz' },
            { type: 'image_url', image_url: { url: 'data:', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'https://x/y.png' } },
          ],
        },
      ],
    });
    expect(parts).toBe(3 + q('user'.length + 'alice'.length + text.length + 3) + 85 + 765 + 3);
    const audio = { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } };
    const withAudio = quickPromptTokens({ messages: [{ role: 'user', content: [audio] as never }] });
    // an unknown part counts as about its JSON: more than its strings alone, not far off JSON.stringify
    expect(withAudio).toBeGreaterThanOrEqual(3 + q('user'.length + JSON.stringify(audio).length) + 3);
    expect(withAudio).toBeLessThanOrEqual(3 + q('user'.length + JSON.stringify(audio).length + 16) + 3);
    const reasoning = quickPromptTokens({ messages: [{ role: 'assistant', content: 'ok', reasoning_content: 'x'.repeat(30) }] });
    expect(reasoning).toBe(3 + q('assistant'.length + 2 + 30) + 3);
  });

  it('counts tool calls (name + arguments), tool results and tool definitions', () => {
    const args = '{"city":"Paris"}';
    const call = quickPromptTokens({
      messages: [
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: args } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny, 21 °C' },
      ],
    });
    expect(call).toBe(2 * 3 + q('assistant'.length + 'weather'.length + args.length + 'tool'.length + 'sunny, 21 °C'.length) + 3);
    const tools = [
      { type: 'function' as const, function: { name: 'weather', description: 'Current weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const base = quickPromptTokens({ messages: [{ role: 'user', content: 'Hi' }] });
    const withTools = quickPromptTokens({ messages: [{ role: 'user', content: 'Hi' }], tools });
    // tool definitions count as about their JSON length (strings and keys exact, punctuation included)
    const json = JSON.stringify(tools).length;
    expect(withTools - base).toBeGreaterThanOrEqual(Math.floor(json / 3) - 1);
    expect(withTools - base).toBeLessThanOrEqual(Math.ceil((json * 1.1) / 3) + 1);
    expect(quickPromptTokens({ messages: [{ role: 'user', content: 'Hi' }], tools: [] })).toBe(base);
  });

  it('never runs the tokenizer (estimatePromptTokens, given the same request, does)', () => {
    const spy = vi.mocked(bpe.countTokens).mockClear();
    try {
      const req = { messages: [{ role: 'user' as const, content: 'Hi there' }], tools: [{ type: 'function' as const, function: { name: 'f' } }] };
      expect(quickPromptTokens(req) + quickTextTokens('Hello')).toBeGreaterThan(0);
      expect(spy).not.toHaveBeenCalled();
      estimatePromptTokens(req);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('reserves more than the real count of English prose, and tolerates odd shapes', () => {
    const prose = 'The quick brown fox jumps over the lazy dog, then naps in the afternoon sun. '.repeat(40);
    const req = { messages: [{ role: 'user' as const, content: prose }] };
    expect(quickPromptTokens(req)).toBeGreaterThan(estimatePromptTokens(req));
    expect(quickPromptTokens({ messages: undefined as never })).toBe(3);
    expect(quickPromptTokens({ messages: [{ role: 'user', content: null }] })).toBe(3 + q(4) + 3);
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
