/**
 * @module Store backends for db tests: PGlite in memory always (in process, and behind the store
 * process's protocol server through postgres.js, as `lw serve` uses it), Postgres when
 * LW_TEST_DATABASE_URL is set (a fresh `lw_test_<random>` database per suite via test/helpers/pg.ts,
 * dropped afterwards). Unset → a visible skip.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openStore } from '../../../src/db/client.js';
import type { Store } from '../../../src/db/client.js';
import { runMigrations } from '../../../src/db/migrate.js';
import { seedTiers } from '../../../src/db/queries/tiers.js';
import { createTempDatabase, PG_URL } from '../../helpers/pg.js';
import { startWireStore } from '../../helpers/wire-store.js';

export { PG_URL };

type Kind = 'pglite' | 'pglite-socket' | 'postgres';

export interface BackendContext {
  kind: Kind;
  store: Store;
  /** Opens another, independent connection to the same store (Postgres only). */
  openAnother: (() => Promise<Store>) | null;
}

interface Backend {
  kind: Kind;
  setup(): Promise<BackendContext & { teardown(): Promise<void> }>;
}

const pglite: Backend = {
  kind: 'pglite',
  async setup() {
    const store = await openStore({ dataDir: 'memory://' });
    await runMigrations(store);
    return { kind: 'pglite', store, openAnother: null, teardown: () => store.close() };
  },
};

const pgliteSocket: Backend = {
  kind: 'pglite-socket',
  async setup() {
    const server = await startWireStore();
    const store = await server.connect();
    await runMigrations(store);
    // one daemon per folder: no NOTIFY between connections to test
    return { kind: 'pglite-socket', store, openAnother: null, teardown: () => server.close() };
  },
};

const pg: Backend = {
  kind: 'postgres',
  async setup() {
    const db = await createTempDatabase();
    const store = await openStore({ url: db.url, max: 4 });
    await runMigrations(store);
    const others: Store[] = [];
    return {
      kind: 'postgres',
      store,
      openAnother: async () => {
        const s = await openStore({ url: db.url, max: 2 });
        others.push(s);
        return s;
      },
      async teardown() {
        for (const s of [store, ...others]) await s.close().catch(() => {});
        await db.drop();
      },
    };
  },
};

export const backends: Backend[] = PG_URL ? [pglite, pgliteSocket, pg] : [pglite, pgliteSocket];

/** Empties every admin table and re-seeds the tiers (between tests). */
export async function resetStore(store: Store): Promise<void> {
  await store.db.execute(
    sql`truncate api_keys, model_aliases, model_deployments, models, providers, tiers restart identity cascade`,
  );
  await seedTiers(store.db);
}

/**
 * Runs `body` once per backend with a migrated store; reports the Postgres run as skipped when
 * LW_TEST_DATABASE_URL is unset.
 */
export function describeStores(title: string, body: (ctx: () => BackendContext) => void): void {
  describe.each(backends.map((b) => [b.kind, b] as const))(`${title} [%s]`, (_kind, backend) => {
    let ctx: (BackendContext & { teardown(): Promise<void> }) | null = null;
    beforeAll(async () => {
      ctx = await backend.setup();
    });
    afterAll(async () => {
      await ctx?.teardown();
    });
    body(() => {
      if (!ctx) throw new Error('store not set up');
      return ctx;
    });
  });
  if (!PG_URL) {
    describe.skip(`${title} [postgres] — skipped: LW_TEST_DATABASE_URL unset`, () => {
      it('runs against Postgres when LW_TEST_DATABASE_URL is set', () => {});
    });
  }
}
