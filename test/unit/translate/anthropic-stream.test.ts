import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/daemon/errors.js';
import type { ChatChunk, ChatChunkChoice, ChatUsage } from '../../../src/daemon/translate/chat/types.js';
import {
  createAnthropicToChatStream,
  createChatToAnthropicStream,
} from '../../../src/daemon/translate/anthropic/stream.js';
import { chatChunks, messagesEvents, parseSse, sseFetch, type SseEvent } from './anthropic-fixtures.js';

// ---------- (A) Anthropic events → Chat chunks ----------

const A = { id: 'chatcmpl-gw1', created: 1700000000, model: 'claude-sonnet' };
type Delta = ChatChunkChoice['delta'];
const chunk = (delta: Delta, finish: ChatChunkChoice['finish_reason'] = null): ChatChunk => ({
  id: A.id,
  object: 'chat.completion.chunk',
  created: A.created,
  model: A.model,
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk = (usage: ChatUsage): ChatChunk => ({ ...chunk({}), choices: [], usage });
const role = chunk({ role: 'assistant', content: '' });
const args = (index: number, a: string) => chunk({ tool_calls: [{ index, function: { arguments: a } }] });
const call = (index: number, id: string, name: string, a = '') =>
  chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: a } }] });

function runA(events: Array<{ type: string; [k: string]: unknown }>): ChatChunk[] {
  const s = createAnthropicToChatStream(A);
  const out = events.flatMap((e) => s.push(e));
  expect(s.finish()).toEqual([]); // message_stop already closed the stream
  return out;
}

describe('createAnthropicToChatStream (anthropic upstream → Chat client)', () => {
  it('streams text, then finish_reason, then a usage-only chunk with cache read/write', () => {
    expect(runA(messagesEvents('text'))).toEqual([
      role,
      chunk({ content: 'Orange' }),
      chunk({ content: ', green' }),
      chunk({ content: ' and purple.' }),
      chunk({}, 'stop'),
      usageChunk({
        prompt_tokens: 4304,
        completion_tokens: 9,
        total_tokens: 4313,
        prompt_tokens_details: { cached_tokens: 4096, cache_write_tokens: 200 },
      }),
    ]);
  });

  it('streams parallel tool_use: id + name first, input_json_delta fragments, {} for no input', () => {
    const out = runA(messagesEvents('tool-use'));
    expect(out).toEqual([
      role,
      chunk({ content: 'Checking the weather' }),
      chunk({ content: ' and the time.' }),
      call(0, 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', 'get_weather'),
      args(0, '{"loc'),
      args(0, 'ation": "San Fra'),
      args(0, 'ncisco, CA"'),
      args(0, ', "unit": "fah'),
      args(0, 'renheit"}'),
      call(1, 'toolu_01VZ5u9ZKx4M3CM7bJAXqsd2', 'get_time'),
      args(1, '{}'),
      chunk({}, 'tool_calls'),
      usageChunk({
        prompt_tokens: 472,
        completion_tokens: 89,
        total_tokens: 561,
        prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      }),
    ]);
  });

  it('streams thinking as reasoning_content, skips signatures and redacted thinking, maps max_tokens', () => {
    expect(runA(messagesEvents('thinking'))).toEqual([
      role,
      chunk({ reasoning_content: '27 * 453: 27 * 400 = 10800' }),
      chunk({ reasoning_content: ', 27 * 53 = 1431, total 12231.' }),
      chunk({ content: '27 × 453 = 12,2' }),
      chunk({}, 'length'),
      usageChunk({
        prompt_tokens: 40,
        completion_tokens: 64,
        total_tokens: 104,
        prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 50 },
      }),
    ]);
  });

  it('throws a GatewayError on an error event, after the chunks already produced', () => {
    const s = createAnthropicToChatStream(A);
    const events = messagesEvents('error');
    const before = events.slice(0, -1).flatMap((e) => s.push(e));
    expect(before).toEqual([role, chunk({ content: 'Let me' })]);
    let thrown: unknown;
    try {
      s.push(events[events.length - 1] ?? { type: 'missing' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect(thrown).toMatchObject({
      code: 'upstream_error',
      status: 529,
      message: expect.stringContaining('Overloaded') as string,
    });
  });

  it.each([
    ['rate_limit_error', 'rate_limit_exceeded', 429],
    ['api_error', 'upstream_error', 502],
    ['timeout_error', 'upstream_timeout', 504],
  ])('maps error type %s to %s', (type, code, status) => {
    const s = createAnthropicToChatStream(A);
    expect(() => s.push({ type: 'error', error: { type, message: 'x' } })).toThrow(
      expect.objectContaining({ code, status }) as Error,
    );
  });

  it('closes a stream cut before message_stop, using the last stop_reason', () => {
    const s = createAnthropicToChatStream(A);
    const events = messagesEvents('text').filter((e) => e.type !== 'message_stop');
    const out = [...events.flatMap((e) => s.push(e)), ...s.finish()];
    expect(out.slice(-2).map((c) => c.choices[0]?.finish_reason ?? 'usage')).toEqual(['stop', 'usage']);
    expect(s.finish()).toEqual([]);
  });

  it('ignores pings, unknown events, a duplicate message_start and anything after message_stop', () => {
    const s = createAnthropicToChatStream(A);
    const start = messagesEvents('text')[0] ?? { type: 'missing' };
    expect(s.push({ type: 'ping' })).toEqual([]);
    expect(s.push({ type: 'future_event', x: 1 })).toEqual([]);
    expect(createAnthropicToChatStream(A).finish()).toEqual([]);
    expect(s.push(start)).toEqual([role]);
    expect(s.push(start)).toEqual([]);
    s.push({ type: 'message_stop' });
    const late = { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'late' } };
    expect(s.push(late)).toEqual([]);
  });

  it('sends a tool input that arrives whole in content_block_start at once, without a trailing {}', () => {
    const s = createAnthropicToChatStream(A);
    const out = [
      ...s.push({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } },
      }),
      ...s.push({ type: 'content_block_stop', index: 0 }),
    ];
    expect(out).toEqual([
      role,
      call(0, 't1', 'f', '{"a":1}'),
    ]);
  });

  it('rejects a malformed known event', () => {
    const s = createAnthropicToChatStream(A);
    const noIndex = { type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' } };
    expect(() => s.push(noIndex)).toThrow(GatewayError);
  });

  it('produces chunks the openai SDK accumulates into the right completion', async () => {
    const chunks = runA(messagesEvents('tool-use'));
    const body = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
    const client = new OpenAI({ apiKey: 'test', baseURL: 'http://gw.invalid/v1', fetch: sseFetch(body) });
    const stream = client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    const done = await stream.finalChatCompletion();
    const choice = done.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBe('Checking the weather and the time.');
    const calls = choice?.message.tool_calls ?? [];
    const parsed = calls.map((t) => (t.type === 'function' ? [t.id, JSON.parse(t.function.arguments)] : t));
    expect(parsed).toEqual([
      ['toolu_01T1x1fJ34qAmk2tNTrN7Up6', { location: 'San Francisco, CA', unit: 'fahrenheit' }],
      ['toolu_01VZ5u9ZKx4M3CM7bJAXqsd2', {}],
    ]);
    expect(done.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 });
  });
});

// ---------- (B) Chat chunks → Messages SSE ----------

const B = { id: 'msg_gw_01', model: 'claude-via-lw' };
const usage = (input: number, output: number, cacheRead = 0) => ({
  input_tokens: input,
  output_tokens: output,
  cache_read_input_tokens: cacheRead,
  cache_creation_input_tokens: 0,
});
const messageStart = (inputTokens: number): SseEvent => ({
  event: 'message_start',
  data: {
    type: 'message_start',
    message: {
      id: B.id,
      type: 'message',
      role: 'assistant',
      model: B.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage(inputTokens, 1),
    },
  },
});
const ev = (type: string, data: Record<string, unknown>): SseEvent => ({
  event: type,
  data: { type, ...data },
});
const textStart = (index: number) =>
  ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
const text = (index: number, t: string) =>
  ev('content_block_delta', { index, delta: { type: 'text_delta', text: t } });
const stop = (index: number) => ev('content_block_stop', { index });
const toolStart = (index: number, id: string, name: string) =>
  ev('content_block_start', { index, content_block: { type: 'tool_use', id, name, input: {} } });
const json = (index: number, partial: string) =>
  ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } });
const end = (stopReason: string, u: Record<string, number>): SseEvent[] => [
  ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: u }),
  ev('message_stop', {}),
];

/** What @anthropic-ai/sdk's MessageStream (Claude Code's client) makes of an SSE body. */
function anthropicFinalMessage(body: string) {
  const fetch = sseFetch(body);
  const client = new Anthropic({ apiKey: 't', baseURL: 'http://gw.invalid', fetch, maxRetries: 0 });
  const params = { model: B.model, max_tokens: 100, messages: [{ role: 'user' as const, content: 'hi' }] };
  return client.messages.stream(params).finalMessage();
}

function runB(name: string, estimatedInputTokens: number): string {
  const s = createChatToAnthropicStream({ ...B, estimatedInputTokens });
  return chatChunks(name).map((c) => s.push(c)).join('') + s.finish();
}

/** Messages stream invariants: one open block at a time, indices 0,1,2…, deltas only for the open block. */
function expectWellFormed(events: SseEvent[]): void {
  let open: number | null = null;
  let next = 0;
  expect(events[0]?.event).toBe('message_start');
  expect(events.slice(-2).map((e) => e.event)).toEqual(['message_delta', 'message_stop']);
  for (const { event, data } of events) {
    if (event === 'content_block_start') {
      expect(open).toBeNull();
      expect(data.index).toBe(next++);
      open = data.index as number;
    } else if (event === 'content_block_delta') expect(data.index).toBe(open);
    else if (event === 'content_block_stop') {
      expect(data.index).toBe(open);
      open = null;
    }
  }
  expect(open).toBeNull();
}

describe('createChatToAnthropicStream (OpenAI-compatible upstream → /v1/messages client)', () => {
  it('streams text: estimate in message_start, real cache-aware usage in message_delta', () => {
    const events = parseSse(runB('text', 1290));
    expect(events).toEqual([
      messageStart(1290),
      textStart(0),
      text(0, 'Orange'),
      text(0, ', green'),
      text(0, ' and purple.'),
      stop(0),
      ...end('end_turn', usage(158, 9, 1152)),
    ]);
    expectWellFormed(events);
  });

  it('streams text then parallel tool calls whose arguments arrive in many fragments', () => {
    const events = parseSse(runB('tool-calls', 90));
    expect(events).toEqual([
      messageStart(90),
      textStart(0),
      text(0, 'Checking both.'),
      stop(0),
      toolStart(1, 'call_DdmO9pD3xa9XTPNJ32zg2hcA', 'get_weather'),
      json(1, '{"lo'),
      json(1, 'cation": "Pa'),
      json(1, 'ris, France"}'),
      stop(1),
      toolStart(2, 'call_ABt7yR6XqB2sSjQGVbLzQ1kV', 'get_weather'),
      json(2, '{"location"'),
      json(2, ': "Tokyo, Japan"}'),
      stop(2),
      ...end('tool_use', usage(95, 52)),
    ]);
    expectWellFormed(events);
  });

  it('streams reasoning_content as a thinking block before the text; length → max_tokens', () => {
    const events = parseSse(runB('reasoning', 60));
    expect(events).toEqual([
      messageStart(60),
      ev('content_block_start', {
        index: 0,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      }),
      ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: '27 * 453' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: ' = 12231.' } }),
      stop(0),
      textStart(1),
      text(1, '12,231'),
      stop(1),
      ...end('max_tokens', usage(64, 20)),
    ]);
    expectWellFormed(events);
  });

  it('splits same-index calls with distinct ids, reports tool_use under "stop", estimates usage', () => {
    const events = parseSse(runB('ollama-tools-stop', 30));
    expect(events).toEqual([
      messageStart(30),
      toolStart(0, 'call_wk1p2r3s', 'get_weather'),
      json(0, '{"location":"Paris"}'),
      stop(0),
      toolStart(1, 'call_x9y8z7w6', 'get_time'),
      json(1, '{}'),
      stop(1),
      // 22 characters of arguments → ceil(22 / 4) output tokens
      ...end('tool_use', usage(30, 6)),
    ]);
    expectWellFormed(events);
  });

  it('writes exact SSE frames and ends with a single error event on fail()', () => {
    const s = createChatToAnthropicStream({ ...B, estimatedInputTokens: 12 });
    const [first] = chatChunks('text');
    expect(s.push(first as ChatChunk)).toBe(
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_gw_01","type":"message",' +
        '"role":"assistant","model":"claude-via-lw","content":[],"stop_reason":null,"stop_sequence":null,' +
        '"usage":{"input_tokens":12,"output_tokens":1,"cache_read_input_tokens":0,' +
        '"cache_creation_input_tokens":0}}}\n\n',
    );
    expect(s.fail({ type: 'api_error', message: 'Connection reset' })).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Connection reset"}}\n\n',
    );
    expect(s.finish()).toBe('');
    expect(s.push(first as ChatChunk)).toBe('');
  });

  it('never reports 0/0 usage, even for an empty upstream stream', () => {
    const s = createChatToAnthropicStream({ ...B, estimatedInputTokens: 0 });
    expect(parseSse(s.finish())).toEqual([
      messageStart(1),
      ...end('end_turn', usage(1, 1)),
    ]);
  });

  it('gives id-less tool calls a stable id and ignores choices other than index 0', () => {
    const s = createChatToAnthropicStream({ ...B, estimatedInputTokens: 5 });
    const base = { id: 'x', object: 'chat.completion.chunk' as const, created: 1, model: 'up' };
    const out =
      s.push({ ...base, choices: [{ index: 1, delta: { content: 'other choice' }, finish_reason: null }] }) +
      s.push({
        ...base,
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, function: { name: 'ls', arguments: '{}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
      }) +
      s.finish();
    const events = parseSse(out);
    expect(events.slice(1, 4)).toEqual([toolStart(0, 'toolu_msg_gw_01_0', 'ls'), json(0, '{}'), stop(0)]);
    expectWellFormed(events);
  });

  it('produces SSE the @anthropic-ai/sdk (Claude Code) accumulates into the right message', async () => {
    const message = await anthropicFinalMessage(runB('tool-calls', 90));
    expect(message.id).toBe(B.id);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toMatchObject([
      { type: 'text', text: 'Checking both.' },
      { type: 'tool_use', id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', input: { location: 'Paris, France' } },
      { type: 'tool_use', id: 'call_ABt7yR6XqB2sSjQGVbLzQ1kV', input: { location: 'Tokyo, Japan' } },
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 95, output_tokens: 52 });
  });

  it('surfaces fail() to the @anthropic-ai/sdk as an API error', async () => {
    const s = createChatToAnthropicStream({ ...B, estimatedInputTokens: 5 });
    const sent = chatChunks('text').slice(0, 2).map((c) => s.push(c));
    const body = sent.join('') + s.fail({ type: 'overloaded_error', message: 'busy' });
    await expect(anthropicFinalMessage(body)).rejects.toThrow(/busy/);
  });
});
