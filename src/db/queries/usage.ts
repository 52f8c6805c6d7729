/**
 * @module SQL for usage: the usage writer's batch (events, daily rollups, credit debits in one
 * transaction), period totals that seed the limiter, and `lw usage` reports. Reports and quota seeds
 * read the `usage_daily` rollups; raw events are only read for the partial first day of a report whose
 * `--since` is not a UTC midnight (an indexed time-range scan of at most one day).
 */
import { and, asc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { PersistedDebit, PeriodSeed } from '../../daemon/limits/types.js';
import { dayStartMs, PERIOD_KINDS, periodStart, utcDay } from '../../daemon/usage/period.js';
import type { UsageReport, UsageRow } from '../../admin/types.js';
import { formatPicoUsd } from '../../lib/money.js';
import { USAGE_COPY_COLUMNS, type UsageBatch } from './usage-batch.js';
import { copyIn } from '../copy-in.js';
import type { Db } from '../client.js';
import { apiKeys, modelAliases, models, usageDaily, usageEvents } from '../schema.js';

/**
 * Writes a batch in the caller's transaction: locks the batch's keys (ordered by id, so concurrent
 * daemons never deadlock), debits `credits_pico` by each key's batch cost where it is set, moves
 * `last_used_at`, inserts the events and adds the daily rollups. Returns one line per key of the batch
 * (and per `batch.refresh` entry, with cost 0) carrying the balance after the debit.
 */
export async function writeUsageBatch(tx: Db, batch: UsageBatch): Promise<PersistedDebit[]> {
  const { perKey, daily } = batch;
  const ids = [...new Set([...perKey.keys(), ...batch.refresh])].sort();
  if (ids.length === 0) return [];
  const locked = await tx
    .select({ id: apiKeys.id, credits: apiKeys.creditsPico })
    .from(apiKeys)
    .where(inArray(apiKeys.id, ids))
    .orderBy(asc(apiKeys.id))
    .for('update');
  const balances = new Map(locked.map((row) => [row.id, row.credits]));

  if (perKey.size > 0) {
    const values = sql.join(
      [...perKey].map(([id, k]) => sql`(${id}::text, ${k.cost.toString()}::bigint, ${new Date(k.last).toISOString()}::timestamptz)`),
      sql`, `,
    );
    await tx.execute(sql`
      update ${apiKeys} as k
         set credits_pico = case when k.credits_pico is null then null else k.credits_pico - v.cost end,
             last_used_at = greatest(coalesce(k.last_used_at, v.ts), v.ts)
        from (values ${values}) as v(id, cost, ts)
       where k.id = v.id`);
    // the rows as encoded when each request ended (usage-batch.ts), in one COPY; every row has a perKey entry
    await copyIn(tx, `usage_events (${USAGE_COPY_COLUMNS})`, batch.eventsCopyData());
    await tx
      .insert(usageDaily)
      .values([...daily.values()])
      .onConflictDoUpdate({
        target: [usageDaily.keyId, usageDaily.day, usageDaily.modelId],
        set: {
          requests: sql`${usageDaily.requests} + excluded.requests`,
          promptTokens: sql`${usageDaily.promptTokens} + excluded.prompt_tokens`,
          completionTokens: sql`${usageDaily.completionTokens} + excluded.completion_tokens`,
          cachedTokens: sql`${usageDaily.cachedTokens} + excluded.cached_tokens`,
          costPico: sql`${usageDaily.costPico} + excluded.cost_pico`,
        },
      });
  }
  return ids.map((keyId) => {
    const cost = perKey.get(keyId)?.cost ?? 0n;
    const before = balances.get(keyId) ?? null;
    return { keyId, costPico: cost, balancePico: before === null ? null : before - cost };
  });
}

export interface PeriodTotal {
  keyId: string;
  tokens: number;
  requests: number;
}

/** Per key: tokens (prompt + completion) and requests from `periodStartDay` (YYYY-MM-DD) on, from the rollups. */
export async function periodTotals(db: Db, q: { periodStartDay: string }): Promise<PeriodTotal[]> {
  const rows = await db
    .select({
      keyId: usageDaily.keyId,
      tokens: sql<string>`coalesce(sum(${usageDaily.promptTokens} + ${usageDaily.completionTokens}), 0)::text`,
      requests: sql<string>`coalesce(sum(${usageDaily.requests}), 0)::text`,
    })
    .from(usageDaily)
    .where(gte(usageDaily.day, q.periodStartDay))
    .groupBy(usageDaily.keyId);
  return rows.map((r) => ({ keyId: r.keyId, tokens: Number(r.tokens), requests: Number(r.requests) }));
}

/** Seeds for `Limiter.seed`: totals since the current UTC day, ISO week and month start. */
export async function periodSeeds(db: Db, now: number): Promise<PeriodSeed[]> {
  const starts = [...new Set(PERIOD_KINDS.map((k) => periodStart(k, now)))];
  const out: PeriodSeed[] = [];
  for (const start of starts) {
    for (const t of await periodTotals(db, { periodStartDay: utcDay(start) })) {
      out.push({ keyId: t.keyId, periodTokens: t.tokens, periodRequests: t.requests, periodStart: start });
    }
  }
  return out;
}

/** A model reference as `lw usage --model` takes it: an alias means its model; anything else is an id. */
export async function modelIdForRef(db: Db, ref: string): Promise<string> {
  const [exact] = await db.select({ id: models.id }).from(models).where(eq(models.id, ref));
  if (exact) return exact.id;
  const [alias] = await db.select({ id: modelAliases.modelId }).from(modelAliases).where(eq(modelAliases.alias, ref));
  if (alias) return alias.id;
  const [ci] = await db.select({ id: models.id }).from(models).where(sql`lower(${models.id}) = lower(${ref})`);
  return ci?.id ?? ref;
}

export interface ResolvedUsageQuery {
  keyId?: string;
  modelId?: string;
  since: Date;
  by: 'day' | 'model' | 'key';
}

interface Sum {
  requests: number;
  prompt: number;
  completion: number;
  cached: number;
  cost: bigint;
}

const SUMS = (t: typeof usageDaily | typeof usageEvents, requests: SQL) => ({
  requests: sql<string>`(${requests})::text`,
  prompt: sql<string>`coalesce(sum(${t.promptTokens}), 0)::text`,
  completion: sql<string>`coalesce(sum(${t.completionTokens}), 0)::text`,
  cached: sql<string>`coalesce(sum(${t.cachedTokens}), 0)::text`,
  cost: sql<string>`coalesce(sum(${t.costPico}), 0)::text`,
});

/** Usage grouped by day, model or key (key names joined), with exact totals. */
export async function usageReport(db: Db, q: ResolvedUsageQuery): Promise<UsageReport> {
  const sinceMs = q.since.getTime();
  const sinceDay = utcDay(sinceMs);
  const aligned = dayStartMs(sinceDay) === sinceMs;
  const fullFrom = aligned ? sinceDay : utcDay(dayStartMs(sinceDay) + 86_400_000);
  const groups = new Map<string, Sum>();
  const add = (group: string, r: { requests: string; prompt: string; completion: string; cached: string; cost: string }) => {
    const s = groups.get(group) ?? { requests: 0, prompt: 0, completion: 0, cached: 0, cost: 0n };
    s.requests += Number(r.requests);
    s.prompt += Number(r.prompt);
    s.completion += Number(r.completion);
    s.cached += Number(r.cached);
    s.cost += BigInt(r.cost);
    groups.set(group, s);
  };

  const dCol = q.by === 'day' ? usageDaily.day : q.by === 'model' ? usageDaily.modelId : usageDaily.keyId;
  const dWhere = [gte(usageDaily.day, fullFrom)];
  if (q.keyId) dWhere.push(eq(usageDaily.keyId, q.keyId));
  if (q.modelId) dWhere.push(eq(usageDaily.modelId, q.modelId));
  const daily = await db
    .select({ group: dCol, ...SUMS(usageDaily, sql`coalesce(sum(${usageDaily.requests}), 0)`) })
    .from(usageDaily)
    .where(and(...dWhere))
    .groupBy(dCol);
  for (const r of daily) add(r.group, r);

  if (!aligned) {
    const eCol = q.by === 'day' ? sql<string>`${sinceDay}::text` : q.by === 'model' ? usageEvents.modelId : usageEvents.keyId;
    const eWhere = [gte(usageEvents.ts, q.since), lt(usageEvents.ts, new Date(dayStartMs(fullFrom)))];
    if (q.keyId) eWhere.push(eq(usageEvents.keyId, q.keyId));
    if (q.modelId) eWhere.push(eq(usageEvents.modelId, q.modelId));
    const base = db
      .select({ group: eCol, ...SUMS(usageEvents, sql`count(*)`) })
      .from(usageEvents)
      .where(and(...eWhere))
      .$dynamic();
    const partial = await (q.by === 'day' ? base : base.groupBy(eCol));
    for (const r of partial) if (Number(r.requests) > 0) add(r.group, r);
  }

  let names = new Map<string, string>();
  if (q.by === 'key' && groups.size > 0) {
    const rows = await db.select({ id: apiKeys.id, name: apiKeys.name }).from(apiKeys).where(inArray(apiKeys.id, [...groups.keys()]));
    names = new Map(rows.map((r) => [r.id, r.name]));
  }
  const entries = [...groups].map(([g, s]) => ({ group: names.get(g) ?? g, s }));
  if (q.by === 'day') entries.sort((a, b) => a.group.localeCompare(b.group));
  else entries.sort((a, b) => b.s.prompt + b.s.completion - (a.s.prompt + a.s.completion) || a.group.localeCompare(b.group));
  const total: Sum = { requests: 0, prompt: 0, completion: 0, cached: 0, cost: 0n };
  const rows: UsageRow[] = entries.map(({ group, s }) => {
    total.requests += s.requests;
    total.prompt += s.prompt;
    total.completion += s.completion;
    total.cached += s.cached;
    total.cost += s.cost;
    return view(group, s);
  });
  const { group: _g, ...totals } = view('', total);
  return { totals, rows, by: q.by, since: q.since.toISOString() };
}

function view(group: string, s: Sum): UsageRow {
  return {
    group,
    requests: s.requests,
    prompt_tokens: s.prompt,
    completion_tokens: s.completion,
    cached_tokens: s.cached,
    cost: formatPicoUsd(s.cost),
  };
}
