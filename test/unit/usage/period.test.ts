import { describe, expect, it } from 'vitest';
import { dayStartMs, periodOf, utcDay } from '../../../src/daemon/usage/period.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('UTC periods', () => {
  it('computes day, ISO week (Monday) and month bounds in UTC', () => {
    const t = Date.parse('2025-01-01T12:34:56Z'); // a Wednesday
    expect([periodOf('day', t), periodOf('week', t), periodOf('month', t)].map((p) => [iso(p.start), iso(p.end)])).toEqual([
      ['2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z'],
      ['2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z'],
      ['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z'],
    ]);
  });

  it('handles Sundays, Mondays, leap days and year ends at the exact instant', () => {
    expect(iso(periodOf('week', Date.parse('2025-03-16T23:59:59.999Z')).start)).toBe('2025-03-10T00:00:00.000Z');
    expect(iso(periodOf('week', Date.parse('2025-03-17T00:00:00.000Z')).start)).toBe('2025-03-17T00:00:00.000Z');
    expect(iso(periodOf('month', Date.parse('2024-02-29T23:00:00Z')).end)).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(periodOf('month', Date.parse('2025-12-31T23:59:59.999Z')).end)).toBe('2026-01-01T00:00:00.000Z');
    expect(iso(periodOf('day', Date.parse('2025-06-30T23:59:59.999Z')).end)).toBe('2025-07-01T00:00:00.000Z');
  });

  it('names UTC days as usage_daily stores them', () => {
    expect(utcDay(Date.parse('2025-03-09T23:59:59Z'))).toBe('2025-03-09');
    expect(utcDay(new Date('2025-03-10T00:00:00+02:00'))).toBe('2025-03-09');
    expect(iso(dayStartMs('2025-03-09'))).toBe('2025-03-09T00:00:00.000Z');
  });
});
