/**
 * @module `COPY … FROM STDIN` of text-format rows, on whichever driver a Drizzle database (or the
 * transaction given to a `db.transaction` callback) runs: postgres.js (a Postgres server, or the
 * embedded store's own process, whose wire server plays COPY itself: src/db/server/copy.ts) or
 * PGlite in this process (which reads the same statement from `/dev/blob`).
 */
import type { Sql } from 'postgres';
import type { Db } from './client.js';

interface PgliteLike {
  query(sql: string, params: unknown[], options: { blob: Blob }): Promise<unknown>;
}

/** The driver client under a Drizzle database or transaction (its session's `client`). */
function clientOf(db: Db): Sql | PgliteLike {
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client;
  if (!client) throw new Error('copyIn: no driver client under this database');
  return client as Sql | PgliteLike;
}

/**
 * Runs `COPY <target> FROM STDIN` with `data` (text format: tab-separated, `\N` for NULL, one row per
 * line) in the caller's transaction, and resolves once the server has taken every row.
 * @example await copyIn(tx, 'usage_events (ts, request_id)', '2026-01-01T00:00:00Z\treq_1\n');
 */
export async function copyIn(db: Db, target: string, data: string | Buffer): Promise<void> {
  const client = clientOf(db);
  if ('unsafe' in client) return copyInPostgresJs(client, `COPY ${target} FROM STDIN`, data);
  await client.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob([data]) });
}

/**
 * postgres.js resolves the query with a writable stream at CopyInResponse and then drops an error
 * that arrives after CopyDone (bad data is only found then): it rejects the already-resolved query
 * and never finishes the stream, so awaiting the stream would hang. The query's reject is therefore
 * wrapped to fail the copy too.
 */
async function copyInPostgresJs(sql: Sql, statement: string, data: string | Buffer): Promise<void> {
  const query = sql.unsafe(statement) as unknown as { reject: (e: unknown) => void; writable(): Promise<NodeJS.WritableStream> };
  const rejected = new Promise<never>((_, reject) => {
    const original = query.reject;
    query.reject = (e: unknown) => {
      original(e);
      reject(e);
    };
  });
  rejected.catch(() => {}); // an error before CopyInResponse rejects writable() as well
  const stream = await query.writable();
  const finished = new Promise<void>((resolve, reject) => {
    stream.once('finish', resolve);
    stream.once('error', reject);
  });
  stream.end(data);
  await Promise.race([finished, rejected]);
}
