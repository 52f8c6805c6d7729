/**
 * @module A batch of usage events prepared for one write, filled one record at a time as requests
 * finish. Each record is encoded at once into the JSON row that `jsonb_to_recordset` reads, and its
 * per-key spend and daily rollup are added to running sums, so the record object dies young: the queue
 * holds the rows as bytes in one off-heap buffer instead of an object graph per request (Date, attempts
 * array) that every minor GC had to copy, and a flush is no longer a burst of work on the event loop
 * (JSON.stringify of ~500 rows, one day string per row): it decodes one buffer.
 */
import { periodOf, utcDay } from '../../daemon/usage/period.js';
import type { UsageRecord } from '../../daemon/usage/types.js';

export interface DailyAgg {
  keyId: string;
  day: string;
  modelId: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costPico: bigint;
}

export interface KeySpend {
  cost: bigint;
  /** Latest event time (epoch ms): `api_keys.last_used_at`. */
  last: number;
}

/** The UTC day of the last record seen, reused while records stay within it. */
let dayStart = Number.NaN;
let dayText = '';

/** `YYYY-MM-DD` (UTC) of an epoch-ms instant: `utcDay` on the limiter's memoised day period. */
export function batchDay(ms: number): string {
  const { start } = periodOf('day', ms);
  if (start !== dayStart) {
    dayStart = start;
    dayText = utcDay(start);
  }
  return dayText;
}

const str = (s: string | null): string => (s === null ? 'null' : JSON.stringify(s));
/** A whole number for an integer column: a stray NaN or fraction must not make the batch unwritable. */
const int = (n: number): number => (Number.isFinite(n) ? Math.round(n) : 0);

/**
 * One usage record as the JSON object `jsonb_to_recordset` expands (column names of usage_events; money
 * as a decimal string, never a float).
 * @example encodeUsageRow(rec) // '{"ts":"2026-12-07T06:51:53.123Z","request_id":"req_…",…}'
 */
export function encodeUsageRow(r: UsageRecord): string {
  return (
    `{"ts":"${r.ts.toISOString()}","request_id":${str(r.requestId)},"key_id":${str(r.keyId)},` +
    `"model_id":${str(r.modelId)},"provider_id":${str(r.providerId)},"endpoint":${str(r.endpoint)},` +
    `"status":${int(r.status)},"prompt_tokens":${int(r.promptTokens)},"completion_tokens":${int(r.completionTokens)},` +
    `"cached_tokens":${int(r.cachedTokens)},"cost_pico":"${r.costPico.toString()}","latency_ms":${int(r.latencyMs)},` +
    `"ttfb_ms":${r.ttfbMs === null ? 'null' : int(r.ttfbMs)},"estimated":${r.estimated},"unpriced":${r.unpriced},` +
    `"attempts":${JSON.stringify(r.attempts)},"error_code":${str(r.errorCode)}}`
  );
}

export class UsageBatch {
  /** The encoded rows, each followed by a comma, in one off-heap buffer (nothing for the GC to copy). */
  private buf = Buffer.allocUnsafe(16 * 1024);
  private used = 0;
  /** Where each row's bytes end (its comma included). */
  private readonly ends: number[] = [];
  readonly perKey = new Map<string, KeySpend>();
  readonly daily = new Map<string, DailyAgg>();
  /** Key ids whose stored balance the write should read back even without spend (credit refreshes). */
  refresh: string[] = [];

  constructor(readonly id: string) {}

  get size(): number {
    return this.ends.length;
  }

  add(r: UsageRecord): void {
    this.append(encodeUsageRow(r));
    const ms = r.ts.getTime();
    const k = this.perKey.get(r.keyId);
    if (!k) this.perKey.set(r.keyId, { cost: r.costPico, last: ms });
    else {
      k.cost += r.costPico;
      if (ms > k.last) k.last = ms;
    }
    const day = batchDay(ms);
    const id = `${r.keyId}\u0000${day}\u0000${r.modelId}`;
    let d = this.daily.get(id);
    if (!d) {
      d = { keyId: r.keyId, day, modelId: r.modelId, requests: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, costPico: 0n };
      this.daily.set(id, d);
    }
    d.requests++;
    d.promptTokens += r.promptTokens;
    d.completionTokens += r.completionTokens;
    d.cachedTokens += r.cachedTokens;
    d.costPico += r.costPico;
  }

  /** Rows `from` (inclusive) to `to` (exclusive) as one JSON array. */
  eventsJson(from = 0, to = this.ends.length): string {
    if (to <= from) return '[]';
    const start = from === 0 ? 0 : this.ends[from - 1]!;
    return `[${this.buf.toString('utf8', start, this.ends[to - 1]! - 1)}]`;
  }

  private append(row: string): void {
    const need = Buffer.byteLength(row) + 1;
    if (this.used + need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + need));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(row, this.used);
    this.buf[this.used++] = 0x2c; // ','
    this.ends.push(this.used);
  }
}
