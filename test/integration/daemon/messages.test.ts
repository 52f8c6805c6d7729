/**
 * POST /v1/messages and /v1/messages/count_tokens through the real daemon, driven by @anthropic-ai/sdk:
 * (a) passthrough to an Anthropic-format mock upstream, (b) translated to an OpenAI-format mock upstream;
 * Anthropic error shapes. Translation-focused: PGlite only.
 */
import Anthropic from '@anthropic-ai/sdk';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { ANTHROPIC_TOOL, ANTHROPIC_USAGE, ANTHROPIC_WORDS, anthropicHandler, anthropicStreamFrames, sse } from '../../helpers/mock-anthropic.js';
import { MOCK_USAGE, chunk, defaultHandler, startMockUpstream, type MockHandler, type MockUpstream } from '../../helpers/mock-upstream.js';
import { usageEvents } from '../../../src/db/schema.js';
import { estimateTextTokens } from '../../../src/daemon/usage/estimate.js';

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

/** An OpenAI-format upstream that calls `get_weather` whenever tools are offered. */
const openaiToolHandler: MockHandler = (req, res) => {
  if (!Array.isArray(req.body?.['tools'])) return defaultHandler(req, res);
  const model = String(req.body?.['model']);
  const args = JSON.stringify({ city: 'Paris' });
  if (!req.body?.['stream']) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: 'chatcmpl-tool', object: 'chat.completion', created: 1, model,
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: args } }] } }],
      usage: MOCK_USAGE,
    }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const w = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
  w(chunk(model, { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
  w(chunk(model, { tool_calls: [{ index: 0, function: { arguments: args.slice(0, 5) } }] }));
  w(chunk(model, { tool_calls: [{ index: 0, function: { arguments: args.slice(5) } }] }));
  w(chunk(model, {}, 'tool_calls'));
  w({ ...chunk(model, {}), choices: [], usage: MOCK_USAGE });
  res.end('data: [DONE]\n\n');
};

describe('/v1/messages', () => {
  let claudeUp: MockUpstream;
  let oaiUp: MockUpstream;
  let gw: TestDaemon;
  let key: string;
  let client: Anthropic;

  beforeAll(async () => {
    claudeUp = await startMockUpstream(anthropicHandler);
    oaiUp = await startMockUpstream(openaiToolHandler);
    gw = await startTestDaemon({ env: { CLAUDE_KEY: 'sk-ant-upstream-secret', OAI_KEY: 'sk-oai-upstream-secret' } });
    await gw.admin.providers.add({ name: 'claude', kind: 'anthropic', base_url: claudeUp.url, api_key_env: 'CLAUDE_KEY' });
    await gw.admin.providers.add({ name: 'oai', kind: 'openai', base_url: oaiUp.url, api_key_env: 'OAI_KEY' });
    await gw.admin.models.add({ id: 'claude-sonnet', provider: 'claude', upstream_model: 'claude-sonnet-4-5-20250929' });
    await gw.admin.models.add({ id: 'gpt-mini', provider: 'oai', upstream_model: 'mock-model', max_output: 50 });
    key = (await gw.admin.keys.create({ name: 'claude-code' })).key;
    client = new Anthropic({ apiKey: key, authToken: null, baseURL: gw.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await claudeUp?.close();
    await oaiUp?.close();
  });

  async function usageOf(requestId: string | null) {
    await gw.daemon.deps.usage.flush();
    const rows = await gw.daemon.store.db.select().from(usageEvents).where(eq(usageEvents.requestId, requestId ?? ''));
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  const post = (body: Record<string, unknown>) =>
    fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  describe('passthrough to an anthropic provider', () => {
    it('answers a plain request; the upstream gets the upstream model, its own key and the client headers', async () => {
      const msg = await client.messages.create(
        { model: 'claude-sonnet', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31,fine-grained-tool-streaming-2025-05-14' } },
      );
      expect(msg.content).toEqual([{ type: 'text', text: ANTHROPIC_WORDS.join('') }]);
      expect(msg.usage).toMatchObject(ANTHROPIC_USAGE);
      const sent = claudeUp.requests.at(-1)!;
      expect(sent.path).toBe('/v1/messages');
      expect(sent.body).toEqual({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      expect(sent.headers['x-api-key']).toBe('sk-ant-upstream-secret');
      expect(sent.headers['authorization']).toBeUndefined();
      expect(sent.headers['anthropic-version']).toBe('2023-06-01');
      expect(sent.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31,fine-grained-tool-streaming-2025-05-14');
    });

    it('records usage with cache tokens, from the JSON body and from message_start + message_delta', async () => {
      const prompt = ANTHROPIC_USAGE.input_tokens + ANTHROPIC_USAGE.cache_read_input_tokens + ANTHROPIC_USAGE.cache_creation_input_tokens;
      for (const stream of [false, true]) {
        const res = await post({ model: 'claude-sonnet', max_tokens: 10, stream, messages: [{ role: 'user', content: 'hi' }] });
        await res.text();
        const row = await usageOf(res.headers.get('x-request-id'));
        expect(row).toMatchObject({
          endpoint: 'messages',
          status: 200,
          modelId: 'claude-sonnet',
          promptTokens: prompt,
          completionTokens: ANTHROPIC_USAGE.output_tokens,
          cachedTokens: ANTHROPIC_USAGE.cache_read_input_tokens,
          estimated: false,
        });
      }
    });

    it('forwards a client anthropic-version instead of the default (Claude Code adds ?beta=true)', async () => {
      const res = await fetch(`${gw.url}/v1/messages?beta=true`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'anthropic-version': '2099-01-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      expect(claudeUp.requests.at(-1)!.headers['anthropic-version']).toBe('2099-01-01');
    });

    it('relays the SSE stream byte for byte', async () => {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(await res.text()).toBe(anthropicStreamFrames('claude-sonnet-4-5-20250929', [{ type: 'text', text: ANTHROPIC_WORDS.join('') }]).join(''));
    });

    it('streams through the SDK, with the usage of message_start and message_delta', async () => {
      const stream = client.messages.stream({ model: 'claude-sonnet', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      const final = await stream.finalMessage();
      expect(final.content).toEqual([{ type: 'text', text: ANTHROPIC_WORDS.join('') }]);
      expect(final.usage).toMatchObject(ANTHROPIC_USAGE);
      expect(final.stop_reason).toBe('end_turn');
    });

    it('passes tool use through, plain and streamed', async () => {
      const params = { model: 'claude-sonnet', max_tokens: 100, tools: [WEATHER_TOOL], messages: [{ role: 'user' as const, content: 'weather in Paris?' }] };
      const msg = await client.messages.create(params);
      expect(msg.stop_reason).toBe('tool_use');
      expect(msg.content.at(-1)).toEqual({ type: 'tool_use', ...ANTHROPIC_TOOL });
      expect(claudeUp.requests.at(-1)!.body?.['tools']).toEqual([WEATHER_TOOL]);
      const final = await client.messages.stream(params).finalMessage();
      expect(final.content.at(-1)).toEqual({ type: 'tool_use', ...ANTHROPIC_TOOL });
      const followUp = await client.messages.create({
        ...params,
        messages: [
          ...params.messages,
          { role: 'assistant', content: msg.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: ANTHROPIC_TOOL.id, content: '18°C' }] },
        ],
      });
      expect(followUp.stop_reason).toBe('end_turn');
    });

    it('ends a stream that breaks off with an Anthropic error event', async () => {
      claudeUp.handle((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(anthropicStreamFrames(String(req.body?.['model']), [{ type: 'text', text: 'x' }])[0]!);
        setTimeout(() => res.destroy(), 20);
      });
      try {
        const res = await fetch(`${gw.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'claude-sonnet', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        });
        const text = await res.text();
        expect(text.startsWith('event: message_start\n')).toBe(true);
        const last = text.trim().split('\n\n').at(-1)!;
        expect(last.split('\n')[0]).toBe('event: error');
        const data = JSON.parse(last.split('\n')[1]!.slice('data: '.length)) as { type: string; error: { type: string; message: string } };
        expect(data.type).toBe('error');
        expect(data.error.type).toBe('api_error');
        expect(data.error.message).toContain('claude');
      } finally {
        claudeUp.handle(anthropicHandler);
      }
    });
  });

  describe('translated for an openai provider', () => {
    it('answers a plain request in the Messages shape, max_tokens capped by the model', async () => {
      const msg = await client.messages.create({
        model: 'gpt-mini',
        max_tokens: 1000,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(msg.type).toBe('message');
      expect(msg.model).toBe('gpt-mini');
      expect(msg.content).toEqual([{ type: 'text', text: 'Hello from the mock upstream.' }]);
      expect(msg.stop_reason).toBe('end_turn');
      expect(msg.usage).toMatchObject({ input_tokens: MOCK_USAGE.prompt_tokens, output_tokens: MOCK_USAGE.completion_tokens });
      expect(oaiUp.requests.at(-1)!.body).toEqual({
        model: 'mock-model',
        max_tokens: 50,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
      });
      expect(oaiUp.requests.at(-1)!.headers.authorization).toBe('Bearer sk-oai-upstream-secret');
      expect(oaiUp.requests.at(-1)!.headers['anthropic-version']).toBeUndefined();
    });

    it('streams Messages events; message_start carries the tokenizer estimate, never 0', async () => {
      const stream = client.messages.stream({ model: 'gpt-mini', max_tokens: 20, messages: [{ role: 'user', content: 'Hello, world!' }] });
      const types: string[] = [];
      let startUsage: Anthropic.Usage | null = null;
      for await (const ev of stream) {
        types.push(ev.type);
        if (ev.type === 'message_start') startUsage = { ...ev.message.usage };
      }
      const final = await stream.finalMessage();
      expect(final.content).toEqual([{ type: 'text', text: 'Hello from the mock upstream.' }]);
      expect(startUsage).toMatchObject({ input_tokens: estimateTextTokens('Hello, world!'), output_tokens: 1 });
      expect(final.usage).toMatchObject({ input_tokens: MOCK_USAGE.prompt_tokens, output_tokens: MOCK_USAGE.completion_tokens });
      expect(types[0]).toBe('message_start');
      expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
      expect(types).toContain('content_block_delta');
      expect(oaiUp.requests.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    });

    it('records translated usage from the upstream counts, and estimates when the upstream sends none', async () => {
      const res = await post({ model: 'gpt-mini', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] });
      await res.text();
      expect(await usageOf(res.headers.get('x-request-id'))).toMatchObject({
        endpoint: 'messages',
        promptTokens: MOCK_USAGE.prompt_tokens,
        completionTokens: MOCK_USAGE.completion_tokens,
        estimated: false,
      });
      oaiUp.handle((req, res2) => {
        res2.writeHead(200, { 'content-type': 'application/json' });
        res2.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: String(req.body?.['model']), choices: [{ index: 0, message: { role: 'assistant', content: 'Hello, world!' }, finish_reason: 'stop' }] }));
      });
      try {
        const r2 = await post({ model: 'gpt-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hello, world!' }] });
        const body = (await r2.json()) as { usage: { input_tokens: number; output_tokens: number } };
        expect(body.usage.input_tokens).toBe(estimateTextTokens('Hello, world!'));
        expect(await usageOf(r2.headers.get('x-request-id'))).toMatchObject({ promptTokens: 4, completionTokens: 4, estimated: true });
      } finally {
        oaiUp.handle(openaiToolHandler);
      }
    });

    it('turns tool calls into tool_use blocks, plain and streamed, and tool results into tool messages', async () => {
      const params = { model: 'gpt-mini', max_tokens: 40, tools: [WEATHER_TOOL], messages: [{ role: 'user' as const, content: 'weather?' }] };
      const msg = await client.messages.create(params);
      expect(msg.stop_reason).toBe('tool_use');
      expect(msg.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }]);
      expect(oaiUp.requests.at(-1)!.body?.['tools']).toEqual([
        { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_TOOL.input_schema } },
      ]);
      const final = await client.messages.stream(params).finalMessage();
      expect(final.stop_reason).toBe('tool_use');
      expect(final.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }]);

      await client.messages.create({
        model: 'gpt-mini',
        max_tokens: 40,
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: msg.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '18°C' }] },
        ],
      });
      expect(oaiUp.requests.at(-1)!.body?.['messages']).toEqual([
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
      ]);
    });

    it('ends a broken translated stream with an Anthropic error event', async () => {
      oaiUp.handle((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify(chunk(String(req.body?.['model']), { role: 'assistant', content: 'partial' }))}\n\n`);
        setTimeout(() => res.destroy(), 20);
      });
      try {
        const res = await fetch(`${gw.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-mini', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        });
        const text = await res.text();
        expect(text).toContain(sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'partial' } }));
        const last = text.trim().split('\n\n').at(-1)!;
        expect(last.split('\n')[0]).toBe('event: error');
        expect(text).not.toContain('event: message_stop');
      } finally {
        oaiUp.handle(openaiToolHandler);
      }
    });

    it('turns an in-stream upstream error frame into an Anthropic error event', async () => {
      oaiUp.handle((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify(chunk(String(req.body?.['model']), { role: 'assistant', content: 'partial' }))}\n\n`);
        res.write(`data: ${JSON.stringify({ error: { message: 'model overloaded', type: 'server_error' } })}\n\n`);
        res.end('data: [DONE]\n\n');
      });
      try {
        const stream = client.messages.stream({ model: 'gpt-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
        const err = await stream.finalMessage().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Anthropic.APIError);
        expect((err as Error).message).toContain('model overloaded');
      } finally {
        oaiUp.handle(openaiToolHandler);
      }
    });
  });

  describe('count_tokens', () => {
    it('counts with the tokenizer, without calling any upstream', async () => {
      const before = oaiUp.requests.length + claudeUp.requests.length;
      const r = await client.messages.countTokens({ model: 'gpt-mini', messages: [{ role: 'user', content: 'Hello, world!' }] });
      expect(r).toEqual({ input_tokens: 4 });
      const withSystem = await client.messages.countTokens({
        model: 'claude-sonnet',
        system: 'Be brief.',
        tools: [WEATHER_TOOL],
        messages: [{ role: 'user', content: 'Hello, world!' }],
      });
      const text = ['Be brief.', 'Hello, world!', WEATHER_TOOL.name, WEATHER_TOOL.description, JSON.stringify(WEATHER_TOOL.input_schema)].join('\n');
      expect(withSystem.input_tokens).toBe(estimateTextTokens(text));
      expect(oaiUp.requests.length + claudeUp.requests.length).toBe(before);
    });

    it('needs a valid key and a known model, answered in the Anthropic error shape', async () => {
      const bad = new Anthropic({ apiKey: 'lw-not-a-real-key', authToken: null, baseURL: gw.url, maxRetries: 0 });
      const e1 = await bad.messages.countTokens({ model: 'gpt-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(e1).toBeInstanceOf(Anthropic.AuthenticationError);
      expect((e1 as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      const e2 = await client.messages.countTokens({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(e2).toBeInstanceOf(Anthropic.NotFoundError);
    });
  });

  describe('errors and auth', () => {
    it('renders a bad key as a 401 in the Anthropic shape', async () => {
      const bad = new Anthropic({ apiKey: 'lw-wrong', authToken: null, baseURL: gw.url, maxRetries: 0 });
      const err = await bad.messages.create({ model: 'gpt-mini', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
      const e = err as InstanceType<typeof Anthropic.AuthenticationError>;
      expect(e.status).toBe(401);
      expect(e.error).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'Incorrect API key provided.' } });
      expect(e.requestID).toBeNull();
    });

    it('accepts the key as a Bearer token (ANTHROPIC_AUTH_TOKEN), as Claude Code sends it', async () => {
      const bearer = new Anthropic({ apiKey: null, authToken: key, baseURL: gw.url, maxRetries: 0 });
      const msg = await bearer.messages.create({ model: 'gpt-mini', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
      expect(msg.content[0]).toMatchObject({ type: 'text' });
    });

    it('names the wrong field (400), the unknown model (404) and the wrong method (405)', async () => {
      const r1 = await post({ model: 'gpt-mini', messages: [{ role: 'user', content: 'x' }] });
      expect(r1.status).toBe(400);
      expect(await r1.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining("'max_tokens'") } });
      const r2 = await post({ model: 'gpt-mini', max_tokens: 5, messages: [{ role: 'robot', content: 'x' }] });
      expect(r2.status).toBe(400);
      expect(((await r2.json()) as { error: { message: string } }).error.message).toContain("'messages[0].role'");
      const r3 = await post({ model: 'claude-sonet', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
      expect(r3.status).toBe(404);
      expect(await r3.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: expect.stringContaining("'claude-sonnet'") } });
      const r4 = await fetch(`${gw.url}/v1/messages`, { headers: { 'x-api-key': key } });
      expect(r4.status).toBe(405);
      expect(await r4.json()).toMatchObject({ type: 'error', error: { message: '/v1/messages accepts POST only.' } });
    });

    it('maps an upstream rate limit to a 429 rate_limit_error', async () => {
      claudeUp.handle((_req, res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }));
      });
      try {
        const err = await client.messages.create({ model: 'claude-sonnet', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Anthropic.RateLimitError);
        expect((err as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
      } finally {
        claudeUp.handle(anthropicHandler);
      }
    });
  });
});
