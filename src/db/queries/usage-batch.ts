/**
 * @module A batch of usage events prepared for one write, filled one record at a time as requests
 * finish. Each record is encoded at once into the line of `COPY usage_events FROM STDIN` text format
 * the write sends, and its per-key spend and daily rollup are added to running sums, so the record
 * object dies young: the queue holds the rows as bytes in one off-heap buffer instead of an object graph
 * per request (Date, attempts array) that every minor GC had to copy, and a flush sends that buffer as
 * it is. COPY is the cheapest way into the store: on the embedded one, a quarter of the CPU per row
 * of the `jsonb_to_recordset` insert it replaces (no JSON keys to carry and parse).
 */
import { periodOf, utcDay } from '../../daemon/usage/period.js';
import type { UsageRecord } from '../../daemon/usage/types.js';
import type { UsageAttempt } from '../schema.js';

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

/** The columns of usage_events each line carries, in order. */
export const USAGE_COPY_COLUMNS =
  'ts, request_id, key_id, model_id, provider_id, endpoint, status, prompt_tokens, completion_tokens, cached_tokens, ' +
  'cost_pico, latency_ms, ttfb_ms, estimated, unpriced, attempts, error_code';

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** A text field of COPY text format: backslash, tab, newline and carriage return escaped; `\N` for null. */
export function copyText(s: string | null): string {
  if (s === null) return '\\N';
  return SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ESCAPES[c]!) : s;
}
/** A whole number for an integer column: a stray NaN or fraction must not make the batch unwritable. */
const int = (n: number): number => (Number.isFinite(n) ? Math.round(n) : 0);

/** The second of the last timestamp encoded and its ISO text up to the milliseconds (`…T10:00:00.`). */
let isoSecond = Number.NaN;
let isoPrefix = '';

/** `Date#toISOString` of an epoch-ms instant, the date part reused while records stay in one second. */
export function isoOf(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const text = new Date(ms).toISOString();
    // years past 9999 print differently: never cached
    if (text.length !== 24) return text;
    isoSecond = second;
    isoPrefix = text.slice(0, 20);
  }
  const milli = ms - isoSecond * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/** `JSON.stringify` of the attempts (the keys of UsageAttempt, in its order; `error` when set). */
export function attemptsJson(attempts: readonly UsageAttempt[]): string {
  let out = '[';
  for (let i = 0; i < attempts.length; i++) {
    const a = attempts[i]!;
    out +=
      `${i === 0 ? '' : ','}{"provider":${JSON.stringify(a.provider)},"upstreamModel":${JSON.stringify(a.upstreamModel)},` +
      `"status":${num(a.status)},${a.error === undefined ? '' : `"error":${JSON.stringify(a.error)},`}"ms":${num(a.ms)}}`;
  }
  return `${out}]`;
}

/**
 * One usage record as a line of COPY text format, columns as USAGE_COPY_COLUMNS (money as an exact
 * decimal, never a float).
 * @example encodeUsageRow(rec) // '2026-12-07T06:51:53.123Z\treq_…\tkey_…\t…\n'
 */
export function encodeUsageRow(r: UsageRecord): string {
  return (
    `${isoOf(r.ts.getTime())}\t${copyText(r.requestId)}\t${copyText(r.keyId)}\t${copyText(r.modelId)}\t${copyText(r.providerId)}\t` +
    `${copyText(r.endpoint)}\t${int(r.status)}\t${int(r.promptTokens)}\t${int(r.completionTokens)}\t${int(r.cachedTokens)}\t` +
    `${r.costPico.toString()}\t${int(r.latencyMs)}\t${r.ttfbMs === null ? '\\N' : int(r.ttfbMs)}\t${r.estimated ? 't' : 'f'}\t` +
    `${r.unpriced ? 't' : 'f'}\t${copyText(attemptsJson(r.attempts))}\t${copyText(r.errorCode)}\n`
  );
}

/**
 * Buffers of written batches, taken by the next ones. A batch lives a whole flush tick (250 ms), long
 * enough for V8 to move its buffer to the old generation, where a dropped one waits for a full
 * collection: at load lw's RSS grew ~10 MB per 50,000 requests in such garbage before it was reused.
 */
const spareBuffers: Buffer[] = [];
const MAX_SPARE_BUFFERS = 2;
const MAX_SPARE_BYTES = 8 * 1024 * 1024;
const NO_BUFFER = Buffer.alloc(0);

export class UsageBatch {
  /** The encoded lines, in one off-heap buffer (nothing for the GC to copy). */
  private buf = spareBuffers.pop() ?? Buffer.allocUnsafe(16 * 1024);
  private used = 0;
  private rows = 0;
  readonly perKey = new Map<string, KeySpend>();
  readonly daily = new Map<string, DailyAgg>();
  /** Key ids whose stored balance the write should read back even without spend (credit refreshes). */
  refresh: string[] = [];
  private lastDaily: DailyAgg | null = null;

  constructor(readonly id: string) {}

  get size(): number {
    return this.rows;
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
    // under load most records in a row share key, day and model: their rollup is found without a lookup
    let d = this.lastDaily;
    if (d === null || d.keyId !== r.keyId || d.modelId !== r.modelId || d.day !== day) {
      const id = `${r.keyId}\u0000${day}\u0000${r.modelId}`;
      d = this.daily.get(id) ?? null;
      if (!d) {
        d = { keyId: r.keyId, day, modelId: r.modelId, requests: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, costPico: 0n };
        this.daily.set(id, d);
      }
      this.lastDaily = d;
    }
    d.requests++;
    d.promptTokens += r.promptTokens;
    d.completionTokens += r.completionTokens;
    d.cachedTokens += r.cachedTokens;
    d.costPico += r.costPico;
  }

  /** Every row, as the data of `COPY usage_events (USAGE_COPY_COLUMNS) FROM STDIN` (a view, not a copy). */
  eventsCopyData(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  /**
   * Hands the buffer to later batches once this one is written (its rows are in the store and no
   * longer needed); the batch holds no rows afterwards.
   */
  recycle(): void {
    const buf = this.buf;
    this.buf = NO_BUFFER;
    this.used = 0;
    if (buf !== NO_BUFFER && spareBuffers.length < MAX_SPARE_BUFFERS && buf.length <= MAX_SPARE_BYTES) spareBuffers.push(buf);
  }

  private append(line: string): void {
    // at most 3 bytes of UTF-8 per UTF-16 unit: room is checked without measuring the line
    const most = line.length * 3;
    if (this.used + most > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + most));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(line, this.used);
    this.rows++;
  }
}
