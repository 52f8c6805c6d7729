/**
 * Throwaway Postgres databases for store tests: one per test file, created from the server named by
 * LW_TEST_DATABASE_URL and dropped afterwards. `backends()` lists PGlite always, Postgres when set.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export const PG_URL = process.env['LW_TEST_DATABASE_URL'];

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTempDatabase(prefix = 'lw_test'): Promise<TempDatabase> {
  if (!PG_URL) throw new Error('LW_TEST_DATABASE_URL is not set');
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(PG_URL!, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

export type Backend = 'pglite' | 'postgres';

/** The store backends to run a suite on; prints why Postgres is skipped when it is. */
export function backends(): Backend[] {
  if (!PG_URL) {
    console.warn('[lw tests] LW_TEST_DATABASE_URL is unset: Postgres variants are SKIPPED (PGlite only).');
    return ['pglite'];
  }
  return ['pglite', 'postgres'];
}
