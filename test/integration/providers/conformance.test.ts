/**
 * The provider conformance suite (STYLE rule 9): one set of tests run against every provider kind,
 * each behind a mock upstream speaking its own wire format, through the real daemon with the `openai`
 * SDK: non-stream, stream, tools both ways, usage accounting (the usage event holds the mock's exact
 * counts) and error mapping. A kind that lacks a capability turns its flag off: the tests are
 * skipped, never deleted. Translation/routing-focused: PGlite only.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { ANTHROPIC_TOOL, ANTHROPIC_USAGE, ANTHROPIC_WORDS, anthropicHandler } from '../../helpers/mock-anthropic.js';
import { OPENAI_TOOL_CALL, openaiToolsHandler } from '../../helpers/mock-openai.js';
import { MOCK_USAGE, startMockUpstream, type MockHandler, type MockUpstream } from '../../helpers/mock-upstream.js';
import { failWith, hang, usageOf } from './rig.js';

interface ProviderCase {
  kind: 'openai' | 'anthropic';
  handler: MockHandler;
  /** Path of inference requests at the upstream. */
  path: string;
  text: string;
  /** Token counts the mock reports, as the gateway accounts them. */
  usage: { prompt: number; completion: number; cached: number };
  tool: { name: string; args: Record<string, unknown> };
  /** The upstream's error body for `status` in its own format. */
  errorBody(status: number, message: string): unknown;
  /** The tool result (call id, text) the upstream received, read from its request body. */
  toolResultSent(body: Record<string, unknown>): { id: string; content: unknown };
  supports: { stream: boolean; streamUsage: boolean; tools: boolean; streamTools: boolean; errors: boolean };
}

const ALL = { stream: true, streamUsage: true, tools: true, streamTools: true, errors: true };

const PROVIDERS: ProviderCase[] = [
  {
    kind: 'openai',
    handler: openaiToolsHandler,
    path: '/v1/chat/completions',
    text: 'Hello from the mock upstream.',
    usage: { prompt: MOCK_USAGE.prompt_tokens, completion: MOCK_USAGE.completion_tokens, cached: 0 },
    tool: { name: OPENAI_TOOL_CALL.name, args: JSON.parse(OPENAI_TOOL_CALL.arguments) as Record<string, unknown> },
    errorBody: (_status, message) => ({ error: { message, type: 'invalid_request_error', code: null } }),
    toolResultSent(body) {
      const m = (body['messages'] as Array<{ role: string; tool_call_id?: string; content?: unknown }>).at(-1)!;
      expect(m.role).toBe('tool');
      return { id: m.tool_call_id!, content: m.content };
    },
    supports: ALL,
  },
  {
    kind: 'anthropic',
    handler: anthropicHandler,
    path: '/v1/messages',
    text: ANTHROPIC_WORDS.join(''),
    usage: {
      prompt: ANTHROPIC_USAGE.input_tokens + ANTHROPIC_USAGE.cache_read_input_tokens + ANTHROPIC_USAGE.cache_creation_input_tokens,
      completion: ANTHROPIC_USAGE.output_tokens,
      cached: ANTHROPIC_USAGE.cache_read_input_tokens,
    },
    tool: { name: ANTHROPIC_TOOL.name, args: ANTHROPIC_TOOL.input },
    errorBody: (status, message) => ({ type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'invalid_request_error', message } }),
    toolResultSent(body) {
      const m = (body['messages'] as Array<{ role: string; content: Array<{ type: string; tool_use_id?: string; content?: unknown }> }>).at(-1)!;
      expect(m.role).toBe('user');
      const block = m.content.find((b) => b.type === 'tool_result')!;
      return { id: block.tool_use_id!, content: block.content };
    },
    supports: ALL,
  },
];

const TOOLS: OpenAI.Chat.ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } } } },
  },
];
const ASK = [{ role: 'user' as const, content: 'Weather in Paris?' }];

describe.each(PROVIDERS)('provider conformance: $kind', (p) => {
  let up: MockUpstream;
  let gw: TestDaemon;
  let client: OpenAI;
  const MODEL = `conf-${p.kind}`;
  const HANG_MODEL = `conf-${p.kind}-hang`;
  const posts = () => up.requests.filter((r) => r.method === 'POST');

  beforeAll(async () => {
    up = await startMockUpstream(p.handler);
    gw = await startTestDaemon({ env: { UP_KEY: 'sk-conformance-1234' } });
    await gw.admin.providers.add({ name: 'up', kind: p.kind, base_url: up.url, api_key_env: 'UP_KEY' });
    await gw.admin.providers.add({ name: 'up-hang', kind: p.kind, base_url: up.url, api_key_env: 'UP_KEY', timeouts: { firstByteMs: 300 } });
    await gw.admin.models.add({ id: MODEL, provider: 'up', upstream_model: `${p.kind}-upstream`, price_in: '1', price_out: '2' });
    await gw.admin.models.add({ id: HANG_MODEL, provider: 'up-hang', upstream_model: `${p.kind}-upstream` });
    await gw.admin.tiers.create('unlimited', {});
    const key = (await gw.admin.keys.create({ name: 'conformance', tier: 'unlimited' })).key;
    client = new OpenAI({ apiKey: key, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });
  beforeEach(() => up.handle(p.handler));

  it('non-stream: the answer, its usage, and the usage event with the same counts', async () => {
    const { data, response } = await client.chat.completions.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe(p.text);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: p.usage.prompt, completion_tokens: p.usage.completion, total_tokens: p.usage.prompt + p.usage.completion });
    expect(posts().at(-1)!.path).toBe(p.path);
    const ev = await usageOf(gw, response.headers.get('x-request-id'));
    expect(ev).toMatchObject({ status: 200, modelId: MODEL, endpoint: 'chat', estimated: false });
    expect([ev.promptTokens, ev.completionTokens, ev.cachedTokens]).toEqual([p.usage.prompt, p.usage.completion, p.usage.cached]);
    // 1 USD in / 2 USD out per million = 1e6 / 2e6 pico-USD per token
    expect(ev.costPico).toBe(BigInt(p.usage.prompt) * 1_000_000n + BigInt(p.usage.completion) * 2_000_000n);
  });

  it.skipIf(!p.supports.stream)('stream: text chunk by chunk, ending with finish_reason stop', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    for await (const c of stream) {
      chunks++;
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(p.text);
    expect(chunks).toBeGreaterThan(2);
    expect(finish).toBe('stop');
  });

  it.skipIf(!p.supports.streamUsage)('stream usage: the usage chunk and the usage event carry the mock\'s counts', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, max_tokens: 64, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    const usage = [];
    for await (const c of stream) if (c.usage) usage.push(c.usage);
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ prompt_tokens: p.usage.prompt, completion_tokens: p.usage.completion });
    const ev = await usageOf(gw, response.headers.get('x-request-id'));
    expect([ev.promptTokens, ev.completionTokens, ev.cachedTokens, ev.estimated]).toEqual([p.usage.prompt, p.usage.completion, p.usage.cached, false]);
  });

  it.skipIf(!p.supports.tools)('tools: the model calls a function, and the tool result goes back upstream', async () => {
    const first = await client.chat.completions.create({ model: MODEL, max_tokens: 64, tools: TOOLS, messages: ASK });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    const fn = (call as OpenAI.Chat.ChatCompletionMessageFunctionToolCall).function;
    expect(fn.name).toBe(p.tool.name);
    expect(JSON.parse(fn.arguments)).toEqual(p.tool.args);
    expect(posts().at(-1)!.body?.['tools']).toBeDefined();

    const second = await client.chat.completions.create({
      model: MODEL,
      max_tokens: 64,
      tools: TOOLS,
      messages: [...ASK, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '18°C and sunny' }],
    });
    expect(second.choices[0]!.message.content).toBe(p.text);
    expect(p.toolResultSent(posts().at(-1)!.body!)).toEqual({ id: call.id, content: '18°C and sunny' });
  });

  it.skipIf(!p.supports.streamTools)('streamed tools: the call arrives as deltas that assemble into the same call', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, max_tokens: 64, stream: true, tools: TOOLS, messages: ASK });
    let name = '';
    let args = '';
    let id: string | undefined;
    let finish: string | null = null;
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) {
        id ??= t.id;
        name += t.function?.name ?? '';
        args += t.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(id).toBeTruthy();
    expect(name).toBe(p.tool.name);
    expect(JSON.parse(args)).toEqual(p.tool.args);
    expect(finish).toBe('tool_calls');
  });

  describe.skipIf(!p.supports.errors)('error mapping', () => {
    async function fails(model = MODEL): Promise<InstanceType<typeof OpenAI.APIError>> {
      const err = await client.chat.completions.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      return err as InstanceType<typeof OpenAI.APIError>;
    }

    it('upstream 400 → 400 with the upstream message', async () => {
      up.handle(failWith(400, '', p.errorBody(400, 'max_tokens: must be at most 8192')));
      const e = await fails();
      expect(e.status).toBe(400);
      expect(e.message).toContain('max_tokens: must be at most 8192');
      expect(e.message).toContain("'up'");
    });

    it('upstream 401 (the gateway\'s own key refused) → 502, never the upstream text', async () => {
      up.handle(failWith(401, '', p.errorBody(401, 'invalid x-api-key sk-conformance-1234')));
      const e = await fails();
      expect(e.status).toBe(502);
      expect(e.code).toBe('upstream_error');
      expect(e.message).not.toContain('sk-conformance');
    });

    it('upstream 429 on a single deployment → 429 with Retry-After', async () => {
      up.handle(failWith(429, '', p.errorBody(429, 'slow down')));
      const before = posts().length;
      const e = await fails();
      expect(e.status).toBe(429);
      expect(e.headers?.get('retry-after')).toBe('7');
      expect(posts().length - before).toBe(1);
    });

    it('upstream 500 → 502 after one retry', async () => {
      up.handle(failWith(500, '', p.errorBody(500, 'boom')));
      const before = posts().length;
      const e = await fails();
      expect(e.status).toBe(502);
      expect(e.code).toBe('upstream_error');
      expect(posts().length - before).toBe(2);
    });

    it('no first byte within the provider\'s timeout → 504', async () => {
      up.handle(hang);
      const e = await fails(HANG_MODEL);
      expect(e.status).toBe(504);
      expect(e.code).toBe('upstream_timeout');
    });
  });
});
