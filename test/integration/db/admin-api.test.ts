import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDaemonAlive, readDaemonInfo, removeDaemonInfo, writeDaemonInfo } from '../../../src/admin/daemon-info.js';
import { createRemoteService } from '../../../src/admin/remote.js';
import { createStoreService } from '../../../src/admin/store-service.js';
import { ensureAdminToken, readAdminToken } from '../../../src/admin/token.js';
import type { AdminService } from '../../../src/admin/types.js';
import { AdminError } from '../../../src/admin/types.js';
import { openStore } from '../../../src/db/client.js';
import type { Store } from '../../../src/db/client.js';
import { runMigrations } from '../../../src/db/migrate.js';
import { createAdminRoutes } from '../../../src/daemon/routes/admin.js';
import { closedPort } from '../../helpers/net.js';

const TOKEN = 'a'.repeat(64);
let store: Store;
let server: ReturnType<typeof serve>;
let url: string;
let remote: AdminService;
let changes = 0;

beforeAll(async () => {
  store = await openStore({ dataDir: 'memory://' });
  await runMigrations(store);
  const service = createStoreService(store, { onChange: () => void changes++ });
  const app = createAdminRoutes(service, { token: TOKEN });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  remote = createRemoteService({ url: url + '/', token: TOKEN });
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await store.close();
});

async function adminError(p: Promise<unknown>): Promise<AdminError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdminError);
  return err as AdminError;
}


const post = (path: string, body: unknown, token = TOKEN) =>
  fetch(url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('admin API through the remote client', () => {
  it('round-trips every group with the same results as the store service', async () => {
    const created = await remote.keys.create({ name: 'remote-key', tier: 'pro' });
    expect(created).toMatchObject({ name: 'remote-key', tier: 'pro', status: 'active' });
    expect(created.key).toMatch(/^lw-/);
    expect((await remote.keys.list()).map((k) => k.name)).toEqual(['remote-key']);
    expect((await remote.keys.show(created.prefix)).id).toBe(created.id);
    expect((await remote.keys.set('remote-key', { rpm: 5 })).rpm).toBe(5);
    expect((await remote.keys.rotate('remote-key')).key).not.toBe(created.key);
    expect((await remote.keys.revoke(created.id)).status).toBe('revoked');
    expect((await remote.tiers.create('gold', { rpm: 9 })).rpm).toBe(9);
    expect((await remote.tiers.set('gold', { tpm: 10 })).tpm).toBe(10);
    expect(await remote.tiers.delete('gold')).toEqual({ deleted: 'gold' });
    expect((await remote.tiers.list()).map((t) => t.name)).toEqual(['beta', 'pro', 'enterprise']);
    await remote.providers.add({ name: 'p', base_url: `http://127.0.0.1:${await closedPort()}/v1` });
    expect((await remote.providers.list()).map((p) => p.name)).toEqual(['p']);
    expect((await remote.providers.test('p')).ok).toBe(false);
    expect((await remote.models.add({ id: 'm', provider: 'p', aliases: ['mm'] })).added).toBe('model');
    expect((await remote.models.alias('m', 'm2')).aliases).toEqual(['m2', 'mm']);
    expect((await remote.models.disable('m')).enabled).toBe(false);
    expect((await remote.models.enable('m')).enabled).toBe(true);
    expect((await remote.models.list()).map((m) => m.id)).toEqual(['m']);
    expect(await remote.models.remove('m')).toEqual({ removed: 'm' });
    expect(await remote.providers.remove('p')).toEqual({ removed: 'p', orphaned_models: [] });
    expect(changes).toBe(14); // every mutation above, no read
  });

  it('re-throws AdminErrors with their status and message', async () => {
    const e404 = await adminError(remote.keys.create({ name: 'x', tier: 'gold' }));
    expect([e404.status, e404.message]).toEqual([404, "unknown tier 'gold' (known: beta, pro, enterprise)"]);
    await remote.keys.create({ name: 'dup' });
    expect((await adminError(remote.keys.create({ name: 'dup' }))).status).toBe(409);
    expect((await adminError(remote.keys.create({ name: 'y', expires: 'later' }))).status).toBe(400);
    const e503 = await adminError(remote.usage.report({}));
    expect([e503.status, e503.message]).toEqual([503, 'usage reporting unavailable']);
  });

  it('refuses a wrong or missing token with 401', async () => {
    const wrong = createRemoteService({ url, token: 'b'.repeat(64) });
    expect((await adminError(wrong.keys.list())).status).toBe(401);
    const res = await fetch(url + '/admin/v1/keys/list', { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'authentication_error', code: 'invalid_admin_token', param: null });
    expect((await post('/admin/v1/nope/nothing', { args: [] }, 'short')).status).toBe(401);
  });

  it('answers only whitelisted methods: unknown or prototype names are 404', async () => {
    for (const path of ['keys/drop', 'nope/list', 'keys/constructor', '__proto__/toString', 'keys/__proto__', 'toString/call', 'keys/hasOwnProperty']) {
      const res = await post(`/admin/v1/${path}`, { args: [] });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_found');
    }
    expect((await fetch(url + '/admin/v1/keys/list', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it('validates the request body and arguments (400)', async () => {
    const notJson = await post('/admin/v1/keys/list', 'not json');
    expect(notJson.status).toBe(400);
    const badArgs = await post('/admin/v1/keys/show', { args: [42] });
    expect(badArgs.status).toBe(400);
    expect(((await badArgs.json()) as { error: { message: string } }).error.message).toMatch(/bad arguments for keys.show: args\[0\]/);
    expect((await post('/admin/v1/keys/show', { args: ['a', 'b'] })).status).toBe(400);
    expect((await post('/admin/v1/keys/create', { args: [[1, 2]] })).status).toBe(400);
    const ok = await post('/admin/v1/keys/list', {});
    expect(ok.status).toBe(200);
    expect(Array.isArray(((await ok.json()) as { result: unknown }).result)).toBe(true);
  });

  it('reports an admin API without a result as 502 and lets network errors through', async () => {
    const fake = createRemoteService({ url, token: TOKEN, fetchImpl: async () => new Response('{}', { status: 200 }) });
    expect((await adminError(fake.keys.list())).status).toBe(502);
    const down = createRemoteService({ url: `http://127.0.0.1:${await closedPort()}`, token: TOKEN });
    const err = await down.keys.list().catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AdminError);
    expect((err as Error & { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });
});

describe('admin token and daemon.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-admin-'));

  it('creates a 0600 token once and reads it back', () => {
    const path = join(dir, 'sub', 'admin-token');
    expect(readAdminToken(path)).toBeNull();
    const token = ensureAdminToken(path);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(ensureAdminToken(path)).toBe(token);
    expect(readAdminToken(path)).toBe(token);
  });

  it('refuses a token file other users can read, and a malformed one', () => {
    const path = join(dir, 'open-token');
    writeFileSync(path, 'c'.repeat(64), { mode: 0o644 });
    chmodSync(path, 0o644);
    expect(() => readAdminToken(path)).toThrow(/accessible by other users \(mode 0644\); run: chmod 600/);
    expect(() => ensureAdminToken(path)).toThrow(/chmod 600/);
    const bad = join(dir, 'bad-token');
    writeFileSync(bad, 'nope', { mode: 0o600 });
    expect(() => readAdminToken(bad)).toThrow(/malformed/);
  });

  it('writes daemon.json with mode 0600 and tells whether the daemon lives', () => {
    const path = join(dir, 'daemon.json');
    expect(readDaemonInfo(path)).toBeNull();
    const info = { pid: process.pid, url: 'http://127.0.0.1:8040', started: new Date().toISOString() };
    writeDaemonInfo(path, info);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readDaemonInfo(path)).toEqual(info);
    expect(isDaemonAlive(info)).toBe(true);
    expect(isDaemonAlive({ ...info, pid: 0 })).toBe(false);
    removeDaemonInfo(path, process.pid + 1);
    expect(readDaemonInfo(path)).toEqual(info);
    removeDaemonInfo(path);
    expect(readDaemonInfo(path)).toBeNull();
    writeFileSync(path, '{oops');
    expect(readDaemonInfo(path)).toBeNull();
    expect(readFileSync(path, 'utf8')).toBe('{oops');
  });
});
