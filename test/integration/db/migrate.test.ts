import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/db/client.js';
import type { Store } from '../../../src/db/client.js';
import { defaultMigrationsFolder, runMigrations } from '../../../src/db/migrate.js';
import { readRevision } from '../../../src/db/queries/meta.js';
import { listTiers } from '../../../src/db/queries/tiers.js';
import { createTempDatabase, PG_URL } from '../../helpers/pg.js';
import { describeStores } from './backends.js';

async function rows<T>(store: Store, query: ReturnType<typeof sql>): Promise<T[]> {
  const res = (await store.db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(res) ? res : res.rows;
}

describeStores('migrations', (ctx) => {
  it('create every table and the drizzle journal', async () => {
    const { store } = ctx();
    const tables = await rows<{ table_name: string }>(
      store,
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['api_keys', 'meta', 'model_aliases', 'model_deployments', 'models', 'providers', 'tiers']),
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['usage_events', 'usage_daily']));
    const applied = await rows<{ n: string | number }>(store, sql`select count(*) as n from drizzle.__drizzle_migrations`);
    expect(Number(applied[0]!.n)).toBeGreaterThanOrEqual(1);
  });

  it('seed beta (60 RPM, default), pro (250 RPM) and enterprise (unlimited), and the revision row', async () => {
    const { store } = ctx();
    const tiers = await listTiers(store.db);
    const byName = Object.fromEntries(tiers.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['beta', 'enterprise', 'pro']);
    expect(byName['beta']).toMatchObject({ rpm: 60, isDefault: true });
    expect(byName['pro']).toMatchObject({ rpm: 250, isDefault: false });
    expect(byName['enterprise']).toMatchObject({ rpm: null, tpm: null, quotaTokens: null, maxConcurrent: null });
    expect(tiers.filter((t) => t.isDefault)).toHaveLength(1);
    const meta = await rows<{ key: string }>(store, sql`select key from meta`);
    expect(meta.map((m) => m.key)).toEqual(['revision']);
    expect(await readRevision(store.db)).toBe(0);
  });

  it('are idempotent and never bring back a seed tier the operator deleted', async () => {
    const { store } = ctx();
    await store.db.execute(sql`delete from tiers where name = 'enterprise'`);
    await runMigrations(store);
    await runMigrations(store);
    const names = (await listTiers(store.db)).map((t) => t.name).sort();
    expect(names).toEqual(['beta', 'pro']);
    const applied = await rows<{ n: string | number }>(store, sql`select count(*) as n from drizzle.__drizzle_migrations`);
    const journal = await import(join(defaultMigrationsFolder(), 'meta', '_journal.json'), { with: { type: 'json' } });
    expect(Number(applied[0]!.n)).toBe((journal.default as { entries: unknown[] }).entries.length);
  });
});

describeStores('migrations: missing folder', (ctx) => {
  it('fail with a message naming the folder and the build step', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'lw-nomig-'));
    await expect(runMigrations(ctx().store, { migrationsFolder: empty })).rejects.toThrow(
      /migrations not found in .*lw-nomig-.*copy src\/db\/migrations/,
    );
  });
});

describe('migrations: folder', () => {
  it('resolves next to the module (src/db/migrations under tsx)', () => {
    expect(defaultMigrationsFolder()).toMatch(/src[\\/]db[\\/]migrations$/);
  });

  it('run on a PGlite data directory that is reopened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-pglite-'));
    const a = await openStore({ dataDir: dir });
    await runMigrations(a);
    await a.close();
    const b = await openStore({ dataDir: dir });
    try {
      await runMigrations(b);
      expect((await listTiers(b.db)).map((t) => t.name).sort()).toEqual(['beta', 'enterprise', 'pro']);
    } finally {
      await b.close();
    }
  });
});

describe.skipIf(!PG_URL)('migrations: concurrent processes on one fresh Postgres database', () => {
  it('all succeed, apply each migration once and seed once', async () => {
    const db = await createTempDatabase();
    // Separate clients = separate sessions, like separate daemons; max 1 proves no pool deadlock.
    const stores = await Promise.all([
      openStore({ url: db.url, max: 1 }),
      openStore({ url: db.url, max: 1 }),
      openStore({ url: db.url, max: 3 }),
      openStore({ url: db.url, max: 2 }),
    ]);
    try {
      const results = await Promise.allSettled(stores.map((s) => runMigrations(s)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      const applied = await rows<{ n: string }>(stores[0]!, sql`select count(*) as n from drizzle.__drizzle_migrations`);
      const journal = await import(join(defaultMigrationsFolder(), 'meta', '_journal.json'), { with: { type: 'json' } });
      expect(Number(applied[0]!.n)).toBe((journal.default as { entries: unknown[] }).entries.length);
      expect((await listTiers(stores[1]!.db)).map((t) => t.name).sort()).toEqual(['beta', 'enterprise', 'pro']);
    } finally {
      for (const s of stores) await s.close();
      await db.drop();
    }
  });
});

if (!PG_URL) {
  describe.skip('migrations: concurrent Postgres — skipped: LW_TEST_DATABASE_URL unset', () => {
    it('needs Postgres', () => {});
  });
}
