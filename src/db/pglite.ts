/**
 * @module Starts PGlite with lw's settings. Kept apart from client.ts (Drizzle, the schema) so the
 * embedded store's own process loads no more than PGlite needs.
 */
import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Starts PGlite on a data directory (created if missing) or `memory://`.
 * @example const db = await createPglite(lwPaths().db);
 */
export async function createPglite(dataDir: string): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // PGlite's default 128 MB of shared buffers is far more than lw's small tables need (RSS matters)
  const defaults = (PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams;
  const client = new PGlite(dataDir, defaults ? { startParams: [...defaults, '-c', 'shared_buffers=16MB'] } : {});
  await client.waitReady;
  return client;
}
