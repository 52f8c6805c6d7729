/**
 * @module The Redis Limiter: the same semantics as memory.ts (token buckets, quota counters per UTC
 * period, concurrency, exact credits — see credits.ts), with every decision made by one Lua script so
 * admission is atomic across all daemons sharing the Redis. Without an injected clock the scripts use
 * Redis's own TIME, so daemons with skewed clocks still share one timeline.
 *
 * In-flight admissions hold a lease (renewed by a heartbeat while the request runs): a daemon that dies
 * mid-request has its concurrency slot and its quota and credit reservations released when the lease
 * runs out. Settlements are sent in the background (retried) and awaited by `close()`.
 * Keys expire: buckets when full again, quota counters a day after their period, credit state after 30
 * idle days. Period totals are seeded from the store with SETNX semantics, so a restart never resets them.
 * ioredis (~15 MB) is imported by `createRedisLimiter`, so a daemon without Redis never loads it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../../lib/log.js';
import { GatewayError } from '../errors.js';
import type { KeyEntry } from '../state/types.js';
import { PERIOD_KINDS, periodOf, type PeriodKind } from '../usage/period.js';
import { SEEN_TTL_MS } from './credits.js';
import { ADMIT, PERSISTED, SEED, SETTLE, STATE } from './redis-scripts.js';
import { concurrencyError, creditsError, quotaError, rateHeaders, rateLimitError, UNIT, waitMs, type RateView } from './respond.js';
import { systemClock, type Clock, type KeyLimitState, type Limiter, type Settlement } from './types.js';

export interface RedisLimiterOptions {
  url: string;
  /** Prefix of every Redis key (e.g. `lw:`); tests use a random one. */
  prefix: string;
  /** Injected clock (tests); default: Redis server time. */
  clock?: Clock;
  /** Lease of an in-flight admission; renewed every third of it while the request runs. Default 60 s. */
  leaseMs?: number;
  log?: Logger;
}

type Reply = Array<string | number>;

interface Scripts {
  lwAdmit(...args: string[]): Promise<Reply>;
  lwSettle(...args: string[]): Promise<number>;
  lwState(...args: string[]): Promise<Reply>;
  lwPersisted(...args: string[]): Promise<number>;
  lwSeed(...args: string[]): Promise<number>;
}

const QUOTA_INDEX: Record<PeriodKind, string> = { day: '1', week: '2', month: '3' };
const str = (v: bigint | number | null): string => (v === null ? '' : String(v));

function unreachable(cause: unknown): GatewayError {
  return new GatewayError('internal_error', 'The rate-limit store (Redis) is unreachable; retry shortly.', { cause });
}

export async function createRedisLimiter(opts: RedisLimiterOptions): Promise<Limiter> {
  const log = opts.log ?? silentLogger;
  const leaseMs = opts.leaseMs ?? 60_000;
  const { Redis: RedisClient } = await import('ioredis');
  const redis = new RedisClient(opts.url, { maxRetriesPerRequest: 2, connectTimeout: 5_000, lazyConnect: true });
  redis.on('error', (err: Error) => log.warn('redis error', { error: err.message }));
  await redis.connect();
  redis.defineCommand('lwAdmit', { numberOfKeys: 8, lua: ADMIT });
  redis.defineCommand('lwSettle', { numberOfKeys: 8, lua: SETTLE });
  redis.defineCommand('lwState', { numberOfKeys: 8, lua: STATE });
  redis.defineCommand('lwPersisted', { numberOfKeys: 3, lua: PERSISTED });
  redis.defineCommand('lwSeed', { numberOfKeys: 1, lua: SEED });
  const r = redis as unknown as Scripts & Redis;
  const now = (): string => (opts.clock ? String(opts.clock.now()) : '');
  const localNow = (): number => (opts.clock ?? systemClock).now();
  const refreshes = new Set<string>();
  /** Live admissions: id → in-flight zset key (for lease renewal). */
  const live = new Map<string, string>();
  const settling = new Set<Promise<void>>();

  const base = (keyId: string): string => `${opts.prefix}{${keyId}}`;
  const quotaKey = (keyId: string, kind: PeriodKind, start: number): string => `${base(keyId)}:q:${kind}:${start}`;
  function keysFor(keyId: string, starts: Record<PeriodKind, number>): string[] {
    const b = base(keyId);
    return [`${b}:rl`, ...PERIOD_KINDS.map((k) => quotaKey(keyId, k, starts[k])), `${b}:cr`, `${b}:seen`, `${b}:inf`, `${b}:res`];
  }
  function periodsAt(t: number): Record<PeriodKind, { start: number; end: number }> {
    return { day: periodOf('day', t), week: periodOf('week', t), month: periodOf('month', t) };
  }

  const heartbeat = setInterval(() => {
    if (live.size === 0) return;
    const p = redis.pipeline();
    const until = String(localNow() + leaseMs);
    for (const [id, inf] of live) p.zadd(inf, 'XX', until, id);
    p.exec().catch((err: unknown) => log.warn('lease renewal failed', { error: String(err) }));
  }, Math.max(1_000, Math.floor(leaseMs / 3)));
  heartbeat.unref();

  function settleLater(keys: string[], id: string, key: KeyEntry, actual: Settlement): void {
    const args = [
      ...keys,
      now(),
      id,
      String(Math.max(0, Math.round(actual.tokens))),
      actual.costPico.toString(),
      actual.reachedUpstream === false ? '0' : '1',
      str(key.limits.tpm),
    ];
    const run = async (): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await r.lwSettle(...args);
          return;
        } catch (err) {
          if (attempt >= 5) {
            log.error('settlement lost: Redis unreachable', { key_id: key.id, error: String(err) });
            return;
          }
          await new Promise((res) => setTimeout(res, 100 * 2 ** attempt));
        }
      }
    };
    const p = run().finally(() => {
      live.delete(id);
      settling.delete(p);
    });
    settling.add(p);
  }

  return {
    async admit(req) {
      const { key } = req;
      const t = localNow();
      const periods = periodsAt(t);
      const starts = { day: periods.day.start, week: periods.week.start, month: periods.month.start };
      const keys = keysFor(key.id, starts);
      const id = randomUUID();
      const est = Math.max(0, Math.ceil(req.estimatedTokens));
      const estCost = req.estimatedCostPico > 0n ? req.estimatedCostPico : 0n;
      const credit = key.creditsPico === null ? 'null' : key.creditsPico.toString();
      const { rpm, tpm, quotaTokens, quotaPeriod, maxConcurrent } = key.limits;
      let reply: Reply;
      try {
        reply = await r.lwAdmit(
          ...keys,
          now(),
          id,
          String(leaseMs),
          str(rpm),
          str(tpm),
          String(est),
          estCost.toString(),
          str(quotaTokens),
          QUOTA_INDEX[quotaPeriod],
          str(maxConcurrent),
          credit,
          String(SEEN_TTL_MS),
          ...PERIOD_KINDS.map((k) => String(periods[k].start)),
          ...PERIOD_KINDS.map((k) => String(periods[k].end)),
        );
      } catch (err) {
        throw unreachable(err);
      }
      const [status, refresh] = reply;
      if (Number(refresh) === 1) refreshes.add(key.id);
      const view = (rq: unknown, tk: unknown): RateView => ({ rpm, requestsLevel: Number(rq), tpm, tokensLevel: Number(tk) });
      switch (status) {
        case 'quota': {
          const p = periodOf(quotaPeriod, Number(reply[4]));
          const q = { kind: quotaPeriod, quota: quotaTokens!, used: Number(reply[2]), reserved: Number(reply[3]), resetAt: p.end };
          throw quotaError(key, q, est);
        }
        case 'credits':
          throw creditsError(key, BigInt(String(reply[2])), estCost);
        case 'concurrency':
          throw concurrencyError(key, maxConcurrent!, view(reply[2], reply[3]));
        case 'rate':
          throw rateLimitError(key, view(reply[2], reply[3]), Number(reply[4]), Number(reply[5]), est);
        case 'ok':
          break;
        default:
          throw new GatewayError('internal_error', `unexpected limiter reply ${String(status)}`);
      }
      live.set(id, keys[6]!);
      let settled = false;
      return {
        headers: rateHeaders(view(reply[2], reply[3])),
        settle(actual) {
          if (settled) return;
          settled = true;
          settleLater(keys, id, key, actual);
        },
      };
    },

    async state(key): Promise<KeyLimitState> {
      const t = localNow();
      const periods = periodsAt(t);
      const keys = keysFor(key.id, { day: periods.day.start, week: periods.week.start, month: periods.month.start });
      const { rpm, tpm, quotaPeriod } = key.limits;
      let v: Reply;
      try {
        const credit = key.creditsPico === null ? 'null' : key.creditsPico.toString();
        v = await r.lwState(...keys, now(), credit, String(SEEN_TTL_MS), str(rpm), str(tpm), QUOTA_INDEX[quotaPeriod]);
      } catch (err) {
        throw unreachable(err);
      }
      if (Number(v[0]) === 1) refreshes.add(key.id);
      const at = Number(v[9]);
      const rq = Number(v[1]);
      const stored = String(v[7]);
      const p = periodOf(quotaPeriod, at);
      return {
        period: quotaPeriod,
        periodStart: p.start,
        periodEnd: p.end,
        tokensUsed: Number(v[3]),
        requestsUsed: Number(v[4]),
        tokensReserved: Number(v[5]),
        creditsPico: stored === 'null' ? null : BigInt(stored) - BigInt(String(v[8])),
        rpmRemaining: rpm === null ? null : Math.floor(rq / UNIT),
        rpmResetAt: rpm === null ? null : at + waitMs(rq, rpm, rpm),
        tpmRemaining: tpm === null ? null : Math.max(0, Math.floor(Number(v[2]) / UNIT)),
        inFlight: Number(v[6]),
      };
    },

    async seed(entries) {
      const t = localNow();
      const p = redis.pipeline();
      let n = 0;
      for (const kind of PERIOD_KINDS) {
        const { start, end } = periodOf(kind, t);
        for (const e of entries) {
          if (e.periodStart !== start) continue;
          const ttl = String(Math.max(1_000, end + 86_400_000 - t));
          const args = [quotaKey(e.keyId, kind, start), String(e.periodTokens), String(e.periodRequests), String(start), ttl];
          (p as unknown as { lwSeed(...a: string[]): void }).lwSeed(...args);
          n++;
        }
      }
      if (n === 0) return;
      const results = await p.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0]!;
    },

    async persisted(batchId, debits) {
      if (debits.length === 0) return;
      const p = redis.pipeline();
      const at = now();
      for (const d of debits) {
        const b = base(d.keyId);
        const before = d.balancePico === null ? '' : (d.balancePico + d.costPico).toString();
        const balance = d.balancePico === null ? 'null' : d.balancePico.toString();
        (p as unknown as { lwPersisted(...a: string[]): void }).lwPersisted(
          `${b}:cr`,
          `${b}:seen`,
          `${b}:b:${batchId}`,
          d.costPico.toString(),
          balance,
          before,
          at,
          String(SEEN_TTL_MS),
        );
      }
      const results = await p.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0]!;
    },

    takeCreditRefreshes() {
      const ids = [...refreshes];
      refreshes.clear();
      return ids;
    },

    async close() {
      clearInterval(heartbeat);
      await Promise.allSettled([...settling]);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
