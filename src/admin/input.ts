/**
 * @module Pure validation and parsing for admin input (no store, no I/O): expiry durations, key
 * references, names, limits, URLs, environment-variable names, money. Every failure is an AdminError
 * whose message says what to type instead, and never echoes anything that may be a secret.
 */
import { displayPrefix, hashApiKey, KEY_PREFIX, looksLikeApiKey } from '../lib/api-key.js';
import { parseCredits, parsePricePerMillion } from '../lib/money.js';
import type { NewTierRow } from '../db/queries/tiers.js';
import type { TierInput } from './types.js';
import { AdminError } from './types.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/**
 * Parses an expiry given as a duration from `now` (`30d`, `12h`, `90m`, `2w`) or an ISO date/time.
 * Returns null for `never`/`none`. Past instants are refused.
 * @example parseExpiry('30d', new Date('2025-01-01T00:00:00Z')) // 2025-01-31T00:00:00.000Z
 */
export function parseExpiry(text: string, now: Date = new Date()): Date | null {
  const t = text.trim();
  if (/^(never|none)$/i.test(t)) return null;
  const m = /^(\d+)\s*([smhdw])$/i.exec(t);
  if (m) {
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n) || n <= 0) throw new AdminError(`bad expiry '${t}': the duration must be positive`);
    const unit = m[2]!.toLowerCase() as keyof typeof UNIT_MS;
    return new Date(now.getTime() + n * UNIT_MS[unit]);
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const d = new Date(t);
    if (!Number.isNaN(d.getTime())) {
      if (d.getTime() <= now.getTime()) throw new AdminError(`bad expiry '${t}': that time is already past`);
      return d;
    }
  }
  throw new AdminError(`bad expiry '${t}': use a duration like 30d, 12h, 90m, 2w or an ISO date like 2030-01-31`);
}

/** What a key reference may match: an exact id or name, the hash of a full key, or a display prefix. */
export interface KeyRefQuery {
  exact: string;
  /** The display prefix to match with LIKE 'prefix%' (already cut to the stored prefix length). */
  prefix: string | null;
  hash: string | null;
}

/** The stored display prefix is `lw-` + 8 characters. */
const PREFIX_LEN = displayPrefix('x'.repeat(64)).length;

export function keyRefQuery(ref: string): KeyRefQuery {
  const exact = ref.trim();
  const bare = exact.replace(/(…|\.\.\.)$/, '');
  const hash = looksLikeApiKey(exact) ? hashApiKey(exact) : null;
  const isPrefix = bare.startsWith(KEY_PREFIX) && bare.length >= KEY_PREFIX.length + 4;
  const prefix = isPrefix ? bare.slice(0, PREFIX_LEN) : null;
  return { exact, prefix, hash };
}

export interface KeyRefCandidate {
  id: string;
  name: string;
  prefix: string;
  hash: string;
}

/** A reference safe to print: a full key is cut to its display prefix. */
export function printableRef(ref: string): string {
  return looksLikeApiKey(ref.trim()) ? displayPrefix(ref.trim()) + '…' : ref;
}

/**
 * Picks the one key a reference means: exact id, then exact name, then the full key, then a unique
 * prefix match. Several prefix matches → 409; none → 404.
 */
export function pickKeyRef<T extends KeyRefCandidate>(ref: string, rows: readonly T[]): T {
  const q = keyRefQuery(ref);
  const byId = rows.find((r) => r.id === q.exact);
  if (byId) return byId;
  const byName = rows.find((r) => r.name === q.exact);
  if (byName) return byName;
  const byHash = q.hash ? rows.find((r) => r.hash === q.hash) : undefined;
  if (byHash) return byHash;
  const byPrefix = q.prefix ? rows.filter((r) => r.prefix.startsWith(q.prefix!)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  const shown = printableRef(ref);
  if (byPrefix.length > 1) {
    const names = byPrefix.map((r) => r.name).join(', ');
    const n = byPrefix.length;
    throw new AdminError(`'${shown}' is ambiguous: it matches ${n} keys (${names}); use the id or name`, 409);
  }
  throw new AdminError(`no key matches '${shown}' (use an id, a name or an lw-… prefix; see lw keys list)`, 404);
}

/** Tier, provider names: a short slug. */
export function assertSlug(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) {
    throw new AdminError(`bad ${what} name ${JSON.stringify(value)}: use letters, digits, '.', '_' or '-' (max 64)`);
  }
  return value;
}

/** Key names and model ids/aliases: printable, no whitespace. */
export function assertLabel(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[^\s\p{C}]{1,128}$/u.test(value)) {
    throw new AdminError(`bad ${what} ${JSON.stringify(value)}: 1-128 printable characters, no spaces`);
  }
  return value;
}

/** A non-negative integer limit, or null (= unlimited / inherit); undefined stays undefined. */
export function optLimit(value: unknown, field: string): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new AdminError(`bad ${field} ${JSON.stringify(value)}: a whole number ≥ 0`);
  }
  return value;
}

/** A positive integer (context window, timeouts, priority is ≥ 0). */
export function optPositive(value: unknown, field: string, min = 1): number | null | undefined {
  const v = optLimit(value, field);
  if (v != null && v < min) throw new AdminError(`bad ${field} ${v}: must be at least ${min}`);
  return v;
}

/** A list of non-empty strings (model globs, aliases). */
export function optStringList(value: unknown, field: string): string[] | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.trim() !== '')) {
    throw new AdminError(`bad ${field}: a list of non-empty strings`);
  }
  return [...new Set(value.map((v: string) => v.trim()))];
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new AdminError(`bad ${field} ${JSON.stringify(value)}: one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** An http(s) base URL without a trailing slash. */
export function parseBaseUrl(value: unknown): string {
  const hint = 'use http(s)://host[:port][/path], e.g. https://api.openai.com/v1';
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AdminError(`bad URL: a base URL is required; ${hint}`);
  }
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    throw new AdminError(`bad URL ${JSON.stringify(value)}: ${hint}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new AdminError(`bad URL ${JSON.stringify(value)}: ${hint}`);
  }
  if (u.username || u.password) {
    throw new AdminError('bad URL: credentials in the URL are not allowed; use --api-key-env');
  }
  if (u.search || u.hash) throw new AdminError(`bad URL ${JSON.stringify(value)}: no query string or fragment`);
  return u.toString().replace(/\/+$/, '');
}

/** True for strings that look like a secret rather than a variable name. */
function looksLikeSecret(value: string): boolean {
  return (
    /^(sk|pk|rk|lw|gsk|xai|sk-ant|sk-or)[-_]/i.test(value) ||
    /^AIza/.test(value) ||
    (value.length >= 24 && /[0-9]/.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value))
  );
}

/** An environment-variable NAME (never a key). The value is never echoed back. */
export function parseEnvName(value: unknown): string | null | undefined {
  if (value === undefined || value === null || value === '') return value === '' ? null : value;
  if (typeof value !== 'string') throw new AdminError('bad api_key_env: the name of an environment variable');
  const v = value.trim().replace(/^\$/, '');
  if (looksLikeSecret(v)) {
    throw new AdminError(
      'api_key_env takes the NAME of an environment variable, not the key itself: export the key ' +
        '(e.g. export OPENAI_API_KEY=…) and pass --api-key-env OPENAI_API_KEY. lw never stores provider keys.',
    );
  }
  if (!/^[A-Z_][A-Z0-9_]*$/i.test(v)) {
    throw new AdminError('bad api_key_env: an environment variable name like OPENAI_API_KEY (letters, digits, _)');
  }
  return v;
}

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'proxy-authorization', 'cookie']);

export function parseHeaders(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new AdminError('bad headers: an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || typeof v !== 'string') {
      throw new AdminError(`bad header ${JSON.stringify(k)}: header names are tokens and values strings`);
    }
    if (SECRET_HEADERS.has(k.toLowerCase())) {
      const why = 'put the key in an environment variable and use api_key_env';
      throw new AdminError(`header '${k}' carries a secret: ${why}`);
    }
    out[k] = v;
  }
  return out;
}

type Timeouts = { connectMs?: number; firstByteMs?: number; idleMs?: number };

export function parseTimeouts(value: unknown): Timeouts | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AdminError('bad timeouts: { connectMs, firstByteMs, idleMs }');
  }
  const out: Timeouts = {};
  for (const [k, v] of Object.entries(value)) {
    if (k !== 'connectMs' && k !== 'firstByteMs' && k !== 'idleMs') {
      throw new AdminError(`bad timeouts: unknown field '${k}'`);
    }
    const ms = optPositive(v, `timeouts.${k}`);
    if (ms != null) out[k] = ms;
  }
  return out;
}

/** Decimal USD credits → pico-dollars; null clears; undefined stays undefined. */
export function optCredits(value: unknown): bigint | null | undefined {
  if (value === undefined || value === null) return value;
  try {
    return parseCredits(String(value));
  } catch (e) {
    throw new AdminError(`bad credits ${JSON.stringify(value)}: ${(e as Error).message}; e.g. 25 or 12.50 (USD)`);
  }
}

/** Decimal USD per million tokens → micro-dollars; null clears; undefined stays undefined. */
export function optPrice(value: unknown, field: string): bigint | null | undefined {
  if (value === undefined || value === null) return value;
  try {
    return parsePricePerMillion(String(value));
  } catch (e) {
    const why = `${(e as Error).message}; USD per million tokens, e.g. 2.50`;
    throw new AdminError(`bad ${field} ${JSON.stringify(value)}: ${why}`);
  }
}

/** True for a Postgres unique-constraint violation, whether raw or wrapped by Drizzle. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/** A required non-empty string (trimmed). */
export function str(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AdminError(`${field} is required (a non-empty string)`);
  }
  return value.trim();
}

/** An input object whose fields are still to be validated one by one (undefined → {}). */
export function obj<T extends object>(value: T | undefined, what: string): Partial<Record<keyof T, unknown>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AdminError(`bad ${what}: an object`);
  }
  return value as Partial<Record<keyof T, unknown>>;
}

/** An empty per-key model list means "the tier's list", never "every model". */
export const emptyToNull = (list: string[] | null | undefined): string[] | null | undefined =>
  list && list.length > 0 ? list : list === undefined ? undefined : null;

/** TierInput → the columns to write (`is_default` is handled by the caller: it is exclusive). */
export function tierPatch(input: TierInput): Partial<NewTierRow> {
  const i = obj(input, 'tier settings');
  const patch: Partial<NewTierRow> = {};
  const set = <K extends keyof NewTierRow>(k: K, val: NewTierRow[K] | undefined) => {
    if (val !== undefined) patch[k] = val;
  };
  set('rpm', optLimit(i.rpm, 'rpm'));
  set('tpm', optLimit(i.tpm, 'tpm'));
  set('quotaTokens', optLimit(i.quota_tokens, 'quota_tokens'));
  set('maxConcurrent', optLimit(i.max_concurrent, 'max_concurrent'));
  set('quotaPeriod', oneOf(i.quota_period, ['day', 'week', 'month'] as const, 'quota_period'));
  const models = optStringList(i.models, 'models');
  if (models !== undefined) patch.models = models ?? [];
  if (i.is_default !== undefined && typeof i.is_default !== 'boolean') {
    throw new AdminError('bad is_default: true or false');
  }
  return patch;
}
