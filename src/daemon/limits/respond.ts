/**
 * @module What both limiters say: `x-ratelimit-*` headers (OpenAI's names and Go-style durations),
 * `Retry-After`, and the GatewayErrors for 429 / 403 / 402 with messages a person can act on. Also the
 * token-bucket arithmetic they share: levels are kept in units × 60,000 so that refilling `limit`
 * per minute is exactly `limit` per millisecond, in integers.
 */
import { formatPicoUsd } from '../../lib/money.js';
import { GatewayError } from '../errors.js';
import type { KeyEntry } from '../state/types.js';
import { periodWords, type PeriodKind } from '../usage/period.js';

/** One unit (a request or a token) in bucket levels. */
export const UNIT = 60_000;

/** Refilled level of a bucket of `limit` per minute, last at `level` at `ts`. Fresh buckets are full. */
export function refill(level: number | undefined, ts: number | undefined, limit: number, now: number): number {
  const cap = limit * UNIT;
  if (level === undefined || ts === undefined) return cap;
  return Math.min(cap, level + Math.max(0, now - ts) * limit);
}

/** Ms until the bucket holds `units` (0 when it already does). */
export function waitMs(level: number, units: number, limit: number): number {
  const missing = units * UNIT - level;
  return missing <= 0 ? 0 : Math.ceil(missing / limit);
}

/** Units a request needs from the TPM bucket: its estimate, at most the bucket's size, at least 1. */
export function tokensNeeded(estimated: number, tpm: number): number {
  return Math.max(1, Math.min(Math.ceil(estimated), tpm));
}

/**
 * Go `time.Duration` style as OpenAI sends it: `120ms`, `6s`, `6.5s`, `1m0s`, `1h2m3s`.
 * @example formatDuration(60_000) // '1m0s'
 */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.ceil(ms));
  if (t === 0) return '0s';
  if (t < 1000) return `${t}ms`;
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const sMs = t % 60_000;
  const s = (sMs / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Bucket readings after a decision, for the headers. */
export interface RateView {
  rpm: number | null;
  requestsLevel: number;
  tpm: number | null;
  tokensLevel: number;
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the limits the key has. */
export function rateHeaders(v: RateView): Record<string, string> {
  const h: Record<string, string> = {};
  if (v.rpm !== null) {
    h['x-ratelimit-limit-requests'] = String(v.rpm);
    h['x-ratelimit-remaining-requests'] = String(Math.max(0, Math.floor(v.requestsLevel / UNIT)));
    h['x-ratelimit-reset-requests'] = formatDuration(waitMs(v.requestsLevel, v.rpm, v.rpm));
  }
  if (v.tpm !== null) {
    h['x-ratelimit-limit-tokens'] = String(v.tpm);
    h['x-ratelimit-remaining-tokens'] = String(Math.max(0, Math.floor(v.tokensLevel / UNIT)));
    h['x-ratelimit-reset-tokens'] = formatDuration(waitMs(v.tokensLevel, v.tpm, v.tpm));
  }
  return h;
}

/** Integer seconds, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

const fmt = (n: number): string => n.toLocaleString('en-US');

export function rateLimitError(key: KeyEntry, v: RateView, rpmWait: number, tpmWait: number, tokens: number): GatewayError {
  const wait = Math.max(rpmWait, tpmWait);
  const secs = retryAfterSeconds(wait);
  const parts: string[] = [];
  if (rpmWait > 0) parts.push(`${fmt(v.rpm ?? 0)} requests per minute`);
  if (tpmWait > 0) parts.push(`${fmt(v.tpm ?? 0)} tokens per minute (this request needs ~${fmt(tokens)})`);
  const msg = `Rate limit reached for key '${key.name}' (tier ${key.tierName}): ${parts.join(' and ')}. Retry after ${secs}s.`;
  return new GatewayError('rate_limit_exceeded', msg, { headers: { ...rateHeaders(v), 'retry-after': String(secs) } });
}

export function concurrencyError(key: KeyEntry, limit: number, v: RateView): GatewayError {
  const msg =
    `Too many concurrent requests for key '${key.name}': at most ${fmt(limit)} at a time (tier ${key.tierName}). ` +
    'Retry when one of them finishes.';
  return new GatewayError('concurrency_limit_exceeded', msg, { headers: { ...rateHeaders(v), 'retry-after': '1' } });
}

export interface QuotaView {
  kind: PeriodKind;
  quota: number;
  used: number;
  reserved: number;
  /** Epoch ms when the period (and the quota) resets. */
  resetAt: number;
}

export function quotaError(key: KeyEntry, q: QuotaView, estimated: number): GatewayError {
  const reset = new Date(q.resetAt).toISOString();
  const head = `Token quota ${q.used >= q.quota ? 'exhausted' : 'nearly exhausted'} for key '${key.name}': ${fmt(q.used)} of ${fmt(q.quota)} tokens used ${periodWords(q.kind)}`;
  if (q.used >= q.quota) return new GatewayError('quota_exceeded', `${head}. The quota resets at ${reset}.`);
  const left = Math.max(0, q.quota - q.used - q.reserved);
  const inflight = q.reserved > 0 ? ` (${fmt(q.reserved)} reserved by requests in flight)` : '';
  return new GatewayError(
    'quota_exceeded',
    `${head}${inflight}; this request may use up to ${fmt(estimated)} tokens but only ${fmt(left)} remain. ` +
      `Lower max_tokens, or wait until the quota resets at ${reset}.`,
  );
}

export function creditsError(key: KeyEntry, availablePico: bigint, estimatedPico: bigint): GatewayError {
  if (availablePico <= 0n) {
    return new GatewayError(
      'insufficient_credits',
      `Credit balance exhausted for key '${key.name}' (balance $${formatPicoUsd(availablePico)}). Ask the gateway operator to add credits.`,
    );
  }
  return new GatewayError(
    'insufficient_credits',
    `Not enough credits for key '${key.name}': this request may cost up to $${formatPicoUsd(estimatedPico)} but ` +
      `$${formatPicoUsd(availablePico)} remain. Lower max_tokens, or ask the gateway operator to add credits.`,
  );
}
