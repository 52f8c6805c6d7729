/**
 * POST /v1/responses through the real daemon, driven by the `openai` SDK and fetch: translated to a
 * Chat-Completions-only mock upstream (text, streaming, function tools, failures), passed through to a
 * provider flagged `supports_responses`, errors in the OpenAI shape, and usage recorded for every request.
 */
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRow } from '../../../src/admin/types.js';
import { usageEvents } from '../../../src/db/schema.js';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import {
  chunk,
  MOCK_USAGE,
  startMockUpstream,
  type MockUpstream,
  type RecordedRequest,
} from '../../helpers/mock-upstream.js';
import { backends } from '../../helpers/pg.js';

const TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

/** TOOL as the chat upstream must receive it. */
const CHAT_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: TOOL.parameters, strict: false },
};

/** The chat completion a tool-calling model answers with. */
function toolCallCompletion(model: string) {
  return {
    id: 'chatcmpl-tool',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
  };
}

/** What a native Responses upstream streams (bytes the daemon must relay untouched). */
const NATIVE_SSE = [
  'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_up_1","object":"response","status":"in_progress","output":[],"usage":null}}\n\n',
  'event: response.output_item.added\ndata: {"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"type":"message","id":"msg_up_1","role":"assistant","status":"in_progress","content":[]}}\n\n',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":2,"item_id":"msg_up_1","output_index":0,"content_index":0,"delta":"native ","logprobs":[]}\n\n',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":3,"item_id":"msg_up_1","output_index":0,"content_index":0,"delta":"answer","logprobs":[]}\n\n',
  'event: response.output_item.done\ndata: {"type":"response.output_item.done","sequence_number":4,"output_index":0,"item":{"type":"message","id":"msg_up_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"native answer","annotations":[]}]}}\n\n',
  'event: response.completed\ndata: {"type":"response.completed","sequence_number":5,"response":{"id":"resp_up_1","object":"response","status":"completed","output":[{"type":"message","id":"msg_up_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"native answer","annotations":[]}]}],"usage":{"input_tokens":21,"input_tokens_details":{"cached_tokens":4},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":24}}}\n\n',
].join('');

const NATIVE_JSON = {
  ...{ id: 'resp_up_2', object: 'response', created_at: 1700000000, status: 'completed', model: 'native-upstream' },
  output: [{ type: 'message', id: 'msg_up_2', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'native json', annotations: [] }] }],
  usage: { input_tokens: 30, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 35 },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function collect(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const ev of stream) events.push(ev);
  return events;
}

describe.each(backends())('responses API on %s', (backend) => {
  let chatUp: MockUpstream;
  let nativeUp: MockUpstream;
  let gw: TestDaemon;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    chatUp = await startMockUpstream();
    nativeUp = await startMockUpstream(async (req, res) => {
      if (req.body?.['stream']) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(NATIVE_SSE);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(NATIVE_JSON));
    });
    gw = await startTestDaemon({ backend, env: { MOCK_KEY: 'sk-upstream-chat', NATIVE_KEY: 'sk-upstream-native' } });
    await gw.admin.providers.add({ name: 'chatonly', kind: 'openai', base_url: chatUp.url, api_key_env: 'MOCK_KEY' });
    const native = { name: 'native', kind: 'openai', base_url: nativeUp.url, api_key_env: 'NATIVE_KEY' } as const;
    await gw.admin.providers.add({ ...native, supports_responses: true });
    await gw.admin.models.add({ id: 'coder', provider: 'chatonly', upstream_model: 'mock-model', price_in: '1', price_out: '2' });
    // Used by exactly one request each, so their usage rows can be compared exactly.
    await gw.admin.models.add({ id: 'tally', provider: 'chatonly', upstream_model: 'mock-model' });
    await gw.admin.models.add({ id: 'native-model', provider: 'native', upstream_model: 'native-upstream' });
    key = (await gw.admin.keys.create({ name: 'codex' })).key;
    client = new OpenAI({ apiKey: key, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await chatUp?.close();
    await nativeUp?.close();
  });

  afterEach(() => chatUp.handle(null));

  const lastChat = (): RecordedRequest => chatUp.requests.at(-1)!;
  const post = (body: string) =>
    fetch(`${gw.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });

  /** The usage row of `model`, once the batched writer (flush ≤ 1 s) has stored `requests` of them. */
  async function usageRow(model: string, requests: number): Promise<UsageRow | undefined> {
    let row: UsageRow | undefined;
    for (let i = 0; i < 50; i++) {
      row = (await gw.admin.usage.report({ by: 'model' })).rows.find((r) => r.group === model);
      if (row && row.requests >= requests) break;
      await sleep(100);
    }
    return row;
  }

  it('answers a plain request: output_text and usage mapped from the chat usage', async () => {
    const res = await client.responses.create({ model: 'coder', input: 'hi', instructions: 'Be brief.' });
    expect(res.object).toBe('response');
    expect(res.id).toMatch(/^resp_/);
    expect(res.status).toBe('completed');
    expect(res.model).toBe('coder');
    expect(res.output_text).toBe('Hello from the mock upstream.');
    expect(res.usage).toEqual({
      input_tokens: MOCK_USAGE.prompt_tokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: MOCK_USAGE.completion_tokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: MOCK_USAGE.total_tokens,
    });
    const sent = lastChat();
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-chat');
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }];
    expect(sent.body).toEqual({ model: 'mock-model', messages });
  });

  it('streams the events in order, ending with response.completed carrying the id and usage', async () => {
    const events = await collect(await client.responses.create({ model: 'coder', input: 'hi', stream: true }));
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array<string>(6).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    expect(deltas.join('')).toBe('Hello from the mock upstream.');
    const done = events.find((e) => e.type === 'response.output_item.done');
    const text = [{ type: 'output_text', text: 'Hello from the mock upstream.' }];
    expect(done?.type === 'response.output_item.done' && done.item).toMatchObject({ type: 'message', status: 'completed', content: text });
    const created = events[0]!;
    const completed = events.at(-1)!;
    if (created.type !== 'response.created' || completed.type !== 'response.completed') throw new Error('bad order');
    expect(completed.response.id).toMatch(/^resp_/);
    expect(completed.response.id).toBe(created.response.id);
    expect(completed.response.status).toBe('completed');
    expect(completed.response.output).toEqual([done?.type === 'response.output_item.done' ? done.item : null]);
    expect(completed.response.usage).toMatchObject({ input_tokens: 11, output_tokens: 7, total_tokens: 18 });
    // Usage is always asked of the chat upstream, whatever the client said.
    expect(lastChat().body).toMatchObject({ model: 'mock-model', stream: true, stream_options: { include_usage: true } });
  });

  it('turns chat tool_calls into a function_call item and the function_call_output into a tool message', async () => {
    chatUp.handle((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(toolCallCompletion(String(req.body?.['model']))));
    });
    const first = await client.responses.create({ model: 'coder', input: 'weather in Paris?', tools: [TOOL] });
    expect(first.output).toHaveLength(1);
    const call = first.output[0]!;
    expect(call).toMatchObject({
      type: 'function_call',
      call_id: 'call_abc',
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
      status: 'completed',
    });
    expect(first.usage).toMatchObject({ input_tokens: 40, output_tokens: 12, total_tokens: 52 });
    expect(lastChat().body).toEqual({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [CHAT_TOOL],
    });

    chatUp.handle(null);
    if (call.type !== 'function_call') throw new Error('expected a function call');
    const second = await client.responses.create({
      model: 'coder',
      tools: [TOOL],
      input: [
        { role: 'user', content: 'weather in Paris?' },
        call,
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny, 24 C' },
      ],
    });
    expect(second.output_text).toBe('Hello from the mock upstream.');
    expect(lastChat().body).toEqual({
      model: 'mock-model',
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_abc', content: 'sunny, 24 C' },
      ],
      tools: [CHAT_TOOL],
    });
  });

  it('streams a tool call: output_item.added, arguments deltas, arguments done, output_item.done', async () => {
    chatUp.handle((req, res) => {
      const model = String(req.body?.['model']);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const write = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      write(chunk(model, { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_s1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
      write(chunk(model, { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
      write(chunk(model, { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }));
      write(chunk(model, {}, 'tool_calls'));
      write({ ...chunk(model, {}), choices: [], usage: { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39 } });
      res.end('data: [DONE]\n\n');
    });
    const events = await collect(await client.responses.create({ model: 'coder', input: 'weather in Oslo?', tools: [TOOL], stream: true }));
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const done = events.find((e) => e.type === 'response.output_item.done');
    expect(done?.type === 'response.output_item.done' && done.item).toMatchObject({
      type: 'function_call',
      call_id: 'call_s1',
      name: 'get_weather',
      arguments: '{"city":"Oslo"}',
      status: 'completed',
    });
    const completed = events.at(-1);
    expect(completed?.type === 'response.completed' && completed.response.usage).toMatchObject({ input_tokens: 30, output_tokens: 9 });
  });

  it('an upstream 500 before any byte becomes a 502 in the OpenAI shape', async () => {
    chatUp.handle((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'upstream exploded', type: 'server_error' } }));
    });
    const before = chatUp.requests.length;
    const err = await client.responses.create({ model: 'coder', input: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(502);
    expect(e.code).toBe('upstream_error');
    expect(e.message).toContain('HTTP 500');
    // one retry of the only deployment
    expect(chatUp.requests.length - before).toBe(2);

    const streamed = await client.responses.create({ model: 'coder', input: 'hi', stream: true }).catch((x: unknown) => x);
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect((streamed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it('an upstream that breaks off mid-stream ends the stream with response.failed', async () => {
    let breakOff = (): void => {};
    chatUp.handle((req, res) => {
      const model = String(req.body?.['model']);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk(model, { role: 'assistant', content: 'partial ' }))}\n\n`);
      breakOff = () => res.destroy();
    });
    const stream = await client.responses.create({ model: 'coder', input: 'hi', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const ev of stream) {
      events.push(ev);
      // the client has the first text: now the upstream connection dies
      if (ev.type === 'response.output_text.delta') breakOff();
    }
    const types = events.map((e) => e.type);
    expect(types.slice(0, 5)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
    ]);
    expect(types.at(-1)).toBe('response.failed');
    expect(types).not.toContain('response.completed');
    const failed = events.at(-1)!;
    if (failed.type !== 'response.failed') throw new Error('expected response.failed');
    expect(failed.response.id).toBe(events[0]!.type === 'response.created' ? events[0]!.response.id : '');
    expect(failed.response.status).toBe('failed');
    // a transport failure after the headers: the relay classifies it like a refused connection
    expect(failed.response.error?.code).toMatch(/^upstream_(error|unreachable)$/);
  });

  it('an in-stream upstream error frame becomes response.failed with its message', async () => {
    chatUp.handle((req, res) => {
      const model = String(req.body?.['model']);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk(model, { role: 'assistant', content: 'so far' }))}\n\n`);
      res.end(`data: ${JSON.stringify({ error: { message: 'model overloaded', type: 'server_error' } })}\n\n`);
    });
    const events = await collect(await client.responses.create({ model: 'coder', input: 'hi', stream: true }));
    expect(events.map((e) => e.type)).not.toContain('response.completed');
    const failed = events.at(-1);
    expect(failed?.type).toBe('response.failed');
    expect(failed?.type === 'response.failed' && failed.response.error?.message).toContain('model overloaded');
  });

  it('passes a provider with supports_responses through: bytes relayed, usage captured', async () => {
    const res = await post(
      JSON.stringify({ model: 'native-model', input: 'hi', stream: true, store: false, include: ['reasoning.encrypted_content'] }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(await res.text()).toBe(NATIVE_SSE);
    const sent = nativeUp.requests.at(-1)!;
    expect(sent.path).toBe('/v1/responses');
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-native');
    expect(sent.body).toEqual({ model: 'native-upstream', input: 'hi', stream: true, store: false, include: ['reasoning.encrypted_content'] });

    const json = await client.responses.create({ model: 'native-model', input: 'hi' });
    expect(json.output_text).toBe('native json');
    expect(json.id).toBe('resp_up_2');
    expect(chatUp.requests.every((r) => r.path !== '/v1/responses')).toBe(true);

    const row = await usageRow('native-model', 2);
    expect(row).toMatchObject({ requests: 2, prompt_tokens: 21 + 30, completion_tokens: 3 + 5, cached_tokens: 4 });
  });

  it('rejects a bad body with 400 in the OpenAI shape and an unknown model with 404', async () => {
    const before = chatUp.requests.length;
    const missing = await post(JSON.stringify({ model: 'coder' }));
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      error: { message: expect.stringContaining("'input'") as unknown, type: 'invalid_request_error', code: 'invalid_request', param: 'input' },
    });

    const badItem = await post(JSON.stringify({ model: 'coder', input: [{ type: 'function_call_output', output: 'x' }] }));
    expect(badItem.status).toBe(400);
    const badItemBody = (await badItem.json()) as { error: { type: string; code: string } };
    expect(badItemBody.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request' });

    const notJson = await post('{"model": "coder", ');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');

    const unknown = await client.responses.create({ model: 'no-such-model', input: 'hi' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');

    expect(chatUp.requests.length).toBe(before);
  });

  it('records one usage event per request with the upstream token counts', async () => {
    const res = await client.responses.create({ model: 'tally', input: 'count me' });
    expect(res.output_text).toBe('Hello from the mock upstream.');
    const row = await usageRow('tally', 1);
    const { prompt_tokens, completion_tokens } = MOCK_USAGE;
    expect(row).toMatchObject({ group: 'tally', requests: 1, prompt_tokens, completion_tokens });
    const events = await gw.daemon.store.db
      .select({ endpoint: usageEvents.endpoint, status: usageEvents.status, estimated: usageEvents.estimated })
      .from(usageEvents)
      .where(eq(usageEvents.modelId, 'tally'));
    expect(events).toEqual([{ endpoint: 'responses', status: 200, estimated: false }]);
  });
});
