/**
 * @module Opens the store: PGlite in a data directory (the embedded default) or a Postgres server
 * through postgres.js. Both give the same Drizzle database type, so queries never care which.
 */
import { mkdirSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Store {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Human-readable location (data dir or URL without password). */
  location: string;
  /** Subscribes to change notifications (Postgres LISTEN; PGlite in-process). Returns an unsubscribe. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/** Hides the password of a database URL for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable database url>';
  }
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export interface OpenStoreOptions {
  /** postgres:// URL; when absent the embedded PGlite store in `dataDir` is used. */
  url?: string | undefined;
  /** PGlite directory; `memory://` for an in-memory store (tests). */
  dataDir?: string;
  /** Max connections for postgres.js. */
  max?: number;
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.url) return openPostgres(opts.url, opts.max ?? 10);
  return openPglite(opts.dataDir ?? 'memory://');
}

async function openPostgres(url: string, max: number): Promise<Store> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const client = postgres(url, { max, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    location: redactUrl(url),
    async listen(channel, onNotify) {
      const sub = await client.listen(channel, onNotify);
      return () => sub.unlisten();
    },
    async notify(channel, payload) {
      await client.notify(channel, payload);
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dataDir: string): Promise<Store> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // PGlite's default 128 MB of shared buffers is far more than lw's small tables need (RSS matters)
  const defaults = (PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams;
  const client = new PGlite(dataDir, defaults ? { startParams: [...defaults, '-c', 'shared_buffers=16MB'] } : {});
  await client.waitReady;
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    location: dataDir,
    async listen(channel, onNotify) {
      return client.listen(channel, onNotify);
    },
    async notify(channel, payload) {
      await client.query(`select pg_notify($1, $2)`, [channel, payload]);
    },
    close: () => client.close(),
  };
}
