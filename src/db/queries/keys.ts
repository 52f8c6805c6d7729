/** @module SQL for API keys: list with their tier, candidates for a reference, insert and update. */
import { asc, eq, like, or } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { apiKeys, tiers } from '../schema.js';

export type KeyRow = typeof apiKeys.$inferSelect;
export type NewKeyRow = typeof apiKeys.$inferInsert;

/** A key row with its tier's name (what every view shows). */
export interface KeyWithTier {
  key: KeyRow;
  tierName: string;
}

function selectWithTier(db: Db) {
  return db
    .select({ key: apiKeys, tierName: tiers.name })
    .from(apiKeys)
    .innerJoin(tiers, eq(apiKeys.tierId, tiers.id));
}

export async function listKeys(db: Db): Promise<KeyWithTier[]> {
  return selectWithTier(db).orderBy(asc(apiKeys.createdAt), asc(apiKeys.name));
}

/** Every raw key row (snapshot building). */
export async function listKeyRows(db: Db): Promise<KeyRow[]> {
  return db.select().from(apiKeys);
}

export async function findKeyById(db: Db, id: string): Promise<KeyWithTier | undefined> {
  const [row] = await selectWithTier(db).where(eq(apiKeys.id, id));
  return row;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

/** Keys a reference could mean: exact id or name, the full key's hash, or a display-prefix match. */
export async function findKeyCandidates(
  db: Db,
  q: { exact: string; prefix: string | null; hash: string | null },
): Promise<KeyWithTier[]> {
  const conds: SQL[] = [eq(apiKeys.id, q.exact), eq(apiKeys.name, q.exact)];
  if (q.hash) conds.push(eq(apiKeys.hash, q.hash));
  if (q.prefix) conds.push(like(apiKeys.prefix, escapeLike(q.prefix) + '%'));
  return selectWithTier(db)
    .where(or(...conds))
    .orderBy(asc(apiKeys.createdAt));
}

export async function keyNameTaken(db: Db, name: string): Promise<boolean> {
  const [row] = await db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.name, name));
  return row !== undefined;
}

export async function insertKey(db: Db, row: NewKeyRow): Promise<KeyRow> {
  const [created] = await db.insert(apiKeys).values(row).returning();
  return created!;
}

export async function updateKey(db: Db, id: string, patch: Partial<NewKeyRow>): Promise<KeyRow> {
  const [updated] = await db
    .update(apiKeys)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(apiKeys.id, id))
    .returning();
  return updated!;
}
