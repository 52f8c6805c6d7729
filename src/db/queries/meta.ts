/**
 * @module The store revision: one counter in `meta` bumped by every admin change, so daemons can tell
 * in one cheap query whether their snapshot is current (NOTIFY tells them sooner on Postgres).
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { meta } from '../schema.js';

const REVISION = 'revision';

/** The channel every admin change is announced on (payload: the new revision). */
export const CHANGES_CHANNEL = 'lw_changes';

/** Creates the revision row if missing (run by migrations; idempotent). */
export async function ensureRevisionRow(db: Db): Promise<void> {
  await db.insert(meta).values({ key: REVISION, value: 0 }).onConflictDoNothing();
}

/**
 * Increments the revision and returns the new value (creates the row when missing).
 * @example const rev = await bumpRevision(tx); // then NOTIFY lw_changes, String(rev)
 */
export async function bumpRevision(db: Db): Promise<number> {
  const [row] = await db
    .insert(meta)
    .values({ key: REVISION, value: 1 })
    .onConflictDoUpdate({ target: meta.key, set: { value: sql`${meta.value} + 1` } })
    .returning({ value: meta.value });
  return Number(row?.value ?? 0);
}

/** The current revision; 0 when the row does not exist yet. */
export async function readRevision(db: Db): Promise<number> {
  const [row] = await db.select({ value: meta.value }).from(meta).where(eq(meta.key, REVISION));
  return Number(row?.value ?? 0);
}
