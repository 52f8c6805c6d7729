/** @module SQL for tiers: list, find, create, update, delete, the exclusive default, and the seed rows. */
import { and, asc, count, eq, ne, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { apiKeys, tiers } from '../schema.js';

export type TierRow = typeof tiers.$inferSelect;
export type NewTierRow = typeof tiers.$inferInsert;

/** The seed's table: beta 60 RPM (the default), pro 250 RPM, enterprise unlimited. */
export const SEED_TIERS: readonly NewTierRow[] = [
  { id: 'tier_beta', name: 'beta', rpm: 60, isDefault: true },
  { id: 'tier_pro', name: 'pro', rpm: 250 },
  { id: 'tier_enterprise', name: 'enterprise' },
];

/**
 * Inserts the seed tiers when the table is empty (a fresh store). Once any tier exists the operator
 * owns the table: deleted or edited seed tiers are never brought back.
 */
export async function seedTiers(db: Db): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(tiers);
  if (Number(row?.n ?? 0) > 0) return false;
  await db.insert(tiers).values([...SEED_TIERS]).onConflictDoNothing();
  return true;
}

export async function listTiers(db: Db): Promise<TierRow[]> {
  return db
    .select()
    .from(tiers)
    .orderBy(asc(tiers.createdAt), sql`${tiers.rpm} asc nulls last`, asc(tiers.name));
}

export async function findTierByName(db: Db, name: string): Promise<TierRow | undefined> {
  const [row] = await db.select().from(tiers).where(eq(tiers.name, name));
  return row;
}

export async function findDefaultTier(db: Db): Promise<TierRow | undefined> {
  const [row] = await db.select().from(tiers).where(eq(tiers.isDefault, true)).orderBy(asc(tiers.createdAt)).limit(1);
  return row;
}

export async function insertTier(db: Db, row: NewTierRow): Promise<TierRow> {
  const [created] = await db.insert(tiers).values(row).returning();
  return created!;
}

export async function updateTier(db: Db, id: string, patch: Partial<NewTierRow>): Promise<TierRow> {
  const [updated] = await db
    .update(tiers)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(tiers.id, id))
    .returning();
  return updated!;
}

/** Makes `id` the only default tier. */
export async function setDefaultTier(db: Db, id: string): Promise<void> {
  await db
    .update(tiers)
    .set({ isDefault: false, updatedAt: new Date() })
    .where(and(ne(tiers.id, id), eq(tiers.isDefault, true)));
  await db.update(tiers).set({ isDefault: true, updatedAt: new Date() }).where(eq(tiers.id, id));
}

export async function deleteTier(db: Db, id: string): Promise<void> {
  await db.delete(tiers).where(eq(tiers.id, id));
}

/** How many keys (any status) point at a tier. */
export async function countKeysInTier(db: Db, tierId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(apiKeys).where(eq(apiKeys.tierId, tierId));
  return Number(row?.n ?? 0);
}
