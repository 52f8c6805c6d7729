/**
 * @module
 * Store backends for usage tests: PGlite in memory always (in process, and behind the store process's
 * protocol server through postgres.js); Postgres when LW_TEST_DATABASE_URL is set (a throwaway
 * database per file, dropped afterwards). Unset → a visible skip.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { openStore, type Store } from '../../../src/db/client.js';
import { runMigrations } from '../../../src/db/migrate.js';
import type { UsageRecord } from '../../../src/daemon/usage/types.js';
import { apiKeys, tiers } from '../../../src/db/schema.js';
import { createTempDatabase, PG_URL } from '../../helpers/pg.js';
import { startWireStore } from '../../helpers/wire-store.js';

type Kind = 'pglite' | 'pglite-socket' | 'postgres';

async function open(kind: Kind): Promise<{ store: Store; teardown(): Promise<void> }> {
  if (kind === 'pglite') {
    const store = await openStore({ dataDir: 'memory://' });
    await runMigrations(store);
    return { store, teardown: () => store.close() };
  }
  if (kind === 'pglite-socket') {
    const server = await startWireStore();
    const store = await server.connect();
    await runMigrations(store);
    return { store, teardown: () => server.close() };
  }
  const db = await createTempDatabase('lw_usage');
  const store = await openStore({ url: db.url, max: 4 });
  await runMigrations(store);
  return {
    store,
    async teardown() {
      await store.close().catch(() => {});
      await db.drop();
    },
  };
}

/** Runs `body` per backend with a migrated store, emptied of keys and usage before each test. */
export function describeStores(title: string, body: (store: () => Store, kind: Kind) => void): void {
  const kinds: Kind[] = PG_URL ? ['pglite', 'pglite-socket', 'postgres'] : ['pglite', 'pglite-socket'];
  for (const kind of kinds) {
    describe(`${title} [${kind}]`, () => {
      let ctx: Awaited<ReturnType<typeof open>> | null = null;
      beforeAll(async () => {
        ctx = await open(kind);
      });
      afterAll(async () => {
        await ctx?.teardown();
      });
      beforeEach(async () => {
        await ctx!.store.db.execute(sql`truncate usage_events, usage_daily, api_keys, model_aliases, models restart identity cascade`);
      });
      body(() => ctx!.store, kind);
    });
  }
  if (!PG_URL) {
    console.warn('[lw tests] LW_TEST_DATABASE_URL is unset: Postgres usage tests are SKIPPED (PGlite only).');
    describe.skip(`${title} [postgres] — skipped: LW_TEST_DATABASE_URL unset`, () => {
      it('runs against Postgres when LW_TEST_DATABASE_URL is set', () => {});
    });
  }
}

/** Inserts an API key row (on the first seeded tier). */
export async function addKey(store: Store, id: string, opts: { name?: string; creditsPico?: bigint | null; prefix?: string } = {}) {
  const [tier] = await store.db.select({ id: tiers.id }).from(tiers).limit(1);
  await store.db.insert(apiKeys).values({
    id,
    name: opts.name ?? id,
    prefix: opts.prefix ?? `lw-${id.padEnd(8, 'x').slice(0, 8)}`,
    hash: `hash-${id}`,
    tierId: tier!.id,
    creditsPico: opts.creditsPico ?? null,
  });
}

export async function creditsOf(store: Store, id: string): Promise<bigint | null> {
  const [row] = await store.db.select({ c: apiKeys.creditsPico }).from(apiKeys).where(sql`${apiKeys.id} = ${id}`);
  return row?.c ?? null;
}

let seq = 0;
/** A usage record with sensible defaults. */
export function rec(over: Partial<UsageRecord> = {}): UsageRecord {
  seq++;
  return {
    ts: new Date('2025-03-12T10:00:00Z'),
    requestId: `req_${seq}`,
    keyId: 'k1',
    modelId: 'gpt-x',
    providerId: 'p1',
    endpoint: 'chat',
    status: 200,
    promptTokens: 10,
    completionTokens: 5,
    cachedTokens: 0,
    costPico: 1n,
    latencyMs: 12,
    ttfbMs: 3,
    estimated: false,
    unpriced: false,
    attempts: [{ provider: 'p1', upstreamModel: 'x', status: 200, ms: 10 }],
    errorCode: null,
    ...over,
  };
}

