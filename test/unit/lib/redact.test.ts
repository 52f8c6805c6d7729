import { describe, expect, it } from 'vitest';
import { createLogger, redact } from '../../../src/lib/log.js';

describe('redact', () => {
  it('hides lw keys, bearer tokens and provider keys in free text', () => {
    expect(redact('key lw-abcdefghijklmnopqrstuvwxyz0123 failed')).toBe('key lw-*** failed');
    expect(redact('Authorization: Bearer sk-proj-abc.def_ghi')).toBe('Authorization: Bearer ***');
    expect(redact('authorization: bearer abc123')).toBe('authorization: bearer ***');
    expect(redact('upstream said sk-ant-api03-abcdefgh1234 is bad')).toBe('upstream said sk-*** is bad');
    expect(redact('pk-12345678abcd')).toBe('pk-***');
  });

  it('returns ordinary text untouched (the fast path) and the same string object', () => {
    const s = 'req_3f2a1b0c9d8e1a model gpt-4o-mini provider openai status 200';
    expect(redact(s)).toBe(s);
  });

  it('applies to every string field of a log line, and hides secret-named fields', () => {
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l));
    log.info('request', { request_id: 'req_1', error: 'Bearer lw-abcdefghijklmnopqrstuvwxyz0123', authorization: 'x', status: 200 });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.request_id).toBe('req_1');
    expect(line.error).toMatch(/^Bearer \*+$/);
    expect(line.authorization).toBe('***');
    expect(lines[0]).not.toContain('lw-abcdefghij');
  });
});
