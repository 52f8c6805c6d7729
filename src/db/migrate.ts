/**
 * @module Applies the generated migrations in src/db/migrations (dist/db/migrations once built) with
 * Drizzle's migrator, then seeds the default tiers and the revision row. Safe when several processes
 * start together on one Postgres: everything runs in ONE transaction that first takes a
 * transaction-scoped advisory lock, so the others wait, then find nothing left to do.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { MigrationConfig } from 'drizzle-orm/migrator';
import type { Db, Store } from './client.js';
import { ensureRevisionRow } from './queries/meta.js';
import { seedTiers } from './queries/tiers.js';

/** Advisory-lock key shared by every lw process migrating one database ('lw' + 1). */
export const MIGRATION_LOCK_KEY = 0x6c77_0001;

/** The migrations folder next to this module: src/db/migrations under tsx, dist/db/migrations when built. */
export function defaultMigrationsFolder(): string {
  return fileURLToPath(new URL('./migrations', import.meta.url));
}

export interface MigrateOptions {
  migrationsFolder?: string;
}

type Migrate = (db: never, config: MigrationConfig) => Promise<void>;

/** What Drizzle's migrator reads from a database object (internal fields, stable since 0.2x). */
interface MigratorTarget {
  dialect: unknown;
  session: object;
}

/**
 * Presents a transaction to Drizzle's `migrate()` so that its own inner `session.transaction(fn)`
 * runs inline in ours: the advisory lock, the schema changes and the seed then commit together.
 */
function inlineTarget(tx: Db): MigratorTarget {
  const { dialect, session } = tx as unknown as MigratorTarget;
  const inline: object = Object.create(session, {
    transaction: { value: (fn: (t: Db) => Promise<unknown>) => fn(tx) },
  });
  return { dialect, session: inline };
}

/**
 * Brings the store's schema up to date and seeds it (idempotent).
 * @example
 * const store = await openStore({ url: process.env.LW_DATABASE_URL });
 * await runMigrations(store);
 */
export async function runMigrations(store: Store, opts: MigrateOptions = {}): Promise<void> {
  const migrationsFolder = opts.migrationsFolder ?? defaultMigrationsFolder();
  if (!existsSync(join(migrationsFolder, 'meta', '_journal.json'))) {
    throw new Error(
      `migrations not found in ${migrationsFolder}: the build must copy src/db/migrations next to dist/db/migrate.js`,
    );
  }
  const { migrate } = (
    (store.driver ?? store.kind) === 'pglite'
      ? await import('drizzle-orm/pglite/migrator')
      : await import('drizzle-orm/postgres-js/migrator')
  ) as { migrate: Migrate };
  await store.db.transaction(async (tx) => {
    await tx.execute(sql.raw(`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`));
    await migrate(inlineTarget(tx) as never, { migrationsFolder });
    await seedTiers(tx);
    await ensureRevisionRow(tx);
  });
}
