/**
 * @module The in-memory Limiter: exact for one daemon. `admit` decides synchronously (no await before the
 * decision), so JavaScript's single thread makes every admission atomic: 40 concurrent requests against
 * 10 RPM admit exactly 10.
 *
 * - RPM and TPM are token buckets of capacity = the limit, refilled continuously at limit/minute (as
 *   OpenAI describes its limits): "10 RPM" admits 10 at once, then one more every 6 s. TPM reserves the
 *   request's estimate (at most the bucket size) and settles to the real count (refund or debt).
 * - Quota: settled tokens per UTC day, ISO week and month (all three are counted, so a tier change of
 *   period is exact); in-flight estimates count against the quota until settled, so concurrent requests
 *   cannot overshoot it: a request is refused when its estimate does not fit beside those in flight. A
 *   request alone (nothing in flight) is admitted while any quota remains, even if its worst case is
 *   larger — otherwise a small quota would refuse every request that names no max_tokens; the overshoot
 *   is bounded by that one request. A reservation is charged to the period it was admitted in.
 * - Concurrency: in-flight counter, released at settle. Credits: see credits.ts.
 * - Order of checks: quota (403) and credits (402) first — retrying cannot help, so a client should not
 *   be told to wait — then concurrency, then RPM/TPM (429, Retry-After = the longer wait).
 */
import type { KeyEntry } from '../state/types.js';
import { PERIOD_KINDS, periodOf, type PeriodKind } from '../usage/period.js';
import { CreditBook } from './credits.js';
import {
  concurrencyError,
  creditsError,
  quotaError,
  rateHeaders,
  rateLimitError,
  refill,
  tokensNeeded,
  UNIT,
  waitMs,
  type RateView,
} from './respond.js';
import {
  systemClock,
  type Admission,
  type AdmissionRequest,
  type Clock,
  type KeyLimitState,
  type Limiter,
  type PeriodSeed,
  type PersistedDebit,
  type Settlement,
} from './types.js';

interface Bucket {
  level: number;
  ts: number;
}

interface PeriodCounter {
  start: number;
  used: number;
  requests: number;
  reserved: number;
}

interface KeyState {
  rpm?: Bucket;
  tpm?: Bucket;
  periods: Partial<Record<PeriodKind, PeriodCounter>>;
  inFlight: number;
}

export interface MemoryLimiterOptions {
  clock?: Clock;
}

export function createMemoryLimiter(opts: MemoryLimiterOptions = {}): Limiter {
  const clock = opts.clock ?? systemClock;
  const keys = new Map<string, KeyState>();
  const credits = new CreditBook();
  /** Seeds not yet applied: `${keyId}|${periodStart}` → totals. */
  const seeds = new Map<string, { tokens: number; requests: number }>();

  function keyState(id: string): KeyState {
    let s = keys.get(id);
    if (!s) keys.set(id, (s = { periods: {}, inFlight: 0 }));
    return s;
  }

  function counter(s: KeyState, keyId: string, kind: PeriodKind, now: number): PeriodCounter {
    const start = periodOf(kind, now).start;
    let c = s.periods[kind];
    if (!c || c.start !== start) {
      const seed = seeds.get(`${keyId}|${start}`);
      c = { start, used: seed?.tokens ?? 0, requests: seed?.requests ?? 0, reserved: 0 };
      s.periods[kind] = c;
    }
    return c;
  }

  function bucket(b: Bucket | undefined, limit: number | null, now: number): Bucket | undefined {
    if (limit === null) return undefined;
    return { level: refill(b?.level, b?.ts, limit, now), ts: now };
  }

  function view(key: KeyEntry, rpm: Bucket | undefined, tpm: Bucket | undefined): RateView {
    return { rpm: key.limits.rpm, requestsLevel: rpm?.level ?? 0, tpm: key.limits.tpm, tokensLevel: tpm?.level ?? 0 };
  }

  function admitNow(req: AdmissionRequest): Admission {
    const { key } = req;
    const now = clock.now();
    const est = Math.max(0, Math.ceil(req.estimatedTokens));
    const estCost = req.estimatedCostPico > 0n ? req.estimatedCostPico : 0n;
    const s = keyState(key.id);
    const rpm = bucket(s.rpm, key.limits.rpm, now);
    const tpm = bucket(s.tpm, key.limits.tpm, now);
    const v = view(key, rpm, tpm);

    const kind = key.limits.quotaPeriod;
    const q = counter(s, key.id, kind, now);
    const quota = key.limits.quotaTokens;
    if (quota !== null && (q.used >= quota || (q.reserved > 0 && q.used + q.reserved + est > quota))) {
      throw quotaError(key, { kind, quota, used: q.used, reserved: q.reserved, resetAt: periodOf(kind, now).end }, est);
    }
    const cs = credits.observe(key.id, key.creditsPico, now);
    const available = credits.available(cs);
    if (available !== null && (available <= 0n || estCost > available)) throw creditsError(key, available, estCost);
    const maxC = key.limits.maxConcurrent;
    if (maxC !== null && s.inFlight >= maxC) throw concurrencyError(key, maxC, v);
    const rpmWait = rpm ? waitMs(rpm.level, 1, key.limits.rpm!) : 0;
    const tpmUnits = tpm ? tokensNeeded(est, key.limits.tpm!) : 0;
    const tpmWait = tpm ? waitMs(tpm.level, tpmUnits, key.limits.tpm!) : 0;
    if (rpmWait > 0 || tpmWait > 0) throw rateLimitError(key, v, rpmWait, tpmWait, est);

    // Admitted: reserve everything at once.
    if (rpm) rpm.level -= UNIT;
    const tpmReserved = tpm ? est : 0;
    if (tpm) tpm.level -= tpmReserved * UNIT;
    s.rpm = rpm;
    s.tpm = tpm;
    const starts = {} as Record<PeriodKind, number>;
    for (const k of PERIOD_KINDS) {
      const c = counter(s, key.id, k, now);
      c.reserved += est;
      starts[k] = c.start;
    }
    s.inFlight++;
    cs.reserved += estCost;
    const headers = rateHeaders(view(key, rpm, tpm));

    let settled = false;
    return {
      headers,
      settle(actual: Settlement): void {
        if (settled) return;
        settled = true;
        const t = clock.now();
        const tokens = Math.max(0, Math.round(actual.tokens));
        s.inFlight = Math.max(0, s.inFlight - 1);
        if (s.tpm && key.limits.tpm !== null) {
          const b = bucket(s.tpm, key.limits.tpm, t)!;
          b.level = Math.min(key.limits.tpm * UNIT, b.level + (tpmReserved - tokens) * UNIT);
          s.tpm = b;
        }
        for (const k of PERIOD_KINDS) {
          const c = s.periods[k];
          if (!c || c.start !== starts[k]) continue; // the period ended meanwhile: its counter is gone
          c.reserved -= est;
          c.used += tokens;
          if (actual.reachedUpstream !== false) c.requests++;
        }
        cs.reserved -= estCost;
        cs.pending += actual.costPico;
      },
    };
  }

  return {
    async admit(req) {
      return admitNow(req);
    },

    async state(key): Promise<KeyLimitState> {
      const now = clock.now();
      const s = keyState(key.id);
      const kind = key.limits.quotaPeriod;
      const p = periodOf(kind, now);
      const c = counter(s, key.id, kind, now);
      const rpm = bucket(s.rpm, key.limits.rpm, now);
      const tpm = bucket(s.tpm, key.limits.tpm, now);
      const cs = credits.observe(key.id, key.creditsPico, now);
      return {
        period: kind,
        periodStart: p.start,
        periodEnd: p.end,
        tokensUsed: c.used,
        requestsUsed: c.requests,
        tokensReserved: c.reserved,
        creditsPico: cs.stored === null ? null : cs.stored - cs.pending,
        rpmRemaining: rpm ? Math.floor(rpm.level / UNIT) : null,
        rpmResetAt: rpm ? now + waitMs(rpm.level, key.limits.rpm!, key.limits.rpm!) : null,
        tpmRemaining: tpm ? Math.max(0, Math.floor(tpm.level / UNIT)) : null,
        inFlight: s.inFlight,
      };
    },

    async seed(entries: readonly PeriodSeed[]) {
      const now = clock.now();
      for (const e of entries) {
        const k = `${e.keyId}|${e.periodStart}`;
        if (!seeds.has(k)) seeds.set(k, { tokens: e.periodTokens, requests: e.periodRequests });
        const s = keys.get(e.keyId);
        if (!s) continue;
        // SETNX: a counter already live for this period keeps counting; an idle one takes the seed.
        for (const kind of PERIOD_KINDS) {
          const c = s.periods[kind];
          if (c && c.start === e.periodStart && c.used === 0 && c.requests === 0 && c.reserved === 0) {
            c.used = e.periodTokens;
            c.requests = e.periodRequests;
          }
        }
      }
      pruneSeeds(now);
    },

    async persisted(batchId: string, debits: readonly PersistedDebit[]) {
      credits.persisted(batchId, debits, clock.now());
    },

    takeCreditRefreshes: () => credits.takeRefreshes(),

    async close() {},
  };

  /** Drops seeds for periods that have ended (a month is the longest period). */
  function pruneSeeds(now: number): void {
    const oldest = periodOf('month', now).start - 7 * 86_400_000;
    for (const k of seeds.keys()) if (Number(k.slice(k.lastIndexOf('|') + 1)) < oldest) seeds.delete(k);
  }
}
