/**
 * The `openai` SDK calling /v1/chat/completions on a model whose deployment is an `anthropic` provider
 * (an Anthropic-format mock): plain, stream, tools; the exact Messages body and headers the mock got.
 * Translation-focused: PGlite only.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { ANTHROPIC_TOOL, ANTHROPIC_USAGE, ANTHROPIC_WORDS, anthropicHandler } from '../../helpers/mock-anthropic.js';
import { startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';

const PROMPT = ANTHROPIC_USAGE.input_tokens + ANTHROPIC_USAGE.cache_read_input_tokens + ANTHROPIC_USAGE.cache_creation_input_tokens;
const WEATHER_SCHEMA = { type: 'object', properties: { city: { type: 'string' } } };
const TOOLS: OpenAI.Chat.ChatCompletionFunctionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_SCHEMA } },
];

describe('chat completions on an anthropic provider', () => {
  let up: MockUpstream;
  let gw: TestDaemon;
  let client: OpenAI;

  beforeAll(async () => {
    up = await startMockUpstream(anthropicHandler);
    gw = await startTestDaemon({ env: { ANTHROPIC_TEST_KEY: 'sk-ant-test-secret-42' } });
    await gw.admin.providers.add({ name: 'anthropic', kind: 'anthropic', base_url: up.url, api_key_env: 'ANTHROPIC_TEST_KEY' });
    await gw.admin.models.add({ id: 'claude-sonnet-4.5', provider: 'anthropic', upstream_model: 'claude-sonnet-4-5-20250929' });
    const key = (await gw.admin.keys.create({ name: 'openai-sdk' })).key;
    client = new OpenAI({ apiKey: key, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  function lastSent() {
    const sent = up.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('sk-ant-test-secret-42');
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers['authorization']).toBeUndefined();
    return sent.body;
  }

  it('answers a plain request; the upstream gets a Messages body', async () => {
    const res = await client.chat.completions.create({
      model: 'claude-sonnet-4.5',
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0]!.message).toMatchObject({ role: 'assistant', content: ANTHROPIC_WORDS.join('') });
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: PROMPT, completion_tokens: ANTHROPIC_USAGE.output_tokens, total_tokens: PROMPT + ANTHROPIC_USAGE.output_tokens });
    expect(res.usage?.prompt_tokens_details?.cached_tokens).toBe(ANTHROPIC_USAGE.cache_read_input_tokens);
    expect(lastSent()).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('fills in max_tokens (required by Anthropic) when the client sets none', async () => {
    await client.chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastSent()).toEqual({ model: 'claude-sonnet-4-5-20250929', max_tokens: 4096, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('streams chat chunks translated from Messages events, with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4.5',
      max_tokens: 64,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe(ANTHROPIC_WORDS.join(''));
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: PROMPT, completion_tokens: ANTHROPIC_USAGE.output_tokens });
    expect(lastSent()).toEqual({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('translates tools, tool calls and tool results both ways, plain and streamed', async () => {
    const res = await client.chat.completions.create({
      model: 'claude-sonnet-4.5',
      tools: TOOLS,
      tool_choice: 'auto',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
    });
    const msg = res.choices[0]!.message;
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');
    expect(msg.content).toBe('Let me check.');
    expect(msg.tool_calls).toEqual([
      { id: ANTHROPIC_TOOL.id, type: 'function', function: { name: ANTHROPIC_TOOL.name, arguments: JSON.stringify(ANTHROPIC_TOOL.input) } },
    ]);
    expect(lastSent()).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: WEATHER_SCHEMA }],
      tool_choice: { type: 'auto' },
    });

    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4.5',
      stream: true,
      tools: TOOLS,
      messages: [{ role: 'user', content: 'weather in Paris?' }],
    });
    const calls = new Map<number, { id?: string; name?: string; args: string }>();
    let finish: string | null = null;
    for await (const c of stream) {
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        const cur = calls.get(tc.index) ?? { args: '' };
        if (tc.id) cur.id = tc.id;
        if (tc.function?.name) cur.name = tc.function.name;
        cur.args += tc.function?.arguments ?? '';
        calls.set(tc.index, cur);
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect([...calls.values()]).toEqual([{ id: ANTHROPIC_TOOL.id, name: ANTHROPIC_TOOL.name, args: JSON.stringify(ANTHROPIC_TOOL.input) }]);

    const followUp = await client.chat.completions.create({
      model: 'claude-sonnet-4.5',
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: msg.tool_calls },
        { role: 'tool', tool_call_id: ANTHROPIC_TOOL.id, content: '18°C' },
      ],
    });
    expect(followUp.choices[0]!.message.content).toBe(ANTHROPIC_WORDS.join(''));
    expect(lastSent()!['messages']).toEqual([
      { role: 'user', content: 'weather in Paris?' },
      { role: 'assistant', content: [{ type: 'tool_use', ...ANTHROPIC_TOOL }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: ANTHROPIC_TOOL.id, content: '18°C' }] },
    ]);
  });

  it('maps an Anthropic error answer to the OpenAI error shape', async () => {
    up.handle((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 300000 tokens > 200000 maximum' } }));
    });
    try {
      const err = await client.chat.completions.create({ model: 'claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      const e = err as InstanceType<typeof OpenAI.BadRequestError>;
      expect(e.code).toBe('context_length_exceeded');
      expect(e.message).toContain('prompt is too long');
    } finally {
      up.handle(anthropicHandler);
    }
  });
});
