/**
 * @module Opens the store: PGlite in a data directory (the embedded default) or a Postgres server
 * through postgres.js. Both give the same Drizzle database type, so queries never care which.
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Options as PostgresOptions, Sql } from 'postgres';
import { createPglite } from './pglite.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Store {
  db: Db;
  /** Where the data lives: the embedded PGlite store (in this process or its own) or a Postgres server. */
  kind: 'pglite' | 'postgres';
  /** The Drizzle driver `db` runs on (default: `kind`): the embedded store's own process speaks Postgres. */
  driver?: 'pglite' | 'postgres';
  /** Process running the embedded store when it is not this one (`lw serve`'s store process). */
  pid?: number;
  /** The Unix socket that store process serves (`lw serve --workers` connects its workers to it). */
  socketPath?: string;
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

async function connectPostgres(url: string | null, options: PostgresOptions<Record<string, never>>) {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const base = { onnotice: () => {}, connect_timeout: 10, ...options };
  const client: Sql = url ? postgres(url, base) : postgres(base);
  return { client, db: drizzle(client, { schema }) as unknown as Db };
}

async function openPostgres(url: string, max: number): Promise<Store> {
  const { client, db } = await connectPostgres(url, { max });
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

export interface SocketStoreOptions {
  /** Where the data lives, for messages. */
  location: string;
  /** Max connections (the server runs one session; a second connection only queues there). */
  max?: number;
  /** Process serving the socket. */
  pid?: number;
  /** Runs after the connections closed (stops the store process). */
  onClose?: () => Promise<void>;
}

/**
 * The embedded store served by its own process on a Unix socket (src/db/server/): postgres.js, so
 * every query and migration runs as on Postgres. There is one daemon per folder (the lock), which
 * invalidates its snapshot itself and polls the revision, so LISTEN/NOTIFY are not used: listen()
 * subscribes to nothing and notify() does nothing. (`lw serve --workers N` connects each worker here
 * too; its primary tells every worker to reload after a change.)
 */
export async function openSocketStore(socketPath: string, opts: SocketStoreOptions): Promise<Store> {
  const { client, db } = await connectPostgres(null, {
    path: socketPath,
    user: 'postgres',
    database: 'postgres',
    max: opts.max ?? 2,
    // a local socket needs no recycling: each reconnect would leave prepared statements behind
    max_lifetime: 0,
    idle_timeout: 0,
    connection: { application_name: 'lw' },
  });
  return {
    db,
    kind: 'pglite',
    driver: 'postgres',
    socketPath,
    ...(opts.pid !== undefined ? { pid: opts.pid } : {}),
    location: opts.location,
    listen: async () => async () => {},
    notify: async () => {},
    async close() {
      try {
        await client.end({ timeout: 5 });
      } finally {
        await opts.onClose?.();
      }
    },
  };
}

async function openPglite(dataDir: string): Promise<Store> {
  const { drizzle } = await import('drizzle-orm/pglite');
  const client = await createPglite(dataDir);
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
