/**
 * @module `RouteRequest.reserveTokens()` of every inference route: the tokenizer-free prompt estimate used
 * for reservations and `auto` routing (a third of the prompt's characters plus framing), memoized per
 * request, never calling the tokenizer; `promptTokens()` keeps counting with it.
 */
import { beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { chatRoute } from '../../../src/daemon/routes/chat.js';
import { embeddingsRoute, quickInputTokens } from '../../../src/daemon/routes/embeddings.js';
import { countMessagesTokens, messagesRoute } from '../../../src/daemon/routes/messages.js';
import { responsesRoute } from '../../../src/daemon/routes/responses.js';
import { requestNeeds } from '../../../src/daemon/routing/auto.js';
import { messagesRequestText } from '../../../src/daemon/translate/anthropic/request-text.js';
import { MessagesRequestSchema } from '../../../src/daemon/translate/anthropic/schema.js';
import type { ChatRequest } from '../../../src/daemon/translate/chat/types.js';
import * as bpe from '../../../src/daemon/usage/bpe.js';
import { estimatePromptTokens, quickPromptTokens } from '../../../src/daemon/usage/estimate.js';

/** ceil(chars / 3). */
const q = (chars: number): number => Math.ceil(chars / 3);

// The modules under test count with bpe.ts (o200k and cl100k): pass-through spies see every call.
vi.mock('../../../src/daemon/usage/bpe.js', async (importOriginal) => {
  const actual = await importOriginal<typeof bpe>();
  return { ...actual, countTokens: vi.fn(actual.countTokens), countTokensWithin: vi.fn(actual.countTokensWithin) };
});
let spies: MockInstance[] = [];
beforeEach(() => {
  spies = [vi.mocked(bpe.countTokens).mockClear(), vi.mocked(bpe.countTokensWithin).mockClear()];
});
const tokenizerCalls = (): number => spies.reduce((n, s) => n + s.mock.calls.length, 0);

const TOOLS = [{ type: 'function', function: { name: 'weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

describe('chat', () => {
  const body = (): Record<string, unknown> => ({
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', name: 'ann', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:', detail: 'low' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
    ],
    tools: TOOLS,
  });

  it('reserves the quick estimate of the chat prompt, once per request, without tokenizing', () => {
    const b = body();
    const rr = chatRoute.parse(b, {});
    const expected = quickPromptTokens(b as unknown as ChatRequest);
    const text = 'system'.length + 9 + 'user'.length + 3 + 13 + 'assistant'.length + 7 + 16 + 'tool'.length + 5;
    expect(expected).toBeGreaterThanOrEqual(4 * 3 + q(text) + 85 + 3); // plus the tool definitions
    expect(rr.reserveTokens()).toBe(expected);
    (b['messages'] as Array<Record<string, unknown>>).push({ role: 'user', content: 'x'.repeat(300) });
    expect(rr.reserveTokens()).toBe(expected); // memoized
    expect(tokenizerCalls()).toBe(0);
  });

  it('promptTokens() still counts with the tokenizer', () => {
    const b = body();
    const rr = chatRoute.parse(b, {});
    expect(rr.promptTokens()).toBe(estimatePromptTokens(b as unknown as ChatRequest));
    expect(spies[0]).toHaveBeenCalled();
  });

  it('feeds auto routing: requestNeeds calls the estimate once and reports it', () => {
    const rr = chatRoute.parse(body(), {});
    const estimate = vi.fn(rr.reserveTokens.bind(rr));
    const needs = requestNeeds(body(), estimate);
    expect(estimate).toHaveBeenCalledTimes(1);
    expect(needs).toEqual({ tools: true, vision: true, promptTokens: rr.reserveTokens() });
    const long = { model: 'auto', messages: [{ role: 'user', content: 'lorem ipsum dolor sit amet '.repeat(1200) }] };
    const longNeeds = requestNeeds(long, () => chatRoute.parse(long, {}).reserveTokens());
    expect(longNeeds.promptTokens).toBe(3 + q(4 + 27 * 1200) + 3);
    expect(tokenizerCalls()).toBe(0);
  });
});

describe('responses', () => {
  it('reserves the quick estimate of the translated prompt (instructions, input items, tools)', () => {
    const body = {
      model: 'gpt-4o',
      instructions: 'You are Codex.',
      input: [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'List the files.' }] },
        { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{"cmd":["ls"]}' },
        { type: 'function_call_output', call_id: 'c1', output: 'a.txt b.txt' },
      ],
      tools: [{ type: 'function', name: 'shell', parameters: { type: 'object' } }],
    };
    const rr = responsesRoute.parse(body, {});
    const n = rr.reserveTokens();
    const text = 'You are Codex.'.length + 'List the files.'.length + 'shell'.length + 14 + 'a.txt b.txt'.length;
    // system, user, assistant (tool call), tool: 4 messages, their roles and texts, plus the tool definitions
    const floor = 4 * 3 + q(text + 'system'.length + 'user'.length + 'assistant'.length + 'tool'.length) + 3;
    expect(n).toBeGreaterThan(floor);
    expect(n).toBeLessThan(floor + 40);
    expect(rr.reserveTokens()).toBe(n);
    expect(tokenizerCalls()).toBe(0);
    expect(rr.promptTokens()).toBeGreaterThan(0);
    expect(spies[0]).toHaveBeenCalled();
  });

  it('a plain string input: one user message', () => {
    const rr = responsesRoute.parse({ model: 'gpt-4o', input: 'Hello there' }, {});
    expect(rr.reserveTokens()).toBe(3 + q('user'.length + 'Hello there'.length) + 3);
    expect(tokenizerCalls()).toBe(0);
  });
});

describe('messages', () => {
  it('reserves a third of the countable text (system, text, tool use and results, tools), images left out', () => {
    const body = {
      model: 'claude',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA'.repeat(1000) } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'look', input: { zoom: 2 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'a cat' }] },
      ],
      tools: [{ name: 'look', description: 'Looks closer', input_schema: { type: 'object' } }],
    };
    const rr = messagesRoute.parse(body, {});
    const text = messagesRequestText(MessagesRequestSchema.parse(body));
    expect(text).not.toContain('AAAA');
    expect(rr.reserveTokens()).toBe(q(text.length));
    expect(rr.reserveTokens()).toBe(q(text.length));
    expect(tokenizerCalls()).toBe(0);
    expect(rr.promptTokens()).toBe(countMessagesTokens(MessagesRequestSchema.parse(body)));
  });

  it('never reserves 0', () => {
    const rr = messagesRoute.parse({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: '' }] }, {});
    expect(rr.reserveTokens()).toBe(1);
  });
});

describe('embeddings', () => {
  it('strings by a third of their length, token arrays by their length, before validation', () => {
    const cases: Array<[unknown, number]> = [
      ['hello world', q(11)],
      [['hello', 'a', 'abcdefg'], q(5) + q(1) + q(7)],
      [[5, 6, 7, 8], 4],
      [[[1, 2], [3], [4, 5, 6]], 6],
    ];
    for (const [input, tokens] of cases) {
      const rr = embeddingsRoute.parse({ model: 'emb', input }, {});
      expect(rr.reserveTokens()).toBe(tokens);
      expect(quickInputTokens(input)).toBe(tokens);
    }
    expect(tokenizerCalls()).toBe(0);
  });

  it('tolerates shapes validation will refuse', () => {
    expect(quickInputTokens({ text: 'x' })).toBe(0);
    expect(quickInputTokens([])).toBe(0);
    expect(quickInputTokens(['abc', 7, null, [1, 2]])).toBe(1 + 2);
  });
});
