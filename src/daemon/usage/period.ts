/**
 * @module UTC calendar periods for token quotas: day, ISO week (starting Monday) and month. Quotas reset
 * at the start of the next period; `usage_daily` rows are keyed by the UTC day (`YYYY-MM-DD`).
 */

export type PeriodKind = 'day' | 'week' | 'month';

export const PERIOD_KINDS: readonly PeriodKind[] = ['day', 'week', 'month'];

const DAY_MS = 86_400_000;

export interface Period {
  kind: PeriodKind;
  /** Epoch ms of the first instant of the period (UTC midnight). */
  start: number;
  /** Epoch ms of the first instant of the next period (exclusive end). */
  end: number;
}

/**
 * The UTC period containing `at`.
 * @example periodOf('week', Date.parse('2025-01-01T12:00:00Z')) // start 2024-12-30 (Monday), end 2025-01-06
 */
export function periodOf(kind: PeriodKind, at: number): Period {
  // the limiter asks several times per request, nearly always about the current period
  const hit = lastPeriod[kind];
  if (hit && at >= hit.start && at < hit.end) return hit;
  const p = Object.freeze(computePeriod(kind, at));
  lastPeriod[kind] = p;
  return p;
}

const lastPeriod: Partial<Record<PeriodKind, Period>> = {};

function computePeriod(kind: PeriodKind, at: number): Period {
  const d = new Date(at);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const dayStart = Date.UTC(y, m, d.getUTCDate());
  switch (kind) {
    case 'day':
      return { kind, start: dayStart, end: dayStart + DAY_MS };
    case 'week': {
      const sinceMonday = (d.getUTCDay() + 6) % 7;
      const start = dayStart - sinceMonday * DAY_MS;
      return { kind, start, end: start + 7 * DAY_MS };
    }
    case 'month':
      return { kind, start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
    default:
      throw new Error(`unknown quota period: ${String(kind)}`);
  }
}

export function periodStart(kind: PeriodKind, at: number): number {
  return periodOf(kind, at).start;
}

export function periodEnd(kind: PeriodKind, at: number): number {
  return periodOf(kind, at).end;
}

/**
 * The UTC day of an instant as stored in `usage_daily.day`.
 * @example utcDay(Date.parse('2025-03-09T23:59:59Z')) // '2025-03-09'
 */
export function utcDay(at: number | Date): string {
  return new Date(typeof at === 'number' ? at : at.getTime()).toISOString().slice(0, 10);
}

/** Epoch ms of the UTC midnight starting `day` (`YYYY-MM-DD`). */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** Human words for messages: "today", "this week", "this month". */
export function periodWords(kind: PeriodKind): string {
  return kind === 'day' ? 'today' : kind === 'week' ? 'this week' : 'this month';
}
