/**
 * Every error code of SPEC §3 returned for its cause through the real daemon, OpenAI-shaped, with an
 * x-request-id; bad input never reaches the upstream and nothing secret appears in a response.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { chunk, startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';
import { closedPort } from '../../helpers/net.js';

interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}


describe('error codes through the daemon', () => {
  let up: MockUpstream;
  let gw: TestDaemon;
  let key: string;
  const post = (body: unknown, headers: Record<string, string> = {}, path = '/v1/chat/completions') =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const expectError = async (res: Response, status: number, code: string): Promise<ErrorBody> => {
    expect(res.status).toBe(status);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    expect(body.error.message).not.toContain(key);
    return body;
  };
  const msg = (content = 'hi') => ({ model: 'm', messages: [{ role: 'user', content }] });

  beforeAll(async () => {
    up = await startMockUpstream();
    gw = await startTestDaemon({ config: { bodyLimit: 64 * 1024 } });
    await gw.admin.providers.add({ name: 'mock', kind: 'openai', base_url: up.url });
    await gw.admin.providers.add({ name: 'dead', kind: 'openai', base_url: `http://127.0.0.1:${await closedPort()}/v1` });
    await gw.admin.providers.add({ name: 'slow', kind: 'openai', base_url: up.url, timeouts: { firstByteMs: 300, idleMs: 300 } });
    await gw.admin.models.add({ id: 'm', provider: 'mock' });
    await gw.admin.models.add({ id: 'dead-model', provider: 'dead' });
    await gw.admin.models.add({ id: 'slow-model', provider: 'slow' });
    key = (await gw.admin.keys.create({ name: 'errors' })).key;
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('400 for malformed JSON and wrong types, before any upstream call', async () => {
    const before = up.requests.length;
    await expectError(await post('{"model": "m", "messages": ['), 400, 'invalid_json');
    await expectError(await post('[1,2]'), 400, 'invalid_json');
    const noMessages = await expectError(await post({ model: 'm' }), 400, 'invalid_request');
    expect(noMessages.error.param).toBe('messages');
    const badStream = await expectError(await post({ ...msg(), stream: 'yes' }), 400, 'invalid_request');
    expect(badStream.error.param).toBe('stream');
    await expectError(await post({ ...msg(), max_tokens: 'many' }), 400, 'invalid_request');
    await expectError(await post({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }), 400, 'invalid_request');
    expect(up.requests.length).toBe(before);
  });

  it('401 for a missing, invalid, revoked or expired key', async () => {
    const none = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(msg()) });
    await expectError(none, 401, 'missing_api_key');
    await expectError(await post(msg(), { authorization: 'Bearer lw-not-a-real-key-000000000000000000000000000000' }), 401, 'invalid_api_key');
    const revoked = (await gw.admin.keys.create({ name: 'gone' })).key;
    await gw.admin.keys.revoke('gone');
    await expectError(await post(msg(), { authorization: `Bearer ${revoked}` }), 401, 'revoked_api_key');
    // expiry must lie in the future at creation: make one that lapses a moment later
    const expiresAt = Date.now() + 1500;
    const expired = (await gw.admin.keys.create({ name: 'old', expires: new Date(expiresAt).toISOString() })).key;
    expect((await post(msg(), { authorization: `Bearer ${expired}` })).status).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 100));
    await expectError(await post(msg(), { authorization: `Bearer ${expired}` }), 401, 'expired_api_key');
  });

  it('404 for an unknown model (naming close matches) and an unknown route', async () => {
    const body = await expectError(await post({ ...msg(), model: 'mm' }), 404, 'model_not_found');
    expect(body.error.message).toContain("'m'");
    await expectError(await fetch(`${gw.url}/v1/nope`, { headers: { authorization: `Bearer ${key}` } }), 404, 'not_found');
  });

  it('405 for the wrong method, 413 over the body cap', async () => {
    await expectError(await fetch(`${gw.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${key}` } }), 405, 'method_not_allowed');
    await expectError(await post(msg('x'.repeat(70 * 1024))), 413, 'body_too_large');
  });

  it('502 when the upstream refuses the connection or fails', async () => {
    await expectError(await post({ ...msg(), model: 'dead-model' }), 502, 'upstream_unreachable');
    up.handle((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"boom with sk-live-abcdefghijklmnop"}}');
    });
    try {
      const body = await expectError(await post(msg()), 502, 'upstream_error');
      expect(body.error.message).not.toContain('sk-live-abcdefghijklmnop');
    } finally {
      up.handle(null);
    }
  });

  it('504 when the upstream sends no first byte in time, and an in-stream error when it goes idle', async () => {
    up.handle(() => {
      /* never answers */
    });
    try {
      await expectError(await post({ ...msg(), model: 'slow-model' }), 504, 'upstream_timeout');
    } finally {
      up.handle(null);
    }
    up.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify(chunk('x', { content: 'partial' }))}\n\n`);
      // then silence: the idle timeout must end the stream with an error frame
    });
    try {
      const res = await post({ ...msg(), model: 'slow-model', stream: true });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('partial');
      expect(text).toMatch(/"code":"upstream_timeout"/);
    } finally {
      up.handle(null);
    }
  });

  it('x-request-id on every response, including health and models', async () => {
    for (const path of ['/healthz', '/readyz', '/v1/models', '/metrics']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-request-id'), path).toMatch(/^req_/);
    }
  });
});
