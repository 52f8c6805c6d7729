import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createStoreService } from '../../../src/admin/store-service.js';
import type { AdminService } from '../../../src/admin/types.js';
import { listDeployments } from '../../../src/db/queries/models.js';
import { describeStores, resetStore } from './backends.js';
import { rejects } from '../../helpers/admin-error.js';


const SECRET = 'sk-test-0123456789abcdefSECRET';
let upstream: { url: string; seen: Record<string, string | undefined>[]; close(): void };

beforeAll(async () => {
  const seen: Record<string, string | undefined>[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url, authorization: req.headers.authorization, 'x-api-key': req.headers['x-api-key'] as string });
    if (req.url === '/bad/models') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${SECRET}` } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'm-1' }, { id: 'm-2' }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  upstream = { url: `http://127.0.0.1:${port}`, seen, close: () => server.close() };
});
afterAll(() => upstream.close());

describeStores('admin tiers, providers, models', (ctx) => {
  let svc: AdminService;
  const env = { OPENAI_API_KEY: SECRET } as NodeJS.ProcessEnv;
  beforeEach(async () => {
    await resetStore(ctx().store);
    svc = createStoreService(ctx().store, { env });
  });

  it('tiers: create, set, exclusive default, list', async () => {
    const gold = await svc.tiers.create('gold', { rpm: 1000, tpm: 50_000, quota_tokens: 10_000_000, models: ['gpt-*'] });
    expect(gold).toMatchObject({ name: 'gold', rpm: 1000, tpm: 50_000, quota_tokens: 10_000_000, quota_period: 'month', is_default: false });
    await rejects(svc.tiers.create('gold', { rpm: 1 }), 409, /tier 'gold' already exists/);
    await rejects(svc.tiers.create('bad name', {}), 400, /bad tier name/);
    await rejects(svc.tiers.create('t2', { rpm: 1.5 }), 400, /bad rpm/);
    const set = await svc.tiers.set('gold', { rpm: null, quota_period: 'day', is_default: true });
    expect(set).toMatchObject({ rpm: null, quota_period: 'day', is_default: true });
    const list = await svc.tiers.list();
    expect(list.filter((t) => t.is_default).map((t) => t.name)).toEqual(['gold']);
    expect(list.map((t) => t.name)).toEqual(['beta', 'pro', 'enterprise', 'gold']);
    await rejects(svc.tiers.set('gold', { is_default: false }), 409, /is the default/);
    await rejects(svc.tiers.set('nope', { rpm: 1 }), 404, /unknown tier 'nope' \(known: beta, pro, enterprise, gold\)/);
    await rejects(svc.tiers.set('gold', {}), 400, /nothing to change/);
  });

  it('tiers: delete refuses the default and tiers in use, naming how many keys', async () => {
    await rejects(svc.tiers.delete('beta'), 409, /'beta' is the default/);
    await svc.keys.create({ name: 'k1', tier: 'pro' });
    await svc.keys.create({ name: 'k2', tier: 'pro' });
    await rejects(svc.tiers.delete('pro'), 409, /used by 2 keys/);
    await svc.keys.set('k1', { tier: 'beta' });
    await rejects(svc.tiers.delete('pro'), 409, /used by 1 key;/);
    await svc.keys.revoke('k2');
    await rejects(svc.tiers.delete('pro'), 409, /used by 1 key;/);
    expect(await svc.tiers.delete('enterprise')).toEqual({ deleted: 'enterprise' });
    await rejects(svc.tiers.delete('enterprise'), 404, /unknown tier/);
    const configured = createStoreService(ctx().store, { defaultTier: 'pro' });
    await svc.keys.set('k2', { tier: 'beta' });
    await rejects(configured.tiers.delete('pro'), 409, /default for new keys/);
  });

  it('providers: add validates URL, kind and the key variable NAME; list never shows the key', async () => {
    const p = await svc.providers.add({ name: 'openai', base_url: 'https://api.openai.com/v1/', api_key_env: 'OPENAI_API_KEY' });
    expect(p).toMatchObject({ name: 'openai', kind: 'openai', base_url: 'https://api.openai.com/v1', api_key_present: true });
    await svc.providers.add({ name: 'claude', kind: 'anthropic', base_url: 'https://api.anthropic.com/v1', api_key_env: 'ANTHROPIC_API_KEY' });
    const list = await svc.providers.list();
    expect(list.map((x) => [x.name, x.api_key_present])).toEqual([['claude', false], ['openai', true]]);
    expect(JSON.stringify(list)).not.toContain(SECRET);
    await rejects(svc.providers.add({ name: 'openai', base_url: 'http://x' }), 409, /already exists/);
    await rejects(svc.providers.add({ name: 'x', base_url: 'not a url' }), 400, /bad URL/);
    await rejects(svc.providers.add({ name: 'x', base_url: 'ftp://host/v1' }), 400, /bad URL/);
    await rejects(svc.providers.add({ name: 'x' }), 400, /base_url is required: 'x' is not a preset \(presets: openai, anthropic/);
    // a preset name needs no URL: kind, URL and key variable come from the preset, explicit fields win
    const groq = await svc.providers.add({ name: 'groq' });
    expect(groq).toMatchObject({ kind: 'openai', base_url: 'https://api.groq.com/openai/v1', api_key_env: 'GROQ_API_KEY' });
    const claude = await svc.providers.add({ name: 'anthropic', api_key_env: 'MY_CLAUDE_KEY' });
    expect(claude).toMatchObject({ kind: 'anthropic', base_url: 'https://api.anthropic.com/v1', api_key_env: 'MY_CLAUDE_KEY' });
    await svc.providers.remove('groq');
    await svc.providers.remove('anthropic');
    await rejects(svc.providers.add({ name: 'x', base_url: 'http://h', kind: 'gemini' as 'openai' }), 400, /bad kind/);
    const leak = svc.providers.add({ name: 'x', base_url: 'http://h', api_key_env: SECRET });
    await rejects(leak, 400, /NAME of an environment variable, not the key itself/);
    await leak.catch((e: Error) => expect(e.message).not.toContain(SECRET));
    await rejects(svc.providers.add({ name: 'x', base_url: 'http://h', api_key_env: 'MY-KEY' }), 400, /bad api_key_env/);
    await rejects(svc.providers.add({ name: 'x', base_url: 'http://h', headers: { Authorization: 'x' } }), 400, /api_key_env/);
    expect((await svc.providers.list()).length).toBe(2);
  });

  it('providers: test lists upstream models, sends the key, and never echoes it', async () => {
    await svc.providers.add({ name: 'good', base_url: upstream.url, api_key_env: 'OPENAI_API_KEY' });
    await svc.providers.add({ name: 'bad', base_url: `${upstream.url}/bad`, api_key_env: 'OPENAI_API_KEY' });
    await svc.providers.add({ name: 'ant', kind: 'anthropic', base_url: upstream.url, api_key_env: 'OPENAI_API_KEY' });
    const closed = createNetServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await svc.providers.add({ name: 'down', base_url: `http://127.0.0.1:${port}/v1` });
    const good = await svc.providers.test('good');
    expect(good).toMatchObject({ provider: 'good', ok: true, status: 200, models: ['m-1', 'm-2'] });
    expect(upstream.seen.at(-1)).toMatchObject({ path: '/models', authorization: `Bearer ${SECRET}` });
    await svc.providers.test('ant');
    expect(upstream.seen.at(-1)).toMatchObject({ 'x-api-key': SECRET, authorization: undefined });
    const bad = await svc.providers.test('bad');
    expect(bad).toMatchObject({ ok: false, status: 401, models: [] });
    expect(bad.message).toMatch(/HTTP 401 .*Incorrect API key provided/);
    expect(bad.message).not.toContain(SECRET);
    const down = await svc.providers.test('down');
    expect(down).toMatchObject({ ok: false, status: null });
    expect(down.message).toBe(`cannot reach http://127.0.0.1:${port}/v1/models: ECONNREFUSED`);
    await rejects(svc.providers.test('nope'), 404, /unknown provider 'nope' \(known: ant, bad, down, good\)/);
  });

  it('models: add, second deployment, aliases, enable/disable, remove', async () => {
    await rejects(svc.models.add({ id: 'gpt-x', provider: 'openai' }), 404, /unknown provider 'openai'/);
    await svc.providers.add({ name: 'openai', base_url: 'https://api.openai.com/v1' });
    await svc.providers.add({ name: 'azure', base_url: 'https://azure.example/v1' });
    const m = await svc.models.add({ id: 'gpt-x', provider: 'openai', aliases: ['x', 'gx'], price_in: '2.50', price_out: '10', context_window: 128_000 });
    expect(m).toMatchObject({ id: 'gpt-x', added: 'model', aliases: ['gx', 'x'], price_in: '2.5', price_out: '10', context_window: 128_000, enabled: true });
    expect(m.deployments).toEqual([{ provider: 'openai', upstream_model: 'gpt-x', priority: 0, weight: 1 }]);
    const second = await svc.models.add({ id: 'gpt-x', provider: 'azure', upstream_model: 'gpt-x-azure' });
    expect(second.added).toBe('deployment');
    expect(second.deployments.map((d) => [d.provider, d.upstream_model, d.priority])).toEqual([
      ['openai', 'gpt-x', 0],
      ['azure', 'gpt-x-azure', 1],
    ]);
    await rejects(svc.models.add({ id: 'gpt-x', provider: 'azure', upstream_model: 'gpt-x-azure' }), 409, /already has a deployment/);
    await rejects(svc.models.add({ id: 'X', provider: 'openai' }), 409, /already an alias of model 'gpt-x'/);
    await rejects(svc.models.add({ id: 'GPT-X', provider: 'openai' }), 409, /'gpt-x' already exists/);
    await rejects(svc.models.add({ id: 'y', provider: 'openai', price_in: 'cheap' }), 400, /bad price_in/);
    await svc.models.add({ id: 'other', provider: 'openai' });
    await rejects(svc.models.alias('other', 'gx'), 409, /alias 'gx' is already taken by model 'gpt-x'/);
    await rejects(svc.models.alias('other', 'GPT-x'), 409, /already a model id/);
    await rejects(svc.models.alias('nope', 'n'), 404, /unknown model 'nope'/);
    await rejects(svc.models.enable('x'), 404, /did you mean 'gpt-x'/);
    expect((await svc.models.alias('other', 'o')).aliases).toEqual(['o']);
    expect((await svc.models.disable('gpt-x')).enabled).toBe(false);
    expect((await svc.models.enable('gpt-x')).enabled).toBe(true);
    const list = await svc.models.list();
    expect(list.map((x) => [x.id, x.aliases, x.deployments.length])).toEqual([
      ['gpt-x', ['gx', 'x'], 2],
      ['other', ['o'], 1],
    ]);
    expect(await svc.models.remove('other')).toEqual({ removed: 'other' });
    await rejects(svc.models.remove('other'), 404, /unknown model/);
    // the alias went with the model, so it is free again
    expect((await svc.models.alias('gpt-x', 'o')).aliases).toEqual(['gx', 'o', 'x']);
  });

  it('providers: remove cascades deployments and names models left without one', async () => {
    await svc.providers.add({ name: 'a', base_url: 'http://a.example/v1' });
    await svc.providers.add({ name: 'b', base_url: 'http://b.example/v1' });
    await svc.models.add({ id: 'only-a', provider: 'a' });
    await svc.models.add({ id: 'both', provider: 'a' });
    await svc.models.add({ id: 'both', provider: 'b' });
    expect(await svc.providers.remove('a')).toEqual({ removed: 'a', orphaned_models: ['only-a'] });
    const deps = await listDeployments(ctx().store.db);
    expect(deps.map((d) => [d.deployment.modelId, d.providerName])).toEqual([['both', 'b']]);
    await rejects(svc.providers.remove('a'), 404, /unknown provider 'a' \(known: b\)/);
  });

  it('usage.report is unavailable unless a reporter is given', async () => {
    await rejects(svc.usage.report({}), 503, /usage reporting unavailable/);
    const report = { totals: { requests: 1, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, cost: '0' }, rows: [], by: 'day' as const, since: 'x' };
    const withUsage = createStoreService(ctx().store, { usage: { report: async () => report } });
    expect(await withUsage.usage.report({})).toBe(report);
  });
});
