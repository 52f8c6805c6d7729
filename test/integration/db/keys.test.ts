import { eq } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { createStoreService } from '../../../src/admin/store-service.js';
import type { AdminService } from '../../../src/admin/types.js';
import { readRevision } from '../../../src/db/queries/meta.js';
import { apiKeys } from '../../../src/db/schema.js';
import { hashApiKey } from '../../../src/lib/api-key.js';
import { describeStores, resetStore } from './backends.js';
import { rejects } from '../../helpers/admin-error.js';


describeStores('admin keys', (ctx) => {
  let svc: AdminService;
  let changes = 0;
  beforeEach(async () => {
    await resetStore(ctx().store);
    changes = 0;
    svc = createStoreService(ctx().store, { onChange: () => void changes++ });
  });

  it('create returns the plaintext once and stores only its hash and display prefix', async () => {
    const created = await svc.keys.create({ name: 'alice' });
    expect(created).toMatchObject({ name: 'alice', tier: 'beta', status: 'active', models: null, credits: null });
    expect(created.key).toMatch(/^lw-[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 11));
    const [row] = await ctx().store.db.select().from(apiKeys).where(eq(apiKeys.id, created.id));
    expect(row!.hash).toBe(hashApiKey(created.key));
    expect(Object.values(row!).map(String)).not.toContain(created.key);
    expect(JSON.stringify(await svc.keys.list())).not.toContain(created.key);
    expect(await svc.keys.show('alice')).not.toHaveProperty('key');
    expect(changes).toBe(1);
  });

  it('list shows the --json fields; show finds a key by id, name, prefix and full key', async () => {
    const a = await svc.keys.create({ name: 'a', tier: 'pro', models: ['gpt-*'], credits: '12.50', expires: '30d' });
    await svc.keys.create({ name: 'b' });
    const list = await svc.keys.list();
    expect(list.map((k) => k.name)).toEqual(['a', 'b']);
    for (const k of list) {
      for (const f of ['id', 'name', 'prefix', 'tier', 'status', 'created_at', 'last_used_at']) expect(k).toHaveProperty(f);
    }
    expect(list[0]).toMatchObject({ tier: 'pro', models: ['gpt-*'], credits: '12.50' });
    expect(Date.parse(list[0]!.expires_at!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    for (const ref of [a.id, 'a', a.prefix, a.prefix + '…', a.key]) expect((await svc.keys.show(ref)).id).toBe(a.id);
    await rejects(svc.keys.show('nobody'), 404, /no key matches 'nobody'/);
    // a full key that is not ours is never echoed back
    await rejects(svc.keys.show('lw-' + 'Z'.repeat(43)), 404, /^no key matches 'lw-ZZZZZZZZ…'/);
  });

  it('an ambiguous prefix is a 409', async () => {
    const a = await svc.keys.create({ name: 'a' });
    const b = await svc.keys.create({ name: 'b' });
    // Give both the same display prefix (a 1-in-2^48 event for real keys).
    await ctx().store.db.update(apiKeys).set({ prefix: a.prefix }).where(eq(apiKeys.id, b.id));
    await rejects(svc.keys.show(a.prefix), 409, /ambiguous: it matches 2 keys \(a, b\)/);
    expect((await svc.keys.show(a.key)).id).toBe(a.id);
  });

  it('revoke sets the status; rotate replaces the hash at once and returns the new key', async () => {
    const k = await svc.keys.create({ name: 'rot' });
    const rotated = await svc.keys.rotate('rot');
    expect(rotated.key).not.toBe(k.key);
    expect(rotated.id).toBe(k.id);
    const [row] = await ctx().store.db.select().from(apiKeys).where(eq(apiKeys.id, k.id));
    expect(row!.hash).toBe(hashApiKey(rotated.key));
    expect(row!.prefix).toBe(rotated.key.slice(0, 11));
    await rejects(svc.keys.show(k.key), 404, /no key matches/);
    const revoked = await svc.keys.revoke(rotated.prefix);
    expect(revoked.status).toBe('revoked');
    expect((await svc.keys.show('rot')).status).toBe('revoked');
    await rejects(svc.keys.rotate('rot'), 409, /revoked/);
  });

  it('set changes tier, models, limits, credits and expiry; null clears', async () => {
    await svc.keys.create({ name: 's', credits: '5' });
    const s1 = await svc.keys.set('s', { tier: 'enterprise', models: ['claude-*'], rpm: 10, credits: '0.000001', expires: '12h' });
    expect(s1).toMatchObject({ tier: 'enterprise', models: ['claude-*'], rpm: 10, credits: '0.000001' });
    expect(s1.expires_at).not.toBeNull();
    const s2 = await svc.keys.set('s', { models: null, rpm: null, credits: null, expires: null });
    expect(s2).toMatchObject({ tier: 'enterprise', models: null, rpm: null, credits: null, expires_at: null });
    const s3 = await svc.keys.set('s', { models: [] });
    expect(s3.models).toBeNull();
    await rejects(svc.keys.set('s', {}), 400, /nothing to change/);
    await rejects(svc.keys.set('s', { tier: 'gold' }), 404, /unknown tier 'gold' \(known: beta, pro, enterprise\)/);
    await rejects(svc.keys.set('s', { rpm: -1 }), 400, /bad rpm/);
  });

  it('refuses unknown tiers (404), duplicate names (409), bad expiry, credits and names (400)', async () => {
    await rejects(svc.keys.create({ name: 'x', tier: 'gold' }), 404, /^unknown tier 'gold' \(known: beta, pro, enterprise\)$/);
    await svc.keys.create({ name: 'x' });
    await rejects(svc.keys.create({ name: 'x' }), 409, /a key named 'x' already exists/);
    await rejects(svc.keys.create({ name: 'y', expires: 'soon' }), 400, /bad expiry 'soon'/);
    await rejects(svc.keys.create({ name: 'y', expires: '2001-01-01' }), 400, /already past/);
    await rejects(svc.keys.create({ name: 'y', credits: '-3' }), 400, /bad credits/);
    await rejects(svc.keys.create({ name: 'has space' }), 400, /bad key name/);
    await rejects(svc.keys.create({ name: 'lw-oops' }), 400, /cannot start with 'lw-'/);
    expect((await svc.keys.list()).map((k) => k.name)).toEqual(['x']);
    expect(changes).toBe(1);
  });

  it('an expired key shows as expired; new keys follow the default tier', async () => {
    const k = await svc.keys.create({ name: 'old' });
    await ctx().store.db.update(apiKeys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiKeys.id, k.id));
    expect((await svc.keys.show('old')).status).toBe('expired');
    await svc.tiers.set('pro', { is_default: true });
    expect((await svc.keys.create({ name: 'new' })).tier).toBe('pro');
    const configured = createStoreService(ctx().store, { defaultTier: 'enterprise' });
    expect((await configured.keys.create({ name: 'cfg' })).tier).toBe('enterprise');
  });

  it('every mutation bumps the revision once; reads do not', async () => {
    const before = await readRevision(ctx().store.db);
    await svc.keys.create({ name: 'r' });
    await svc.keys.list();
    await svc.keys.show('r');
    await svc.keys.revoke('r');
    await svc.keys.show('nope').catch(() => {});
    expect(await readRevision(ctx().store.db)).toBe(before + 2);
  });
});
