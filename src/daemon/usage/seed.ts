/**
 * @module Start-up seeding of the limiter's quota counters from the `usage_daily` rollups (never raw
 * events), so a restart does not reset anyone's quota. Call after the previous daemon's usage was flushed
 * (it flushes on SIGTERM) and before serving. The Redis limiter applies seeds with SETNX semantics, so
 * a daemon joining a running fleet leaves the live counters alone.
 */
import type { Store } from '../../db/client.js';
import { periodSeeds } from '../../db/queries/usage.js';
import type { Limiter } from '../limits/types.js';
import type { Snapshot } from '../state/types.js';

/**
 * Seeds day, week and month totals for every key (only the snapshot's keys when one is given).
 * @example await seedLimiter(store, limiter, live.current);
 * @returns the number of seed entries applied
 */
export async function seedLimiter(
  store: Store,
  limiter: Pick<Limiter, 'seed'>,
  snapshot?: Pick<Snapshot, 'keysById'>,
  now: number = Date.now(),
): Promise<number> {
  let entries = await periodSeeds(store.db, now);
  if (snapshot) entries = entries.filter((e) => snapshot.keysById.has(e.keyId));
  if (entries.length > 0) await limiter.seed(entries);
  return entries.length;
}
