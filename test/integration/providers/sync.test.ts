/**
 * `lw models sync PROVIDER` and `lw serve --sync`: a provider's `GET /models` imported through the
 * daemon's admin API (and the CLI as a subprocess), enriched from the built-in catalog, on PGlite and
 * (when LW_TEST_DATABASE_URL is set) Postgres.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminError } from '../../../src/admin/types.js';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { defaultHandler, startMockUpstream, type MockHandler, type MockUpstream } from '../../helpers/mock-upstream.js';
import { backends } from '../../helpers/pg.js';
import { closedPort } from './rig.js';
import { runProcess, type ProcessResult } from '../../helpers/process.js';

const LISTED = ['gpt-4o', 'gpt-4o-2024-08-06', 'text-embedding-3-small', 'gpt5.4', 'openai/gpt-4o-mini', 'my-local-model', 'has space'];

const listing: MockHandler = (req, res) => {
  if (req.method === 'GET' && req.path === '/v1/models') {
    if (req.headers.authorization !== 'Bearer sk-sync-key-0001') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Incorrect API key provided' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: LISTED.map((id) => ({ id, object: 'model', created: 0, owned_by: 'x' })) }));
    return;
  }
  return defaultHandler(req, res);
};

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function lwCli(args: string[], home: string): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: home, LW_HOME: home },
  });
}

describe.each(backends())('models sync on %s', (backend) => {
  let up: MockUpstream;
  let gw: TestDaemon;

  beforeAll(async () => {
    up = await startMockUpstream(listing);
    gw = await startTestDaemon({ backend, env: { SYNC_KEY: 'sk-sync-key-0001' } });
    await gw.admin.providers.add({ name: 'up', kind: 'openai', base_url: up.url, api_key_env: 'SYNC_KEY' });
    await gw.admin.providers.add({ name: 'other', kind: 'openai', base_url: up.url, api_key_env: 'SYNC_KEY' });
    await gw.admin.models.add({ id: 'my-local-model', provider: 'other', price_in: '0', price_out: '0' });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('adds catalog models under their catalog ids, with prices, context, aliases and capabilities', async () => {
    const r = await gw.admin.models.sync('up');
    expect(r.provider).toBe('up');
    expect([...r.added].sort()).toEqual(['gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o-mini', 'gpt-5.4', 'text-embedding-3-small']);
    expect(r.updated).toEqual(['my-local-model']);
    expect(r.skipped).toEqual(['has space']);
    const list = new Map((await gw.admin.models.list()).map((m) => [m.id, m]));
    expect(list.get('gpt-4o')).toMatchObject({ kind: 'chat', price_in: '2.5', price_out: '10', price_cached_in: '1.25', context_window: 128_000, status: 'GA' });
    expect(list.get('gpt-4o')!.deployments).toEqual([{ provider: 'up', upstream_model: 'gpt-4o', priority: 0, weight: 1 }]);
    expect(list.get('gpt-5.4')).toMatchObject({ aliases: ['gpt5.4'], deployments: [{ provider: 'up', upstream_model: 'gpt5.4' }] });
    expect(list.get('gpt-4o-mini')!.deployments[0]!.upstream_model).toBe('openai/gpt-4o-mini');
    expect(list.get('gpt-4o-2024-08-06')).toMatchObject({ price_in: null, context_window: 128_000 });
    expect(list.get('text-embedding-3-small')).toMatchObject({ kind: 'embedding', price_in: '0.02' });
    expect(list.get('my-local-model')!.deployments.map((d) => [d.provider, d.priority])).toEqual([
      ['other', 0],
      ['up', 1],
    ]);
    const snap = gw.daemon.deps.state.current;
    expect(snap.models.get('text-embedding-3-small')!.capabilities.dimensions).toEqual({ min: 1, max: 1536, default: 1536 });
    expect(snap.models.get('gpt-4o')!.capabilities).toEqual({ tools: true, vision: true, reasoning: false });
  });

  it('a synced model answers at once, sent upstream under its listed name', async () => {
    const key = (await gw.admin.keys.create({ name: `sync-${backend}` })).key;
    const client = new OpenAI({ apiKey: key, baseURL: gw.baseURL, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.message.content).toBe('Hello from the mock upstream.');
    expect(up.requests.at(-1)!.body?.['model']).toBe('openai/gpt-4o-mini');
  });

  it('a second sync changes nothing', async () => {
    const r = await gw.admin.models.sync('up');
    expect([r.added, r.updated]).toEqual([[], []]);
    expect([...r.skipped].sort()).toEqual([...LISTED].sort());
  });

  it('unknown provider → 404; an upstream that refuses or is down → 502 saying why', async () => {
    await expect(gw.admin.models.sync('nope')).rejects.toMatchObject({ status: 404 });
    await gw.admin.providers.add({ name: 'nokey', kind: 'openai', base_url: up.url, api_key_env: 'UNSET_SYNC_KEY' });
    const refused = await gw.admin.models.sync('nokey').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AdminError);
    expect(refused).toMatchObject({ status: 502, message: expect.stringContaining('HTTP 401') });
    await gw.admin.providers.add({ name: 'down', kind: 'openai', base_url: `http://127.0.0.1:${await closedPort()}/v1`, api_key_env: null });
    await expect(gw.admin.models.sync('down')).rejects.toMatchObject({ status: 502, message: expect.stringContaining("cannot list the models of provider 'down'") });
  });

  it.skipIf(backend !== 'pglite')('lw models sync PROVIDER prints what changed (CLI through the running daemon)', async () => {
    await gw.admin.providers.add({ name: 'up2', kind: 'openai', base_url: up.url, api_key_env: 'SYNC_KEY' });
    const r = await lwCli(['models', 'sync', 'up2'], gw.home);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/synced up2: 0 added, 6 updated, 1 skipped$/);
    expect(lines).toContain('skipped: has space');
  }, 60_000);
});

describe('lw serve --sync', () => {
  it('syncs every enabled provider at start-up; a failing one is logged, not fatal', async () => {
    const up = await startMockUpstream(listing);
    const down = `http://127.0.0.1:${await closedPort()}/v1`;
    const gw = await startTestDaemon({
      env: { SYNC_KEY: 'sk-sync-key-0001' },
      config: {
        sync: true,
        providers: [
          { name: 'down', kind: 'openai', base_url: down },
          { name: 'up', kind: 'openai', base_url: up.url, api_key_env: 'SYNC_KEY' },
        ],
      },
    });
    try {
      const ids = (await gw.admin.models.list()).map((m) => m.id);
      expect(ids).toEqual(expect.arrayContaining(['gpt-4o', 'gpt-5.4', 'my-local-model', 'text-embedding-3-small']));
      expect(gw.daemon.deps.state.current.models.has('gpt-4o')).toBe(true);
      expect(gw.logs.some((l) => l.includes('provider model sync failed') && l.includes('down'))).toBe(true);
      expect(gw.logs.some((l) => l.includes('provider models synced') && l.includes('"added":6'))).toBe(true);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
