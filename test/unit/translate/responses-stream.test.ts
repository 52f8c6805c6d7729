import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../../../src/daemon/translate/chat/types.js';
import { streamEventSchema } from '../../../src/daemon/translate/responses/schema.js';
import type { ResponsesStreamEvent } from '../../../src/daemon/translate/responses/schema.js';
import { createResponsesStreamEncoder } from '../../../src/daemon/translate/responses/stream.js';
import { OPTS, chatChunks, codexContext, fixtureJson, parseSse } from './responses-fixtures.js';

const ctx = codexContext();
const FAILURE = { code: 'upstream_error', message: 'upstream connection reset' };
const STARTED = ['response.created', 'response.in_progress'];
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Parses the SSE text and checks what every stream must satisfy: frames well-formed, `event:` equal to the
 * JSON type, each event valid, sequence numbers 0..n-1, created first, exactly one terminal event last, and
 * (unless failed) every announced item done once, at the same output_index, before the end.
 */
function checkedEvents(sse: string): ResponsesStreamEvent[] {
  const frames = parseSse(sse);
  const events = frames.map((f) => {
    expect(f.event).toBe(f.data['type']);
    return streamEventSchema.parse(f.data);
  });
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  expect(events[0]?.type).toBe('response.created');
  expect(events.filter((e) => TERMINAL.has(e.type))).toHaveLength(1);
  const last = events.at(-1);
  expect(TERMINAL.has(last?.type ?? '')).toBe(true);
  if (last?.type === 'response.failed') return events;

  const added = events.flatMap((e) => (e.type === 'response.output_item.added' ? [e] : []));
  const done = events.flatMap((e) => (e.type === 'response.output_item.done' ? [e] : []));
  const key = (e: { output_index: number; item: { id: string } }) => `${e.output_index}:${e.item.id}`;
  expect(done.map(key).sort()).toEqual(added.map(key).sort());
  expect(added.map((e) => e.output_index)).toEqual(added.map((_, i) => i));
  if (last?.type === 'response.completed' || last?.type === 'response.incomplete') {
    const byIndex = [...done].sort((a, b) => a.output_index - b.output_index).map((e) => e.item);
    expect(last.response.output).toEqual(byIndex);
    expect(last.response.id).toBe(OPTS.id);
  }
  return events;
}

function run(chunks: ChatChunk[], end: 'finish' | 'fail' = 'finish') {
  const enc = createResponsesStreamEncoder(ctx, OPTS);
  let sse = '';
  for (const chunk of chunks) sse += enc.push(chunk);
  sse += end === 'finish' ? enc.finish() : enc.fail(FAILURE);
  return { enc, sse, events: checkedEvents(sse) };
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null): ChatChunk =>
  ({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish }],
  }) as ChatChunk;

describe('createResponsesStreamEncoder: fixtures (exact events)', () => {
  const scenarios = ['stream-text', 'stream-reasoning', 'stream-parallel-tools', 'stream-custom-tool'];
  it.each(scenarios)('%s', (scenario) => {
    const { events } = run(chatChunks(scenario));
    expect(events).toEqual(fixtureJson(`${scenario}.events.json`));
  });

  it('stream-failure: an upstream failure mid-text ends with response.failed', () => {
    const { events } = run(chatChunks('stream-failure'), 'fail');
    expect(events).toEqual(fixtureJson('stream-failure.events.json'));
    expect(events.at(-1)).toMatchObject({
      type: 'response.failed',
      response: { id: OPTS.id, status: 'failed', error: FAILURE },
    });
  });

  it('takes usage from the final chunk and exposes it', () => {
    const { enc, events } = run(chatChunks('stream-reasoning'));
    expect(enc.usage()).toEqual({
      promptTokens: 2310,
      completionTokens: 14,
      cachedTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 11,
    });
    expect(events.at(-1)).toMatchObject({ response: { usage: { total_tokens: 2324 } } });
  });

  it('closes tool items at finish_reason, before the usage chunk arrives', () => {
    const chunks = chatChunks('stream-parallel-tools');
    const enc = createResponsesStreamEncoder(ctx, OPTS);
    const beforeUsage = chunks.slice(0, -1).map((c) => enc.push(c)).join('');
    const doneItems = parseSse(beforeUsage).filter((f) => f.data['type'] === 'response.output_item.done');
    expect(doneItems).toHaveLength(2);
  });
});

describe('createResponsesStreamEncoder: edge cases', () => {
  it('completes with an id and null usage when the upstream sent no usage', () => {
    const { events, enc } = run(chatChunks('stream-text').filter((c) => !c.usage));
    expect(enc.usage()).toBeNull();
    const completed = { type: 'response.completed', response: { id: OPTS.id, usage: null } };
    expect(events.at(-1)).toMatchObject(completed);
  });

  it('finish_reason length ends with response.incomplete and incomplete items', () => {
    const { events } = run([chunk({ content: 'cut' }), chunk({}, 'length')]);
    expect(events.at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
    const done = events.find((e) => e.type === 'response.output_item.done');
    expect(done).toMatchObject({ item: { type: 'message', status: 'incomplete' } });
  });

  it('an empty stream still completes', () => {
    const { events } = run([]);
    expect(events.map((e) => e.type)).toEqual([...STARTED, 'response.completed']);
  });

  it('a failure before any chunk is created → in_progress → failed', () => {
    const { events } = run([], 'fail');
    expect(events.map((e) => e.type)).toEqual([...STARTED, 'response.failed']);
  });

  it('writes nothing after a terminal event', () => {
    const enc = createResponsesStreamEncoder(ctx, OPTS);
    expect(enc.finish()).not.toBe('');
    expect(enc.push(chunk({ content: 'late' }))).toBe('');
    expect(enc.finish()).toBe('');
    expect(enc.fail({ code: 'x', message: 'y' })).toBe('');
  });

  it('never throws on odd chunks', () => {
    const odd = [
      { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [] },
      { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm' },
      { choices: [{ index: 0, finish_reason: null }] },
      { choices: [null] },
      chunk({ content: null, reasoning_content: null, tool_calls: null }),
      chunk({ tool_calls: [null, { function: {} }] }),
      chunk({ content: 'ok' }),
    ] as unknown as ChatChunk[];
    const { events } = run(odd);
    expect(events.at(-1)?.type).toBe('response.completed');
  });

  it('invents a call_id, waits for a late name, and keeps interleaved parallel arguments apart', () => {
    const { events } = run([
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"cmd":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'view', arguments: '{"p":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: 'exec', arguments: '"ls"}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { name: 'view', arguments: '"a"}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    const done = events.flatMap((e) => (e.type === 'response.output_item.done' ? [e.item] : []));
    const fc = { type: 'function_call', status: 'completed' };
    expect(done).toEqual([
      { ...fc, id: 'fc_0d9c41f2_0', call_id: 'call_b', name: 'view', arguments: '{"p":"a"}' },
      { ...fc, id: 'fc_0d9c41f2_1', call_id: 'call_0d9c41f2_1', name: 'exec', arguments: '{"cmd":"ls"}' },
    ]);
    const deltas = events.flatMap((e) =>
      e.type === 'response.function_call_arguments.delta' ? [[e.item_id, e.delta]] : [],
    );
    expect(deltas).toEqual([
      ['fc_0d9c41f2_0', '{"p":'],
      ['fc_0d9c41f2_1', '{"cmd":"ls"}'],
      ['fc_0d9c41f2_0', '"a"}'],
    ]);
  });

  it('opens a new item when text resumes after a tool call or reasoning resumes after text', () => {
    const { events } = run([
      chunk({ reasoning_content: 'r1' }),
      chunk({ content: 't1' }),
      chunk({ reasoning: 'r2' }),
      chunk({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'exec_command', arguments: '{}' } }] }),
      chunk({ content: 't2' }),
      chunk({}, 'stop'),
    ]);
    const last = events.at(-1);
    expect(last?.type === 'response.completed' && last.response.output.map((i) => [i.type, i.id])).toEqual([
      ['reasoning', 'rs_0d9c41f2_0'],
      ['message', 'msg_0d9c41f2_1'],
      ['reasoning', 'rs_0d9c41f2_2'],
      ['function_call', 'fc_0d9c41f2_3'],
      ['message', 'msg_0d9c41f2_4'],
    ]);
  });
});
