/** @module SQL for providers: list, find, insert, delete (deployments on it go by cascade). */
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { modelDeployments, providers } from '../schema.js';

export type ProviderRow = typeof providers.$inferSelect;
export type NewProviderRow = typeof providers.$inferInsert;

export async function listProviders(db: Db): Promise<ProviderRow[]> {
  return db.select().from(providers).orderBy(asc(providers.name));
}

export async function findProviderByName(db: Db, name: string): Promise<ProviderRow | undefined> {
  const [row] = await db.select().from(providers).where(eq(providers.name, name));
  return row;
}

export async function insertProvider(db: Db, row: NewProviderRow): Promise<ProviderRow> {
  const [created] = await db.insert(providers).values(row).returning();
  return created!;
}

export async function updateProvider(db: Db, id: string, patch: Partial<NewProviderRow>): Promise<ProviderRow> {
  const [updated] = await db
    .update(providers)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(providers.id, id))
    .returning();
  return updated!;
}

/** Deletes a provider and (by cascade) its deployments; returns the ids of the models it served. */
export async function deleteProvider(db: Db, id: string): Promise<string[]> {
  const served = await db
    .selectDistinct({ modelId: modelDeployments.modelId })
    .from(modelDeployments)
    .where(eq(modelDeployments.providerId, id));
  await db.delete(providers).where(eq(providers.id, id));
  return served.map((r) => r.modelId);
}
