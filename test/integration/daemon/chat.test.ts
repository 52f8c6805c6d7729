/**
 * Chat Completions through the real daemon to a mock upstream, driven by the `openai` SDK and fetch,
 * on PGlite and (when LW_TEST_DATABASE_URL is set) on Postgres.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { MOCK_USAGE, startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';
import { backends } from '../../helpers/pg.js';

describe.each(backends())('chat completions on %s', (backend) => {
  let up: MockUpstream;
  let gw: TestDaemon;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    up = await startMockUpstream();
    gw = await startTestDaemon({ backend, env: { MOCK_KEY: 'sk-upstream-secret-123456' } });
    await gw.admin.providers.add({ name: 'mock', kind: 'openai', base_url: up.url, api_key_env: 'MOCK_KEY' });
    await gw.admin.models.add({ id: 'gpt-4o-mini', provider: 'mock', upstream_model: 'mock-model', aliases: ['mini'], price_in: '0.15', price_out: '0.6' });
    key = (await gw.admin.keys.create({ name: 'alice' })).key;
    client = new OpenAI({ apiKey: key, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('answers a plain request with the upstream model name and the provider key sent upstream', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]?.message.content).toBe('Hello from the mock upstream.');
    expect(res.usage?.total_tokens).toBe(MOCK_USAGE.total_tokens);
    const sent = up.requests.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body?.['model']).toBe('mock-model');
    expect(sent.headers.authorization).toBe('Bearer sk-upstream-secret-123456');
  });

  it('streams chunk by chunk and strips the usage chunk the client did not ask for', async () => {
    const stream = await client.chat.completions.create({ model: 'mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let usageChunks = 0;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      if (c.usage) usageChunks++;
    }
    expect(text).toBe('Hello from the mock upstream.');
    expect(usageChunks).toBe(0);
    const sent = up.requests.at(-1)!;
    expect(sent.body?.['stream_options']).toEqual({ include_usage: true });
  });

  it('gives the usage chunk with choices:[] when the client asks for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    const usage = [];
    for await (const c of stream) if (c.usage) usage.push(c);
    expect(usage).toHaveLength(1);
    expect(usage[0]!.choices).toEqual([]);
    expect(usage[0]!.usage).toMatchObject(MOCK_USAGE);
  });

  it('resolves aliases case-insensitively and names close matches for unknown models', async () => {
    const ok = await client.chat.completions.create({ model: 'GPT-4O-MINI', messages: [{ role: 'user', content: 'hi' }] });
    expect(ok.choices).toHaveLength(1);
    const err = await client.chat.completions.create({ model: 'gpt-4o-mino', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const e = err as InstanceType<typeof OpenAI.NotFoundError>;
    expect(e.code).toBe('model_not_found');
    expect(e.message).toContain("'gpt-4o-mini'");
  });

  it('lists the models this key may use in the OpenAI shape', async () => {
    const list = await client.models.list();
    const ids = list.data.map((m) => m.id);
    expect(ids).toContain('gpt-4o-mini');
    expect(list.data.find((m) => m.id === 'gpt-4o-mini')?.owned_by).toBe('mock');
    const one = await client.models.retrieve('mini');
    expect(one.id).toBe('gpt-4o-mini');
  });

  it('accepts the key in the URL (agent token) and as x-api-key', async () => {
    const viaUrl = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/api/agent/${key}/v1`, maxRetries: 0 });
    const r = await viaUrl.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]?.message.content).toContain('mock');
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('answers 401 to a key in the URL whose percent-encoding is malformed, and keeps serving', async () => {
    const bad = await fetch(`${gw.url}/api/agent/%E0%A4%A/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });

  it('relays each chunk as it comes (first chunk arrives before the upstream finishes)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    up.handle(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'first' }, finish_reason: null }] })}\n\n`);
      await gate;
      res.end('data: [DONE]\n\n');
    });
    try {
      const res = await fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toContain('first');
      release();
      let rest = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += new TextDecoder().decode(value);
      }
      expect(rest).toContain('data: [DONE]');
    } finally {
      up.handle(null);
    }
  });
});
