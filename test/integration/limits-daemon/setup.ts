/**
 * Shared pieces of the limits/usage suites against the real daemon: a daemon wired to a mock upstream
 * with priced models, plain-fetch helpers, OpenAI error-body checks, and bounded polling.
 */
import { expect } from 'vitest';
import { startTestDaemon, type TestDaemon, type TestDaemonOptions } from '../../helpers/daemon.js';
import { startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';

/** USD per million tokens of the test model: 0.5 in, 1 out = 500,000 / 1,000,000 pico-USD per token. */
export const PRICE_IN = '0.5';
export const PRICE_OUT = '1';
export const PICO_IN = 500_000n;
export const PICO_OUT = 1_000_000n;
export const MODEL = 'gpt-4o-mini';

export interface Rig {
  gw: TestDaemon;
  up: MockUpstream;
  close(): Promise<void>;
}

/** A daemon (and a fresh mock upstream unless one is given) with provider `mock` and model `gpt-4o-mini`. */
export async function startRig(opts: TestDaemonOptions & { up?: MockUpstream; configure?: boolean } = {}): Promise<Rig> {
  const up = opts.up ?? (await startMockUpstream());
  const gw = await startTestDaemon({ ...opts, env: { MOCK_KEY: 'sk-upstream-test', ...opts.env } });
  if (opts.configure !== false) {
    await gw.admin.providers.add({ name: 'mock', kind: 'openai', base_url: up.url, api_key_env: 'MOCK_KEY' });
    await gw.admin.models.add({ id: MODEL, provider: 'mock', upstream_model: 'mock-model', price_in: PRICE_IN, price_out: PRICE_OUT });
  }
  return {
    gw,
    up,
    async close() {
      await gw.close();
      if (!opts.up) await up.close();
    },
  };
}

export interface ChatBody {
  model?: string;
  messages?: Array<{ role: string; content: string }>;
  stream?: boolean;
  stream_options?: { include_usage: boolean };
  max_tokens?: number;
}

/** POST /v1/chat/completions with plain fetch. */
export function chat(baseURL: string, key: string, body: ChatBody = {}, init: RequestInit = {}): Promise<Response> {
  return fetch(`${baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...body }),
    ...init,
  });
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

/** Asserts status and an OpenAI-shaped error body with `code`; returns the body. */
export async function expectError(res: Response, status: number, code: string): Promise<OpenAIErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as OpenAIErrorBody;
  expect(body).toEqual({ error: { message: expect.any(String), type: expect.any(String), code, param: expect.toSatisfy((p) => p === null || typeof p === 'string') } });
  expect(body.error.message.length).toBeGreaterThan(10);
  return body;
}

/** Go-style durations as OpenAI sends them in x-ratelimit-reset-*: `120ms`, `6s`, `6.5s`, `1m0s`. */
export const DURATION = /^(?:\d+ms|(?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?s)$/;

export function retryAfter(res: Response): number {
  const v = res.headers.get('retry-after');
  expect(v).toMatch(/^\d+$/);
  const n = Number(v);
  expect(n).toBeGreaterThanOrEqual(1);
  return n;
}

/** Polls `probe` every 50 ms until `done(value)` or `ms` pass; returns the last value (the caller asserts). */
export async function pollUntil<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = 3_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await probe();
  while (!done(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    v = await probe();
  }
  return v;
}

/** A gate tests open to release held upstream responses. */
export function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** The start of the next UTC month (when a monthly quota resets). */
export function nextMonthUtc(at = Date.now()): string {
  const d = new Date(at);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString();
}

/** Fires 40 requests at once and checks the 10-RPM outcome exactly; shared with the Redis suite. */
export async function expectTenOfForty(send: (i: number) => Promise<Response>): Promise<void> {
  const all = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i)));
  const ok = all.filter((r) => r.status === 200);
  const limited = all.filter((r) => r.status === 429);
  expect({ ok: ok.length, limited: limited.length }).toEqual({ ok: 10, limited: 30 });
  // every admitted request saw a different remaining count: 9, 8, …, 0
  const remaining = ok.map((r) => Number(r.headers.get('x-ratelimit-remaining-requests'))).sort((a, b) => a - b);
  expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const r of ok) {
    expect(r.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(r.headers.get('x-ratelimit-reset-requests')).toMatch(DURATION);
    expect(((await r.json()) as { object: string }).object).toBe('chat.completion');
  }
  for (const r of limited) {
    // a bucket of 10/min refills one request every 6 s
    expect(retryAfter(r)).toBe(6);
    expect(r.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(r.headers.get('x-ratelimit-reset-requests')).toMatch(DURATION);
    const body = await expectError(r, 429, 'rate_limit_exceeded');
    expect(body.error.type).toBe('rate_limit_error');
    expect(body.error.message).toMatch(/10 requests per minute/);
  }
}
