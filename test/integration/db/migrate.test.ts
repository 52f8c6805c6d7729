import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/db/client.js';
import type { Store } from '../../../src/db/client.js';
import { defaultMigrationsFolder, runMigrations } from '../../../src/db/migrate.js';
import { copyIn } from '../../../src/db/copy-in.js';
import { readRevision } from '../../../src/db/queries/meta.js';
import { USAGE_COPY_COLUMNS } from '../../../src/db/queries/usage-batch.js';
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

/** The migrations folder as the first release shipped it: 0000_init only. */
function firstReleaseMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lw-mig0-'));
  cpSync(defaultMigrationsFolder(), dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  journal.entries = journal.entries.filter((e) => e.tag === '0000_init');
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

describe('migrations: upgrading a store that holds usage events (0001: BRIN index instead of id and b-trees)', () => {
  const upgrade = async (store: Store) => {
    await runMigrations(store, { migrationsFolder: firstReleaseMigrations() });
    await store.db.execute(sql`
      insert into usage_events (ts, request_id, key_id, model_id, endpoint, status, prompt_tokens, cost_pico, latency_ms)
      values ('2026-12-01T10:00:00Z', 'req_old', 'key_1', 'gpt-x', 'chat', 200, 12, 345, 7)`);
    await runMigrations(store);
    const events = await rows<{ request_id: string; cost_pico: string | number; prompt_tokens: number }>(
      store,
      sql`select request_id, cost_pico, prompt_tokens from usage_events`,
    );
    expect(events.map((e) => [e.request_id, Number(e.cost_pico), e.prompt_tokens])).toEqual([['req_old', 345, 12]]);
    const columns = await rows<{ column_name: string }>(store, sql`select column_name from information_schema.columns where table_name = 'usage_events'`);
    expect(columns.map((c) => c.column_name)).not.toContain('id');
    const indexes = await rows<{ indexname: string; indexdef: string }>(store, sql`select indexname, indexdef from pg_indexes where tablename = 'usage_events'`);
    expect(indexes.map((i) => i.indexname)).toEqual(['usage_events_ts_brin']);
    expect(indexes[0]!.indexdef).toContain('USING brin');
    await store.db.transaction((tx) =>
      copyIn(tx, `usage_events (${USAGE_COPY_COLUMNS})`, '2026-12-02T10:00:00.000Z\treq_new\tkey_1\tgpt-x\t\\N\tchat\t200\t1\t2\t0\t9\t3\t\\N\tf\tf\t[]\t\\N\n'),
    );
    const [n] = await rows<{ n: string | number }>(store, sql`select count(*) as n from usage_events`);
    expect(Number(n!.n)).toBe(2);
  };

  it('keeps the events on PGlite', async () => {
    const store = await openStore({ dataDir: 'memory://' });
    try {
      await upgrade(store);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!PG_URL)('keeps the events on Postgres', async () => {
    const db = await createTempDatabase();
    const store = await openStore({ url: db.url, max: 2 });
    try {
      await upgrade(store);
    } finally {
      await store.close();
      await db.drop();
    }
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
