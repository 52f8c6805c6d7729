/**
 * Issue 2's "done when", as a new user: on the embedded store, a provider, a model and a key added
 * with the CLI before `lw serve` starts, more added while it runs (the CLI then goes through the
 * daemon's admin API), streaming and plain chat through the `openai` SDK, a revoked key refused
 * within a second, and no key in the daemon's logs or in CLI output other than at creation.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';
import { ROOT, serve, stop, type Served } from '../../helpers/serve-process.js';

const run = promisify(execFile);

describe('new user: CLI before and while lw serve runs on the embedded store', () => {
  let home: string;
  let up: MockUpstream;
  let daemon: Served | null = null;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, LW_HOME: home, HOME: home, MOCK_UPSTREAM_KEY: 'sk-mock-secret-0123456789' });
  const lw = async (...args: string[]) => {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: env(), timeout: 60_000 });
    return r.stdout;
  };
  const lwJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await lw('--json', ...args)) as T;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'lw-newuser-'));
    up = await startMockUpstream();
  });
  afterAll(async () => {
    await stop(daemon);
    await up?.close();
    rmSync(home, { recursive: true, force: true });
  });

  let firstKey = '';
  let secondKey = '';

  it('sets up a provider, a model and a key before the daemon runs', async () => {
    await lw('providers', 'add', 'mock', '--kind', 'openai', '--base-url', up.url, '--api-key-env', 'MOCK_UPSTREAM_KEY');
    await lw('models', 'add', 'gpt-4o-mini', '--provider', 'mock', '--upstream-model', 'mock-model', '--price-in', '0.15', '--price-out', '0.6');
    const created = await lwJson<{ id: string; name: string; prefix: string; tier: string; key: string }>('keys', 'create', '--name', 'alice');
    expect(created).toMatchObject({ name: 'alice', tier: 'beta' });
    expect(created.key).toMatch(/^lw-[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 11));
    firstKey = created.key;
    const list = await lw('--json', 'keys', 'list');
    expect(list).not.toContain(firstKey);
  });

  it('serves plain and streamed chat to the openai SDK', async () => {
    daemon = await serve(home, { MOCK_UPSTREAM_KEY: 'sk-mock-secret-0123456789' });
    const client = new OpenAI({ apiKey: firstKey, baseURL: `${daemon.url}/v1`, maxRetries: 0 });
    const plain = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.choices[0]?.message.content).toBe('Hello from the mock upstream.');
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello from the mock upstream.');
    expect(up.requests.at(-1)?.headers.authorization).toBe('Bearer sk-mock-secret-0123456789');
  });

  it('takes a key and a model added through the CLI while the daemon holds the store', async () => {
    const created = await lwJson<{ key: string }>('keys', 'create', '--name', 'bob', '--tier', 'pro');
    secondKey = created.key;
    await lw('models', 'add', 'fast', '--provider', 'mock', '--upstream-model', 'mock-fast');
    const client = new OpenAI({ apiKey: secondKey, baseURL: `${daemon!.url}/v1`, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]?.message.content).toContain('mock');
    expect(up.requests.at(-1)?.body?.['model']).toBe('mock-fast');
  });

  it('refuses a revoked key within a second', async () => {
    await lw('keys', 'revoke', 'bob');
    const started = Date.now();
    let status = 0;
    for (;;) {
      const res = await fetch(`${daemon!.url}/v1/models`, { headers: { authorization: `Bearer ${secondKey}` } });
      status = res.status;
      if (status === 401 || Date.now() - started > 1000) {
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(status === 401 ? 'revoked_api_key' : 'x');
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
    expect(Date.now() - started).toBeLessThanOrEqual(1000);
  });

  it('never writes a key or the provider secret to the daemon log', () => {
    const log = daemon!.stderr();
    expect(log).toContain('"msg":"request"');
    expect(log).not.toContain(firstKey);
    expect(log).not.toContain(secondKey);
    expect(log).not.toContain('sk-mock-secret-0123456789');
  });
});
