/**
 * Deployments, fallback and cooldown through the real daemon: a model whose first deployment fails
 * (HTTP 500, 429, a refused port, a first-byte timeout) is answered by the second and the usage event
 * lists both attempts; a deployment failing three times cools down and recovers once the cooldown is
 * over (on a clock the test moves); all down → 503, last failure a timeout → 504; weights split load.
 * Routing-focused: PGlite only.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';
import { chat, closedPort, failWith, hang, manualHealth, usageOf } from './rig.js';

describe('deployments: fallback, cooldown, 503/504, weights', () => {
  let a: MockUpstream;
  let b: MockUpstream;
  let slow: MockUpstream;
  let gw: TestDaemon;
  let key: string;
  let clock: ReturnType<typeof manualHealth>;

  const hits = (m: MockUpstream) => m.requests.filter((r) => r.method === 'POST').length;

  beforeAll(async () => {
    [a, b, slow] = await Promise.all([startMockUpstream(), startMockUpstream(), startMockUpstream(hang)]);
    gw = await startTestDaemon();
    const add = gw.admin.providers.add.bind(gw.admin.providers);
    await add({ name: 'a', kind: 'openai', base_url: a.url, api_key_env: null });
    await add({ name: 'b', kind: 'openai', base_url: b.url, api_key_env: null });
    await add({ name: 'slow', kind: 'openai', base_url: slow.url, api_key_env: null, timeouts: { firstByteMs: 300 } });
    await add({ name: 'dead', kind: 'openai', base_url: `http://127.0.0.1:${await closedPort()}/v1`, api_key_env: null });
    const model = gw.admin.models.add.bind(gw.admin.models);
    for (const [id, first, second] of [
      ['m', 'a', 'b'],
      ['m-dead', 'dead', 'b'],
      ['m-slow', 'slow', 'b'],
      ['m-timeout-last', 'a', 'slow'],
    ] as const) {
      await model({ id, provider: first, upstream_model: `${id}@${first}`, price_in: '1', price_out: '2' });
      await model({ id, provider: second, upstream_model: `${id}@${second}` });
    }
    await model({ id: 'w', provider: 'a', upstream_model: 'w@a', priority: 0, weight: 3 });
    await model({ id: 'w', provider: 'b', upstream_model: 'w@b', priority: 0, weight: 1 });
    await gw.admin.tiers.create('unlimited', {});
    key = (await gw.admin.keys.create({ name: 'fallback', tier: 'unlimited' })).key;
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([a?.close(), b?.close(), slow?.close()]);
  });
  beforeEach(() => {
    a.handle(null);
    b.handle(null);
    clock = manualHealth(gw);
  });

  it.each([
    [500, 'upstream_error'],
    [429, 'rate_limit_exceeded'],
  ])('first deployment answers HTTP %i → the second answers; the usage event lists both attempts', async (status, code) => {
    a.handle(failWith(status));
    const before = [hits(a), hits(b)];
    const res = await chat(gw, key, { model: 'm' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-lw-provider')).toBe('b');
    expect(res.headers.get('x-lw-routed-model')).toBe('m');
    expect(((await res.json()) as { choices: unknown[] }).choices).toHaveLength(1);
    expect([hits(a) - before[0]!, hits(b) - before[1]!]).toEqual([1, 1]);
    expect(b.requests.at(-1)!.body?.['model']).toBe('m@b');
    const ev = await usageOf(gw, res.headers.get('x-request-id'));
    expect(ev).toMatchObject({ status: 200, modelId: 'm', promptTokens: 11, completionTokens: 7, errorCode: null });
    expect(ev.attempts).toEqual([
      { provider: 'a', upstreamModel: 'm@a', status, error: code, ms: expect.any(Number) },
      { provider: 'b', upstreamModel: 'm@b', status: 200, ms: expect.any(Number) },
    ]);
  });

  it('a refused connection moves on to the next deployment', async () => {
    const res = await chat(gw, key, { model: 'm-dead' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-lw-provider')).toBe('b');
    const ev = await usageOf(gw, res.headers.get('x-request-id'));
    expect(ev.attempts?.map((t) => [t.provider, t.status, t.error])).toEqual([
      ['dead', 502, 'upstream_unreachable'],
      ['b', 200, undefined],
    ]);
  });

  it('a first-byte timeout moves on to the next deployment (streams too, before the first byte)', async () => {
    const client = new OpenAI({ apiKey: key, baseURL: gw.baseURL, maxRetries: 0 });
    const plain = await client.chat.completions.create({ model: 'm-slow', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(plain.response.headers.get('x-lw-provider')).toBe('b');
    const ev = await usageOf(gw, plain.response.headers.get('x-request-id'));
    expect(ev.attempts?.map((t) => [t.provider, t.status, t.error])).toEqual([
      ['slow', 504, 'upstream_timeout'],
      ['b', 200, undefined],
    ]);
    const stream = await client.chat.completions.create({ model: 'm-slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello from the mock upstream.');
  });

  it('a deployment failing 3 times cools down (skipped), then recovers after the cooldown', async () => {
    a.handle(failWith(500));
    for (let i = 0; i < 3; i++) expect((await chat(gw, key, { model: 'm' })).headers.get('x-lw-provider')).toBe('b');
    const failedAtA = hits(a);
    const cooled = await chat(gw, key, { model: 'm' });
    expect(cooled.status).toBe(200);
    expect(hits(a)).toBe(failedAtA);
    const ev = await usageOf(gw, cooled.headers.get('x-request-id'));
    expect(ev.attempts?.map((t) => t.provider)).toEqual(['b']);
    clock.advance(29_000);
    await chat(gw, key, { model: 'm' });
    expect(hits(a)).toBe(failedAtA);
    a.handle(null);
    clock.advance(1_001);
    const back = await chat(gw, key, { model: 'm' });
    expect(back.headers.get('x-lw-provider')).toBe('a');
    expect(hits(a)).toBe(failedAtA + 1);
    expect(clock.health.isCooling(gw.daemon.deps.state.current.models.get('m')!.deployments[0]!)).toBe(false);
  });

  it('all deployments down → 503 no_upstream_available, with every attempt on the usage event', async () => {
    a.handle(failWith(500));
    b.handle(failWith(502));
    const res = await chat(gw, key, { model: 'm' });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('no_upstream_available');
    expect(body.error.message).toContain("'m'");
    const ev = await usageOf(gw, res.headers.get('x-request-id'));
    expect(ev).toMatchObject({ status: 503, errorCode: 'no_upstream_available', promptTokens: 0, costPico: 0n });
    expect(ev.attempts?.map((t) => [t.provider, t.status])).toEqual([
      ['a', 500],
      ['b', 502],
    ]);
  });

  it('the last deployment timing out → 504 upstream_timeout', async () => {
    a.handle(failWith(500));
    const res = await chat(gw, key, { model: 'm-timeout-last' });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
  });

  it('equal priorities split the load by weight (3:1)', async () => {
    const before = [hits(a), hits(b)];
    const n = 200;
    for (let i = 0; i < n; i += 20) {
      const batch = Array.from({ length: 20 }, () => chat(gw, key, { model: 'w' }));
      for (const r of await Promise.all(batch)) expect(r.status).toBe(200);
    }
    const toA = hits(a) - before[0]!;
    const toB = hits(b) - before[1]!;
    expect(toA + toB).toBe(n);
    // expected 150 / 50; the bounds are more than 5 standard deviations (6.1) wide
    expect(toA).toBeGreaterThan(115);
    expect(toA).toBeLessThan(185);
  });
});
