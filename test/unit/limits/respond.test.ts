import { describe, expect, it } from 'vitest';
import { formatDuration, rateHeaders, refill, retryAfterSeconds, tokensNeeded, UNIT, waitMs } from '../../../src/daemon/limits/respond.js';

describe('limit responses', () => {
  it('formats durations like OpenAI (Go time.Duration)', () => {
    expect([0, 17, 999, 1000, 6000, 6500, 59_999, 60_000, 90_500, 3_600_000, 3_723_000].map(formatDuration)).toEqual([
      '0s',
      '17ms',
      '999ms',
      '1s',
      '6s',
      '6.5s',
      '59.999s',
      '1m0s',
      '1m30.5s',
      '1h0m0s',
      '1h2m3s',
    ]);
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect([0, 1, 999, 1000, 1001, 6000].map(retryAfterSeconds)).toEqual([1, 1, 1, 1, 2, 6]);
  });

  it('refills buckets exactly in integers and caps them at the limit', () => {
    expect(refill(undefined, undefined, 10, 0)).toBe(10 * UNIT);
    expect(refill(0, 1000, 10, 7000)).toBe(60_000); // 6 s at 10/min = one request
    expect(refill(0, 1000, 10, 1_000_000)).toBe(10 * UNIT);
    expect(refill(-5 * UNIT, 0, 60, 1000)).toBe(-4 * UNIT);
    expect(refill(5, 2000, 10, 1000)).toBe(5); // a clock going backwards never refills
    expect(waitMs(0, 1, 10)).toBe(6000);
    expect(waitMs(UNIT, 1, 10)).toBe(0);
    expect(waitMs(1, 1, 7)).toBe(8572);
    expect([tokensNeeded(0, 100), tokensNeeded(50.2, 100), tokensNeeded(500, 100)]).toEqual([1, 51, 100]);
  });

  it('emits only the header trios of the limits a key has', () => {
    expect(rateHeaders({ rpm: null, requestsLevel: 0, tpm: 1000, tokensLevel: 250.5 * UNIT })).toEqual({
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '250',
      'x-ratelimit-reset-tokens': '44.97s',
    });
    expect(rateHeaders({ rpm: null, requestsLevel: 0, tpm: null, tokensLevel: 0 })).toEqual({});
  });
});
