/**
 * @module Limits contract: RPM, TPM, period quota, concurrency and prepaid credits, admitted before the
 * upstream call from an estimate and settled to real usage after. Implementations: in-memory (exact for
 * one daemon) and Redis (exact across daemons). Neither touches the database on the request path.
 */
import type { KeyEntry } from '../state/types.js';

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export interface AdmissionRequest {
  key: KeyEntry;
  /** Tokens reserved against TPM and quota: prompt estimate + expected completion. */
  estimatedTokens: number;
  /** Pico-dollars reserved against credits (0n when the model is unpriced). */
  estimatedCostPico: bigint;
}

export interface Settlement {
  /** Real tokens (prompt + completion) consumed; 0 when the upstream was never reached. */
  tokens: number;
  /** Real cost; must equal the `costPico` of the usage record written for this request (the writer debits it). */
  costPico: bigint;
  /**
   * Whether a usage event is written for this request (it reached an upstream); counts the request in
   * the period's `requestsUsed` like `usage_daily.requests`. Default true.
   */
  reachedUpstream?: boolean;
}

export interface Admission {
  /** `x-ratelimit-*` headers for the response. */
  headers: Record<string, string>;
  /** Returns the reservation and charges the real amounts. Idempotent: only the first call counts. */
  settle(actual: Settlement): void;
}

/** Quota and spend state for `GET /v1/usage`. */
export interface KeyLimitState {
  /** The key's quota period (`key.limits.quotaPeriod`); start and end are UTC epoch ms. */
  period: 'day' | 'week' | 'month';
  periodStart: number;
  periodEnd: number;
  /** Settled tokens this period (seeded from `usage_daily`, then counted live). */
  tokensUsed: number;
  requestsUsed: number;
  /** Tokens reserved by requests in flight (counted against the quota until settled). */
  tokensReserved: number;
  /** Remaining credits (pico-dollars, settled spend deducted, in-flight reservations not) or null without a credit limit. */
  creditsPico: bigint | null;
  rpmRemaining: number | null;
  /** When the RPM bucket is full again (epoch ms). */
  rpmResetAt: number | null;
  tpmRemaining: number | null;
  inFlight: number;
}

/**
 * One key's line in a usage flush, reported by the usage writer INSIDE its transaction, after
 * `api_keys.credits_pico` was decremented (row locked) and before commit, so reports reach the limiter
 * in the store's commit order. `costPico` 0 with a balance = a requested balance refresh.
 */
export interface PersistedDebit {
  keyId: string;
  /** Cost of this batch's records for the key (the amount the writer debited when credits are set). */
  costPico: bigint;
  /** `api_keys.credits_pico` after the debit; null = no credit limit (or the key no longer exists). */
  balancePico: bigint | null;
}

/** What the usage writer needs from the limiter to keep credit balances exact (see credits.ts). */
export interface CreditLedger {
  /** Applies persisted debits: pending spend −= cost, stored balance = balance. Idempotent per batchId. */
  persisted(batchId: string, debits: readonly PersistedDebit[]): Promise<void>;
  /** Key ids whose stored balance should be re-read from the store (taken: the set is cleared). */
  takeCreditRefreshes(): string[];
}

export interface PeriodSeed {
  keyId: string;
  periodTokens: number;
  periodRequests: number;
  /** Epoch ms of a day, week or month start; applied to every current period starting then. */
  periodStart: number;
}

export interface Limiter extends CreditLedger {
  /**
   * Throws GatewayError (403 quota_exceeded, 402 insufficient_credits, 429 concurrency_limit_exceeded /
   * rate_limit_exceeded, checked in that order). The decision is atomic: nothing is reserved on refusal.
   */
  admit(req: AdmissionRequest): Promise<Admission>;
  state(key: KeyEntry): Promise<KeyLimitState>;
  /**
   * Seeds period totals at start-up from rollups (`periodSeeds()` in db/queries/usage.ts), never raw
   * events. SETNX semantic: a period counter that already exists (live, or in Redis) is left alone.
   */
  seed(entries: readonly PeriodSeed[]): Promise<void>;
  /** Waits for pending settlements (Redis) and releases connections. */
  close(): Promise<void>;
}
