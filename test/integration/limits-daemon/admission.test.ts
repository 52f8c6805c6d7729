/**
 * Admission through the real daemon (in-memory limiter): exactly 10 of 40 simultaneous requests pass a
 * 10-RPM tier, the rest get OpenAI-shaped 429s with Retry-After and the x-ratelimit-*-requests trio;
 * TPM refusals carry the -tokens trio; max concurrent → 429 concurrency_limit_exceeded while requests
 * are held open upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_URL } from '../../helpers/pg.js';
import { streamChat } from '../../helpers/mock-upstream.js';
import { chat, DURATION, expectError, expectTenOfForty, gate, pollUntil, retryAfter, startRig, type Rig } from './setup.js';

// The in-memory limiter never touches the store (keys and tiers come from the snapshot), so one backend
// is enough: Postgres when set (it starts in a fraction of PGlite's time), else PGlite.
const backend = PG_URL ? 'postgres' : 'pglite';

describe(`admission on ${backend} (in-memory limiter)`, () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({ backend });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('admits exactly 10 of 40 simultaneous requests on a 10-RPM tier; the rest get 429 + Retry-After', async () => {
    const { gw, up } = rig;
    await gw.admin.tiers.create('ten', { rpm: 10 });
    const { key } = await gw.admin.keys.create({ name: 'rpm-alice', tier: 'ten' });
    const before = up.requests.length;
    await expectTenOfForty(() => chat(gw.baseURL, key));
    // refused requests never reached the upstream
    expect(up.requests.length - before).toBe(10);
    // and the next one is still refused (the bucket refills one request per 6 s)
    await expectError(await chat(gw.baseURL, key), 429, 'rate_limit_exceeded');
  });

  it('refuses a request over the TPM budget with 429 and the -tokens trio', async () => {
    const { gw } = rig;
    await gw.admin.tiers.create('tpm100', { tpm: 100 });
    const { key } = await gw.admin.keys.create({ name: 'tpm-bob', tier: 'tpm100' });
    // a worst case ≥ the bucket takes the whole bucket; it settles to the real 18 tokens (MOCK_USAGE)
    const first = await chat(gw.baseURL, key, { max_tokens: 1000 });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100');
    await first.arrayBuffer();
    // ~82 tokens are left: a request that may need 100 must wait
    const second = await chat(gw.baseURL, key, { max_tokens: 1000 });
    const secs = retryAfter(second);
    expect(secs).toBeGreaterThan(1);
    expect(secs).toBeLessThanOrEqual(60);
    expect(second.headers.get('x-ratelimit-limit-tokens')).toBe('100');
    const left = Number(second.headers.get('x-ratelimit-remaining-tokens'));
    expect(left).toBeGreaterThanOrEqual(82);
    expect(left).toBeLessThan(100);
    expect(second.headers.get('x-ratelimit-reset-tokens')).toMatch(DURATION);
    // no RPM on this tier: no request trio
    expect(second.headers.get('x-ratelimit-limit-requests')).toBeNull();
    const body = await expectError(second, 429, 'rate_limit_exceeded');
    expect(body.error.message).toMatch(/100 tokens per minute/);
    // a small request still fits in what is left
    const small = await chat(gw.baseURL, key, { max_tokens: 5 });
    expect(small.status).toBe(200);
    await small.arrayBuffer();
  });

  it('refuses a third concurrent request with 429 concurrency_limit_exceeded while two are held upstream', async () => {
    const { gw, up } = rig;
    await gw.admin.tiers.create('pair', { max_concurrent: 2 });
    const { key } = await gw.admin.keys.create({ name: 'conc-carol', tier: 'pair' });
    const g = gate();
    const held: string[] = [];
    up.handle(async (req, res) => {
      held.push(String(req.body?.['model']));
      await g.wait;
      if (req.body?.['stream']) return streamChat(req, res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'mock-model', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }));
    });
    try {
      const a = chat(gw.baseURL, key);
      const b = chat(gw.baseURL, key, { stream: true });
      expect(await pollUntil(async () => held.length, (n) => n === 2)).toBe(2);
      const third = await chat(gw.baseURL, key);
      expect(retryAfter(third)).toBeGreaterThanOrEqual(1);
      const body = await expectError(third, 429, 'concurrency_limit_exceeded');
      expect(body.error.message).toMatch(/at most 2 at a time/);
      expect(held).toHaveLength(2);
      g.open();
      const [ra, rb] = await Promise.all([a, b]);
      expect(ra.status).toBe(200);
      expect(rb.status).toBe(200);
      await Promise.all([ra.arrayBuffer(), rb.arrayBuffer()]);
    } finally {
      g.open();
      up.handle(null);
    }
    // slots are released once the held requests finish
    const after = await chat(gw.baseURL, key);
    expect(after.status).toBe(200);
    await after.arrayBuffer();
  });
});
