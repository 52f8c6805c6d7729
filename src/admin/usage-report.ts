/**
 * @module `lw usage` on the store: resolves `--key` (id, name, full key or prefix), `--model` (id or
 * alias) and `--since` (`7d`, `24h`, `90m`, `2w` or an ISO date/time), then reads the rollups through
 * `usageReport`. Bad input is an AdminError 400; an unknown key 404.
 */
import type { Store } from '../db/client.js';
import { findKeyCandidates } from '../db/queries/keys.js';
import { modelIdForRef, usageReport } from '../db/queries/usage.js';
import { keyRefQuery, pickKeyRef, printableRef } from './input.js';
import { AdminError, type AdminService, type UsageQuery } from './types.js';

/** Default window of `lw usage` without `--since`. */
export const DEFAULT_SINCE = '30d';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/**
 * Parses `--since`: a duration back from `now` or an ISO date (UTC midnight) / date-time.
 * @example parseSince('7d', new Date('2025-01-08T12:00:00Z')) // 2025-01-01T12:00:00.000Z
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const t = text.trim();
  const m = /^(\d+)\s*([mhdw])$/i.exec(t);
  if (m) {
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n) || n <= 0) throw new AdminError(`bad --since '${t}': the duration must be positive`);
    return new Date(now.getTime() - n * UNIT_MS[m[2]!.toLowerCase() as keyof typeof UNIT_MS]);
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const iso = t.length === 10 ? `${t}T00:00:00Z` : /(Z|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t.replace(' ', 'T')}Z`;
    const d = new Date(iso);
    if (!Number.isNaN(d.getTime())) {
      if (d.getTime() > now.getTime()) throw new AdminError(`bad --since '${t}': that time is in the future`);
      return d;
    }
  }
  throw new AdminError(`bad --since '${t}': use a duration like 7d, 24h, 90m, 2w or an ISO date like 2025-01-31`);
}

export function createUsageReporter(store: Store, clock: () => Date = () => new Date()): AdminService['usage'] {
  return {
    async report(query: UsageQuery) {
      const by = query.by ?? 'day';
      if (by !== 'day' && by !== 'model' && by !== 'key') {
        throw new AdminError(`bad --by '${String(by)}': use day, model or key`);
      }
      const since = parseSince(query.since ?? DEFAULT_SINCE, clock());
      let keyId: string | undefined;
      if (query.key !== undefined) {
        const ref = query.key.trim();
        if (!ref) throw new AdminError('bad --key: give a key id, name or prefix');
        const rows = await findKeyCandidates(store.db, keyRefQuery(ref));
        try {
          keyId = pickKeyRef(ref, rows.map((r) => r.key)).id;
        } catch (err) {
          if (err instanceof AdminError) throw err;
          throw new AdminError(`no key matches '${printableRef(ref)}'`, 404);
        }
      }
      const model = query.model?.trim();
      const modelId = model ? await modelIdForRef(store.db, model) : undefined;
      return usageReport(store.db, { keyId, modelId, since, by });
    },
  };
}
