/**
 * `model: "auto"` and `POST /api/models/route` through the real daemon: the choice follows the
 * request's needs (tools, images), health (cooling deployments) and the key's globs; the response says
 * where it went (`routing_info` on non-stream chat, `x-lw-routed-model` always); the route query
 * filters and ranks with the same scorer. Routing-focused: PGlite only.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { anthropicHandler } from '../../helpers/mock-anthropic.js';
import { startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';
import { chat, manualHealth, usageOf } from './rig.js';

interface RoutingInfo {
  model: string;
  provider: string;
  reason: string;
}

const IMAGE = [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }];
const TOOLS = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];

describe('auto routing and /api/models/route', () => {
  let oai: MockUpstream;
  let ant: MockUpstream;
  let gw: TestDaemon;
  let key: string;
  let clock: ReturnType<typeof manualHealth>;

  beforeAll(async () => {
    [oai, ant] = await Promise.all([startMockUpstream(), startMockUpstream(anthropicHandler)]);
    gw = await startTestDaemon();
    await gw.admin.providers.add({ name: 'oai', kind: 'openai', base_url: oai.url, api_key_env: null });
    await gw.admin.providers.add({ name: 'ant', kind: 'anthropic', base_url: ant.url, api_key_env: null });
    const add = gw.admin.models.add.bind(gw.admin.models);
    await add({ id: 'tiny', provider: 'oai', upstream_model: 'tiny-up', price_in: '0.05', price_out: '0.1', context_window: 4096, capabilities: { tools: false, vision: false } });
    await add({ id: 'gpt-4o', provider: 'oai', price_in: '2.5', price_out: '10', context_window: 128_000, capabilities: { tools: true, vision: true } });
    await add({ id: 'claude', provider: 'ant', upstream_model: 'claude-up', price_in: '3', price_out: '15', context_window: 200_000, capabilities: { tools: true, vision: true, reasoning: true } });
    await add({ id: 'preview', provider: 'oai', status: 'Preview', price_in: '0.05', price_out: '0.1', capabilities: { tools: true } });
    await add({ id: 'emb', provider: 'oai', kind: 'embedding', price_in: '0.02', price_out: '0' });
    await gw.admin.tiers.create('unlimited', {});
    key = (await gw.admin.keys.create({ name: 'auto', tier: 'unlimited' })).key;
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([oai?.close(), ant?.close()]);
  });
  beforeEach(() => {
    clock = manualHealth(gw);
  });

  async function auto(body: Record<string, unknown>, k = key): Promise<{ res: Response; info: RoutingInfo | undefined; body: Record<string, unknown> }> {
    const res = await chat(gw, k, { model: 'auto', ...body });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const json = JSON.parse(text) as Record<string, unknown>;
    return { res, info: json['routing_info'] as RoutingInfo | undefined, body: json };
  }

  it('plain request → the cheapest GA model; routing_info and x-lw-routed-model say so', async () => {
    const { res, info, body } = await auto({});
    expect(info).toEqual({ model: 'tiny', provider: 'oai', reason: expect.stringMatching(/^auto: best of 4 healthy candidates with a context window over \d+ tokens; 1\/1 deployment healthy, .*GA, \$0\.15 per 1M in\+out$/) });
    expect(res.headers.get('x-lw-routed-model')).toBe('tiny');
    expect((body['choices'] as unknown[]).length).toBe(1);
    expect(oai.requests.at(-1)!.body?.['model']).toBe('tiny-up');
    expect((await usageOf(gw, res.headers.get('x-request-id'))).modelId).toBe('tiny');
  });

  it('tools rule out models that cannot call them; images need vision', async () => {
    expect((await auto({ tools: TOOLS })).info?.model).toBe('gpt-4o');
    expect((await auto({ messages: IMAGE })).info?.model).toBe('gpt-4o');
  });

  it('a prompt bigger than a context window rules that model out', async () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(1200);
    expect((await auto({ messages: [{ role: 'user', content: long }] })).info?.model).toBe('gpt-4o');
  });

  it('cooling deployments are avoided', async () => {
    const snap = gw.daemon.deps.state.current;
    for (const id of ['tiny', 'gpt-4o']) for (let i = 0; i < 3; i++) clock.health.failure(snap.models.get(id)!.deployments[0]!);
    const { info } = await auto({});
    expect(info).toMatchObject({ model: 'claude', provider: 'ant' });
    expect(info?.reason).toMatch(/^auto: best of 2 healthy candidates/);
    clock.advance(31_000);
    // the cooled models are candidates again; claude, now known to be fast, keeps the traffic
    expect((await auto({})).info?.reason).toMatch(/^auto: best of 4 healthy candidates .* ~\d+ ms recent latency/);
  });

  it("the key's globs limit the choice; a translated (anthropic) answer carries routing_info too", async () => {
    const claudeOnly = (await gw.admin.keys.create({ name: 'claude-only', tier: 'unlimited', models: ['claude*'] })).key;
    const { info, body } = await auto({ max_tokens: 32 }, claudeOnly);
    expect(info?.model).toBe('claude');
    expect(body['object']).toBe('chat.completion');
    expect(ant.requests.at(-1)!.body?.['model']).toBe('claude-up');
  });

  it('streams say where they went in the header only', async () => {
    const res = await chat(gw, key, { model: 'auto', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-lw-routed-model')).toBe('tiny');
    const text = await res.text();
    expect(text).toContain('data: [DONE]');
    expect(text).not.toContain('routing_info');
  });

  it('a named model is untouched: no routing_info, header still set', async () => {
    const res = await chat(gw, key, { model: 'gpt-4o' });
    expect(res.headers.get('x-lw-routed-model')).toBe('gpt-4o');
    expect(await res.json()).not.toHaveProperty('routing_info');
  });

  it('no model fits → 400 naming the need; none allowed → 404', async () => {
    const tinyOnly = (await gw.admin.keys.create({ name: 'tiny-only', tier: 'unlimited', models: ['tiny'] })).key;
    const res = await chat(gw, tinyOnly, { model: 'auto', tools: TOOLS });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('has tools');
    const nothing = (await gw.admin.keys.create({ name: 'nothing', tier: 'unlimited', models: ['nope-*'] })).key;
    expect((await chat(gw, nothing, { model: 'auto' })).status).toBe(404);
  });

  describe('POST /api/models/route', () => {
    async function route(body: unknown, k: string | null = key): Promise<{ status: number; json: { object?: string; data: Array<Record<string, unknown>>; error?: { message: string } } }> {
      const res = await fetch(`${gw.url}/api/models/route`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(k ? { authorization: `Bearer ${k}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as never };
    }
    const ids = (r: { json: { data: Array<Record<string, unknown>> } }) => r.json.data.map((m) => m['id']);

    it('needs an API key', async () => {
      expect((await route({}, null)).status).toBe(401);
      expect((await route({}, 'lw-not-a-key')).status).toBe(401);
    });

    it('lists the chat models best first with score, reason, context, status and prices', async () => {
      const r = await route({ prefer: 'cheapest' });
      expect(r.status).toBe(200);
      expect(r.json.object).toBe('list');
      expect(ids(r)).toEqual(['tiny', 'preview', 'gpt-4o', 'claude']);
      expect(r.json.data[0]).toMatchObject({
        id: 'tiny',
        provider: 'oai',
        providers: ['oai'],
        score: 0.9895,
        reason: expect.stringContaining('1/1 deployment healthy'),
        context_window: 4096,
        status: 'GA',
        prices: { input: '0.05', output: '0.1', cached_input: null },
      });
    });

    it('filters by capabilities, providers, min_context and status, and honours limit', async () => {
      expect(ids(await route({ capabilities: ['vision'], prefer: 'cheapest' }))).toEqual(['gpt-4o', 'claude']);
      expect(ids(await route({ capabilities: ['reasoning'] }))).toEqual(['claude']);
      expect(ids(await route({ capabilities: ['embedding'] }))).toEqual(['emb']);
      expect(ids(await route({ providers: ['ant'] }))).toEqual(['claude']);
      expect(ids(await route({ min_context: 150_000 }))).toEqual(['claude']);
      expect(ids(await route({ status: 'Preview' }))).toEqual(['preview']);
      expect(ids(await route({ prefer: 'cheapest', limit: 1 }))).toEqual(['tiny']);
    });

    it('fastest puts a fast model first; cooling models are left out', async () => {
      const snap = gw.daemon.deps.state.current;
      clock.health.success(snap.models.get('claude')!.deployments[0]!, 120);
      expect(ids(await route({ prefer: 'fastest' }))[0]).toBe('claude');
      for (let i = 0; i < 3; i++) clock.health.failure(snap.models.get('claude')!.deployments[0]!);
      expect(ids(await route({ prefer: 'fastest' }))).not.toContain('claude');
    });

    it('refuses unknown fields and values with a 400 naming them', async () => {
      const unknown = await route({ min_params_b: 7 });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error?.message).toContain("'min_params_b'");
      const badCap = await route({ capabilities: ['code'] });
      expect(badCap.status).toBe(400);
      expect(badCap.json.error?.message).toContain("'capabilities.0'");
    });
  });
});
