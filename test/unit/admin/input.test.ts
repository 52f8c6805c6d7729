import { describe, expect, it } from 'vitest';
import {
  isUniqueViolation,
  keyRefQuery,
  optCredits,
  optPrice,
  optStringList,
  parseBaseUrl,
  parseEnvName,
  parseExpiry,
  parseHeaders,
  pickKeyRef,
  printableRef,
} from '../../../src/admin/input.js';
import { AdminError } from '../../../src/admin/types.js';
import { keyStatus } from '../../../src/admin/views.js';
import { hashApiKey } from '../../../src/lib/api-key.js';

const NOW = new Date('2025-06-01T00:00:00Z');

function adminError(fn: () => unknown): AdminError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AdminError);
    return e as AdminError;
  }
  throw new Error('expected an AdminError');
}

describe('parseExpiry', () => {
  it.each([
    ['30d', '2025-07-01T00:00:00.000Z'],
    ['12h', '2025-06-01T12:00:00.000Z'],
    ['90m', '2025-06-01T01:30:00.000Z'],
    ['2w', '2025-06-15T00:00:00.000Z'],
    ['45s', '2025-06-01T00:00:45.000Z'],
    [' 7D ', '2025-06-08T00:00:00.000Z'],
    ['2030-01-31', '2030-01-31T00:00:00.000Z'],
    ['2030-01-31T10:00:00Z', '2030-01-31T10:00:00.000Z'],
    ['2030-01-31T10:00:00+02:00', '2030-01-31T08:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(parseExpiry(text, NOW)?.toISOString()).toBe(iso);
  });

  it('never/none mean no expiry', () => {
    expect(parseExpiry('never', NOW)).toBeNull();
    expect(parseExpiry('None', NOW)).toBeNull();
  });

  it.each(['', '30', 'd30', '30x', '0d', '-1d', 'tomorrow', '2030-13-45', '31/01/2030', '2025-05-31'])(
    'refuses %j with a 400 saying what to type',
    (text) => {
      const e = adminError(() => parseExpiry(text, NOW));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(/^bad expiry/);
    },
  );
});

describe('key references', () => {
  const key = 'lw-AbCdEfGh' + 'x'.repeat(35);
  const rows = [
    { id: 'key_1', name: 'alice', prefix: 'lw-AbCdEfGh', hash: hashApiKey(key) },
    { id: 'key_2', name: 'bob', prefix: 'lw-AbCdZZZZ', hash: 'h2' },
    { id: 'key_3', name: 'key_1', prefix: 'lw-QQQQQQQQ', hash: 'h3' },
  ];

  it('query: exact text, a display prefix cut to 11 chars, and a hash only for full keys', () => {
    expect(keyRefQuery('alice')).toEqual({ exact: 'alice', prefix: null, hash: null });
    expect(keyRefQuery('lw-AbCdEfGh…')).toMatchObject({ prefix: 'lw-AbCdEfGh', hash: null });
    expect(keyRefQuery('lw-AbCdEfGhIJK').prefix).toBe('lw-AbCdEfGh');
    expect(keyRefQuery('lw-Ab').prefix).toBeNull();
    expect(keyRefQuery(key)).toEqual({ exact: key, prefix: 'lw-AbCdEfGh', hash: hashApiKey(key) });
  });

  it('picks by id before name, then the full key, then a unique prefix', () => {
    expect(pickKeyRef('key_1', rows).name).toBe('alice');
    expect(pickKeyRef('bob', rows).id).toBe('key_2');
    expect(pickKeyRef(key, rows).id).toBe('key_1');
    expect(pickKeyRef('lw-AbCdEf', rows).id).toBe('key_1');
    expect(pickKeyRef('lw-AbCdEfGh...', rows).id).toBe('key_1');
  });

  it('an ambiguous prefix is 409 naming the keys; no match is 404', () => {
    const amb = adminError(() => pickKeyRef('lw-AbCd', rows));
    expect([amb.status, amb.message]).toEqual([409, "'lw-AbCd' is ambiguous: it matches 2 keys (alice, bob); use the id or name"]);
    const none = adminError(() => pickKeyRef('carol', rows));
    expect(none.status).toBe(404);
  });

  it('never prints a full key', () => {
    const other = 'lw-ZZZZZZZZ' + 'y'.repeat(35);
    expect(printableRef(other)).toBe('lw-ZZZZZZZZ…');
    expect(adminError(() => pickKeyRef(other, rows)).message).not.toContain(other);
  });
});

describe('provider input', () => {
  it('base URLs: http(s) only, trailing slash dropped, no credentials', () => {
    expect(parseBaseUrl('https://api.openai.com/v1/')).toBe('https://api.openai.com/v1');
    expect(parseBaseUrl('http://127.0.0.1:11434/v1')).toBe('http://127.0.0.1:11434/v1');
    for (const bad of ['', 'api.openai.com', 'ftp://x/v1', 'http://user:pw@host/v1', 'https://h/v1?x=1', 42]) {
      const e = adminError(() => parseBaseUrl(bad));
      expect(e.message).toMatch(/^bad URL/);
      expect(e.message).not.toContain('pw');
    }
  });

  it('api_key_env takes a variable name and refuses anything that looks like a key, without echoing it', () => {
    expect(parseEnvName('OPENAI_API_KEY')).toBe('OPENAI_API_KEY');
    expect(parseEnvName('$GROQ_API_KEY')).toBe('GROQ_API_KEY');
    expect(parseEnvName(undefined)).toBeUndefined();
    expect(parseEnvName(null)).toBeNull();
    expect(parseEnvName('')).toBeNull();
    for (const secret of ['sk-proj-abc123DEF456', 'sk-ant-api03-xyz', 'AIzaSyA1b2C3d4E5f6', 'gsk_abcdef123', 'aB3dE6gH9jK2mN5pQ8sT1vW4']) {
      const e = adminError(() => parseEnvName(secret));
      expect(e.message).toMatch(/NAME of an environment variable, not the key itself/);
      expect(e.message).not.toContain(secret);
    }
    expect(adminError(() => parseEnvName('MY-KEY')).message).toMatch(/bad api_key_env/);
    expect(adminError(() => parseEnvName('1KEY')).message).toMatch(/bad api_key_env/);
  });

  it('headers refuse secrets and bad names', () => {
    expect(parseHeaders({ 'HTTP-Referer': 'https://lw' })).toEqual({ 'HTTP-Referer': 'https://lw' });
    expect(adminError(() => parseHeaders({ authorization: 'Bearer x' })).message).toMatch(/carries a secret/);
    expect(adminError(() => parseHeaders({ 'bad header': 'x' })).message).toMatch(/bad header/);
  });
});

describe('money and lists', () => {
  it('credits are exact pico-dollars; prices micro-dollars per million', () => {
    expect(optCredits('12.5')).toBe(12_500_000_000_000n);
    expect(optCredits(null)).toBeNull();
    expect(optCredits(undefined)).toBeUndefined();
    expect(adminError(() => optCredits('1e3')).message).toMatch(/bad credits/);
    expect(optPrice('0.15', 'price_in')).toBe(150_000n);
    expect(adminError(() => optPrice('0.0000001', 'price_in')).message).toMatch(/too many decimals/);
  });

  it('string lists are trimmed and deduplicated', () => {
    expect(optStringList([' gpt-* ', 'gpt-*', 'claude-*'], 'models')).toEqual(['gpt-*', 'claude-*']);
    expect(adminError(() => optStringList(['ok', ''], 'models')).message).toMatch(/bad models/);
  });
});

describe('misc', () => {
  it('key status: revoked wins, then expiry', () => {
    expect(keyStatus({ status: 'active', expiresAt: null }, NOW)).toBe('active');
    expect(keyStatus({ status: 'active', expiresAt: new Date('2025-05-31T23:59:59Z') }, NOW)).toBe('expired');
    expect(keyStatus({ status: 'revoked', expiresAt: new Date('2025-05-01') }, NOW)).toBe('revoked');
  });

  it('recognises unique violations, raw or wrapped by Drizzle', () => {
    expect(isUniqueViolation({ code: '23505' })).toBe(true);
    expect(isUniqueViolation(new Error('Failed query', { cause: { code: '23505' } }))).toBe(true);
    expect(isUniqueViolation(new Error('x', { cause: { code: '23503' } }))).toBe(false);
  });
});
