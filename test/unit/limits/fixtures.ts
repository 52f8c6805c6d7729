/** @module Shared fixtures for limiter tests: a fake clock and key entries. */
import type { Clock } from '../../../src/daemon/limits/types.js';
import type { KeyEntry, LimitSet } from '../../../src/daemon/state/types.js';

export interface FakeClock extends Clock {
  t: number;
  advance(ms: number): void;
}

export function fakeClock(iso = '2025-03-12T10:00:00.000Z'): FakeClock {
  const c = {
    t: Date.parse(iso),
    now: () => c.t,
    advance: (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

export const NO_LIMITS: LimitSet = { rpm: null, tpm: null, quotaTokens: null, quotaPeriod: 'month', maxConcurrent: null };

export function keyEntry(limits: Partial<LimitSet> = {}, over: Partial<KeyEntry> = {}): KeyEntry {
  return {
    id: 'key_1',
    name: 'alice',
    prefix: 'lw-abcd1234',
    status: 'active',
    expiresAt: null,
    tierId: 'tier_beta',
    tierName: 'beta',
    limits: { ...NO_LIMITS, ...limits },
    modelGlobs: [],
    creditsPico: null,
    ...over,
  };
}

/** Pico-dollars per USD. */
export const USD = 1_000_000_000_000n;
