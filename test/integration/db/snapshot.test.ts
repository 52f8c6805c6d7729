import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createStoreService } from '../../../src/admin/store-service.js';
import type { AdminService } from '../../../src/admin/types.js';
import { bumpRevision, readRevision } from '../../../src/db/queries/meta.js';
import { hashApiKey } from '../../../src/lib/api-key.js';
import { createLogger } from '../../../src/lib/log.js';
import { loadSnapshot } from '../../../src/daemon/state/load.js';
import { LiveState } from '../../../src/daemon/state/live.js';
import { describeStores, resetStore } from './backends.js';

function captureLog() {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger('debug', (l) => lines.push(JSON.parse(l) as { level: string; msg: string }));
  return { log, lines };
}

describeStores('snapshot', (ctx) => {
  let svc: AdminService;
  let live: LiveState | null = null;
  beforeEach(async () => {
    await resetStore(ctx().store);
    svc = createStoreService(ctx().store);
  });
  afterEach(async () => {
    await live?.stop();
    live = null;
  });

  it('holds keys by hash with effective limits and model globs, models by id, alias and lowercase', async () => {
    await svc.tiers.create('team', { rpm: 100, tpm: 1000, quota_tokens: 5000, quota_period: 'week', models: ['gpt-*'] });
    const plain = await svc.keys.create({ name: 'plain', tier: 'team' });
    const custom = await svc.keys.create({ name: 'custom', tier: 'team', models: ['claude-*'], credits: '1.5' });
    await svc.keys.set('custom', { rpm: 7, max_concurrent: 2 });
    await svc.keys.revoke('plain');
    await svc.providers.add({ name: 'p1', base_url: 'http://p1.example/v1' });
    await svc.providers.add({ name: 'p2', base_url: 'http://p2.example/v1', supports_responses: true });
    await svc.models.add({ id: 'Big-Model', provider: 'p2', aliases: ['big'], price_in: '3', priority: 5 });
    await svc.models.add({ id: 'Big-Model', provider: 'p1', upstream_model: 'big-v1', priority: 1 });
    await svc.models.add({ id: 'embed', provider: 'p1', kind: 'embedding' });
    await svc.models.disable('embed');

    const snap = await loadSnapshot(ctx().store.db);
    expect(snap.revision).toBe(await readRevision(ctx().store.db));
    const p = snap.keysByHash.get(hashApiKey(plain.key))!;
    expect(p).toMatchObject({ name: 'plain', status: 'revoked', tierName: 'team', modelGlobs: ['gpt-*'], creditsPico: null });
    expect(p.limits).toEqual({ rpm: 100, tpm: 1000, quotaTokens: 5000, quotaPeriod: 'week', maxConcurrent: null });
    const c = snap.keysById.get(custom.id)!;
    expect(c).toBe(snap.keysByHash.get(hashApiKey(custom.key)));
    expect(c).toMatchObject({ status: 'active', modelGlobs: ['claude-*'], creditsPico: 1_500_000_000_000n });
    expect(c.limits).toEqual({ rpm: 7, tpm: 1000, quotaTokens: 5000, quotaPeriod: 'week', maxConcurrent: 2 });

    const big = snap.models.get('Big-Model')!;
    expect(big.deployments.map((d) => [d.provider.name, d.upstreamModel, d.priority])).toEqual([
      ['p1', 'big-v1', 1],
      ['p2', 'Big-Model', 5],
    ]);
    expect(big.deployments[1]!.provider.supportsResponses).toBe(true);
    expect(big.priceInMicros).toBe(3_000_000n);
    expect(snap.aliases.get('big')).toBe(big);
    expect(snap.lowercase.get('big-model')).toBe(big);
    expect(snap.models.get('embed')).toMatchObject({ kind: 'embedding', enabled: false });
    expect([...snap.providers.values()].map((x) => x.name).sort()).toEqual(['p1', 'p2']);
  });

  it('drops deployments whose provider is disabled', async () => {
    await svc.providers.add({ name: 'on', base_url: 'http://on.example/v1' });
    await svc.providers.add({ name: 'off', base_url: 'http://off.example/v1' });
    await svc.models.add({ id: 'm', provider: 'off' });
    await svc.models.add({ id: 'm', provider: 'on' });
    const { updateProvider, findProviderByName } = await import('../../../src/db/queries/providers.js');
    await updateProvider(ctx().store.db, (await findProviderByName(ctx().store.db, 'off'))!.id, { enabled: false });
    const snap = await loadSnapshot(ctx().store.db);
    expect(snap.models.get('m')!.deployments.map((d) => d.provider.name)).toEqual(['on']);
  });

  it('LiveState reloads on demand, coalesces concurrent reloads and notifies listeners', async () => {
    live = await LiveState.start(ctx().store, { log: captureLog().log, pollMs: 0 });
    const seen: number[] = [];
    live.onReload((s) => seen.push(s.revision));
    await svc.keys.create({ name: 'k1' });
    expect(live.current.keysById.size).toBe(0);
    await Promise.all([live.reload(), live.reload(), live.reload(), live.reload()]);
    expect(live.current.keysById.size).toBe(1);
    expect(seen.length).toBeLessThanOrEqual(2);
    expect(seen.at(-1)).toBe(await readRevision(ctx().store.db));
    expect(await live.ping()).toBe(true);
  });

  it('a service whose onChange returns live.reload() resolves only once the snapshot has the change', async () => {
    live = await LiveState.start(ctx().store, { log: captureLog().log, pollMs: 0 });
    const current = live;
    const withReload = createStoreService(ctx().store, { onChange: () => current.reload() });
    for (let i = 0; i < 5; i++) {
      const k = await withReload.keys.create({ name: `ryw-${i}` });
      expect(current.current.keysByHash.has(hashApiKey(k.key))).toBe(true);
    }
  });

  it('LiveState picks up a change through the revision poll', async () => {
    live = await LiveState.start(ctx().store, { log: captureLog().log, pollMs: 50 });
    // A service without onChange; on PGlite the in-process NOTIFY may also arrive: either path counts.
    await svc.providers.add({ name: 'polled', base_url: 'http://polled.example/v1' });
    await vi.waitFor(() => expect([...live!.current.providers.values()].map((p) => p.name)).toContain('polled'), {
      timeout: 2_000,
    });
  });

  it('a change made through a second connection reaches LiveState by NOTIFY (poll disabled)', async (t) => {
    if (!ctx().openAnother) return t.skip('PGlite has one connection per process: covered by the poll test');
    const live = await LiveState.start(ctx().store, { log: captureLog().log, pollMs: 0 });
    try {
      const other = await ctx().openAnother!();
      const created = await createStoreService(other).keys.create({ name: 'from-elsewhere' });
      await vi.waitFor(() => expect(live.current.keysByHash.has(hashApiKey(created.key))).toBe(true), { timeout: 1_500 });
    } finally {
      await live.stop();
    }
  });

  it('a revision bumped without NOTIFY is picked up by the poll backstop', async (t) => {
    if (!ctx().openAnother) return t.skip('needs a second connection');
    const live = await LiveState.start(ctx().store, { log: captureLog().log, pollMs: 100 });
    try {
      const other = await ctx().openAnother!();
      const rev = await bumpRevision(other.db);
      await vi.waitFor(() => expect(live.current.revision).toBe(rev), { timeout: 1_500 });
    } finally {
      await live.stop();
    }
  });

  it('a failed reload keeps serving the previous snapshot and is logged once', async () => {
    await svc.keys.create({ name: 'kept' });
    let broken = false;
    const real = ctx().store;
    const db = new Proxy(real.db, {
      get(target, prop, receiver) {
        if (prop === 'transaction' && broken) return () => Promise.reject(new Error('store went away'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const { log, lines } = captureLog();
    live = await LiveState.start({ ...real, db }, { log, pollMs: 0 });
    const before = live.current;
    broken = true;
    await live.reload();
    await live.reload();
    expect(live.current).toBe(before);
    expect(live.current.keysById.size).toBe(1);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.msg)).toEqual(['snapshot reload failed; still serving the previous one']);
    expect(JSON.stringify(errors[0])).toContain('store went away');
    broken = false;
    await live.reload();
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'snapshot reload works again' });
  });
});
