/**
 * @module Authentication: `Authorization: Bearer lw-…`, `x-api-key`, or the key carried in the path
 * (`/api/agent/{key}/v1/...`, rewritten to a header before routing). Keys are looked up by hash in
 * the in-memory snapshot: no database round trip.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { hashApiKey } from '../lib/api-key.js';
import { GatewayError } from './errors.js';
import type { KeyEntry, Snapshot } from './state/types.js';

/** Bounded cache plaintext → hash, so a hot key is hashed once, not per request. */
const hashCache = new Map<string, string>();
const HASH_CACHE_MAX = 10_000;

function hashOf(key: string): string {
  let h = hashCache.get(key);
  if (h === undefined) {
    h = hashApiKey(key);
    if (hashCache.size >= HASH_CACHE_MAX) hashCache.clear();
    hashCache.set(key, h);
  }
  return h;
}

export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.trim()) return x.trim();
  return undefined;
}

/** The key entry for these headers, or a 401 that says what is wrong (never echoing the key). */
export function authenticate(snap: Snapshot, headers: IncomingHttpHeaders, now: number): KeyEntry {
  const key = presentedKey(headers);
  if (!key) {
    throw new GatewayError(
      'missing_api_key',
      'No API key provided. Send it as `Authorization: Bearer lw-…` (or `x-api-key`).',
    );
  }
  const entry = snap.keysByHash.get(hashOf(key));
  if (!entry) throw new GatewayError('invalid_api_key', 'Incorrect API key provided.');
  if (entry.status === 'revoked') throw new GatewayError('revoked_api_key', `The API key ${entry.prefix}… has been revoked.`);
  if (entry.expiresAt !== null && entry.expiresAt <= now) {
    throw new GatewayError('expired_api_key', `The API key ${entry.prefix}… expired on ${new Date(entry.expiresAt).toISOString()}.`);
  }
  return entry;
}

const AGENT_PREFIX = '/api/agent/';

/**
 * `/api/agent/{key}/v1/x` → `{ key, path: '/v1/x' }`; null when the URL has another shape. A key whose
 * percent-encoding is malformed is kept as sent (no key has `%`, so it fails authentication with a 401):
 * this runs inside the server's request event, where a throw would end the process.
 */
export function splitAgentPath(url: string): { key: string; path: string } | null {
  if (!url.startsWith(AGENT_PREFIX)) return null;
  const rest = url.slice(AGENT_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const raw = rest.slice(0, slash);
  let key = raw;
  try {
    key = decodeURIComponent(raw);
  } catch {
    // URIError: kept as sent
  }
  return { key, path: rest.slice(slash) };
}
