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
  costPico: bigint;
}

export interface Admission {
  /** `x-ratelimit-*` headers for the response. */
  headers: Record<string, string>;
  /** Returns the reservation and charges the real amounts. Idempotent: only the first call counts. */
  settle(actual: Settlement): void;
}

/** Quota and spend state for `GET /v1/usage`. */
export interface KeyLimitState {
  periodStart: number;
  periodEnd: number;
  tokensUsed: number;
  requestsUsed: number;
  /** Remaining credits (pico-dollars) or null for keys without a credit limit. */
  creditsPico: bigint | null;
  rpmRemaining: number | null;
  rpmResetAt: number | null;
  tpmRemaining: number | null;
}

export interface Limiter {
  /** Throws GatewayError (429 rate_limit_exceeded / concurrency_limit_exceeded, 403 quota_exceeded, 402 insufficient_credits). */
  admit(req: AdmissionRequest): Promise<Admission>;
  state(key: KeyEntry): Promise<KeyLimitState>;
  /** Seeds period totals and balances at start-up (from rollups, never raw events). */
  seed(entries: Array<{ keyId: string; periodTokens: number; periodRequests: number; periodStart: number }>): void;
  close(): Promise<void>;
}
