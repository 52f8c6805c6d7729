/** @module SQL for models, their deployments (provider + upstream model) and aliases. */
import { and, asc, eq, inArray, max, notExists, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { modelAliases, modelDeployments, models, providers } from '../schema.js';

export type ModelRow = typeof models.$inferSelect;
export type NewModelRow = typeof models.$inferInsert;
export type DeploymentRow = typeof modelDeployments.$inferSelect;
export type NewDeploymentRow = typeof modelDeployments.$inferInsert;
export type AliasRow = typeof modelAliases.$inferSelect;

/** A deployment with its provider's name. */
export interface DeploymentWithProvider {
  deployment: DeploymentRow;
  providerName: string;
}

export async function listModels(db: Db): Promise<ModelRow[]> {
  return db.select().from(models).orderBy(asc(models.id));
}

export async function findModel(db: Db, id: string): Promise<ModelRow | undefined> {
  const [row] = await db.select().from(models).where(eq(models.id, id));
  return row;
}

/** Deployments (of one model, or all), by priority then provider name. */
export async function listDeployments(db: Db, modelId?: string): Promise<DeploymentWithProvider[]> {
  const q = db
    .select({ deployment: modelDeployments, providerName: providers.name })
    .from(modelDeployments)
    .innerJoin(providers, eq(modelDeployments.providerId, providers.id));
  return (modelId === undefined ? q : q.where(eq(modelDeployments.modelId, modelId))).orderBy(
    asc(modelDeployments.priority),
    asc(providers.name),
    asc(modelDeployments.id),
  );
}

export async function listAliases(db: Db, modelId?: string): Promise<AliasRow[]> {
  const q = db.select().from(modelAliases);
  return (modelId === undefined ? q : q.where(eq(modelAliases.modelId, modelId))).orderBy(asc(modelAliases.alias));
}

/**
 * The model whose id or alias equals `name` ignoring case (so case-insensitive resolution stays
 * unambiguous), or undefined.
 */
export async function findNameOwner(
  db: Db,
  name: string,
): Promise<{ modelId: string; as: 'id' | 'alias' } | undefined> {
  const lower = name.toLowerCase();
  const [byId] = await db
    .select({ id: models.id })
    .from(models)
    .where(eq(sql`lower(${models.id})`, lower))
    .limit(1);
  if (byId) return { modelId: byId.id, as: 'id' };
  const [byAlias] = await db
    .select({ modelId: modelAliases.modelId })
    .from(modelAliases)
    .where(eq(sql`lower(${modelAliases.alias})`, lower))
    .limit(1);
  return byAlias ? { modelId: byAlias.modelId, as: 'alias' } : undefined;
}

export async function insertModel(db: Db, row: NewModelRow): Promise<ModelRow> {
  const [created] = await db.insert(models).values(row).returning();
  return created!;
}

export async function updateModel(db: Db, id: string, patch: Partial<NewModelRow>): Promise<ModelRow | undefined> {
  const [updated] = await db
    .update(models)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(models.id, id))
    .returning();
  return updated;
}

export async function deleteModel(db: Db, id: string): Promise<void> {
  await db.delete(models).where(eq(models.id, id));
}

export async function insertDeployment(db: Db, row: NewDeploymentRow): Promise<DeploymentRow> {
  const [created] = await db.insert(modelDeployments).values(row).returning();
  return created!;
}

export async function findDeployment(
  db: Db,
  modelId: string,
  providerId: string,
  upstreamModel: string,
): Promise<DeploymentRow | undefined> {
  const [row] = await db
    .select()
    .from(modelDeployments)
    .where(
      and(
        eq(modelDeployments.modelId, modelId),
        eq(modelDeployments.providerId, providerId),
        eq(modelDeployments.upstreamModel, upstreamModel),
      ),
    );
  return row;
}

/** The next free priority for a model's deployments (0 for the first). */
export async function nextPriority(db: Db, modelId: string): Promise<number> {
  const [row] = await db
    .select({ p: max(modelDeployments.priority) })
    .from(modelDeployments)
    .where(eq(modelDeployments.modelId, modelId));
  return row?.p == null ? 0 : Number(row.p) + 1;
}

export async function insertAlias(db: Db, alias: string, modelId: string): Promise<void> {
  await db.insert(modelAliases).values({ alias, modelId });
}

/** Of `ids`, the models left without any deployment. */
export async function modelsWithoutDeployments(db: Db, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: models.id })
    .from(models)
    .where(
      and(
        inArray(models.id, ids),
        notExists(db.select({ one: sql`1` }).from(modelDeployments).where(eq(modelDeployments.modelId, models.id))),
      ),
    )
    .orderBy(asc(models.id));
  return rows.map((r) => r.id);
}
