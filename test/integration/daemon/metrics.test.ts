/**
 * GET /metrics (Prometheus text) after real traffic: requests by endpoint and status, latency and
 * overhead histograms, in-flight, upstream errors, usage queue depth, estimated and dropped usage,
 * unknown prices, process gauges; and the `x-lw-overhead-ms` header on answers.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { chatCompletion, defaultHandler, startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  let up: MockUpstream;
  let gw: TestDaemon;
  let client: OpenAI;

  beforeAll(async () => {
    up = await startMockUpstream(async (req, res) => {
      const model = String(req.body?.['model']);
      if (model === 'broken-upstream') {
        res.writeHead(500, { 'content-type': 'application/json' });
        return void res.end('{"error":{"message":"boom"}}');
      }
      if (model === 'no-usage-upstream') {
        const { usage: _drop, ...rest } = chatCompletion(model);
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(rest));
      }
      return defaultHandler(req, res);
    });
    gw = await startTestDaemon();
    await gw.admin.providers.add({ name: 'mock', kind: 'openai', base_url: up.url });
    await gw.admin.models.add({ id: 'priced', provider: 'mock', upstream_model: 'mock-model', price_in: '1', price_out: '2' });
    await gw.admin.models.add({ id: 'free-text', provider: 'mock', upstream_model: 'mock-model' });
    await gw.admin.models.add({ id: 'broken', provider: 'mock', upstream_model: 'broken-upstream', price_in: '1', price_out: '1' });
    await gw.admin.models.add({ id: 'silent', provider: 'mock', upstream_model: 'no-usage-upstream', price_in: '1', price_out: '1' });
    client = new OpenAI({ apiKey: (await gw.admin.keys.create({ name: 'm' })).key, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('counts what happened, with the histograms, gauges and process metrics Prometheus expects', async () => {
    const { response } = await client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(Number(response.headers.get('x-lw-overhead-ms'))).toBeGreaterThanOrEqual(0);
    const stream = await client.chat.completions.create({ model: 'priced', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const _ of stream) void _;
    await client.chat.completions.create({ model: 'free-text', messages: [{ role: 'user', content: 'hi' }] });
    await client.chat.completions.create({ model: 'silent', messages: [{ role: 'user', content: 'hi' }] });
    await expect(client.chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow();

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'lw_requests_total', 'endpoint="chat",status="200"')).toBe(4);
    expect(sample(text, 'lw_requests_total', 'endpoint="chat",status="502"')).toBe(1);
    expect(sample(text, 'lw_request_duration_seconds_count', 'endpoint="chat"')).toBe(5);
    expect(sample(text, 'lw_request_duration_seconds_bucket', 'le="+Inf",endpoint="chat"')).toBe(5);
    expect(sample(text, 'lw_overhead_seconds_count')).toBe(4);
    expect(sample(text, 'lw_inflight_requests')).toBe(0);
    expect(sample(text, 'lw_upstream_errors_total', 'provider="mock",code="upstream_error"')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'lw_usage_queue_depth')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'lw_usage_estimated_total')).toBe(1);
    expect(sample(text, 'lw_usage_dropped_total')).toBe(0);
    expect(sample(text, 'lw_unpriced_requests_total', 'model="free-text"')).toBe(1);
    expect(sample(text, 'lw_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(text).toMatch(/^lw_nodejs_heap_space_size_used_bytes\{space="old"\} \d+/m);
    expect(text).toMatch(/^lw_nodejs_eventloop_lag_p99_seconds \d/m);
  });
});
