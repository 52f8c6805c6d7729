/**
 * splitAgentPath: the key carried in `/api/agent/{key}/…` URLs, decoded, and never a throw (it runs
 * inside the server's request event, where one would end the process).
 */
import { describe, expect, it } from 'vitest';
import { splitAgentPath } from '../../../src/daemon/auth.js';

describe('splitAgentPath', () => {
  it('splits the key from the path and decodes it', () => {
    expect(splitAgentPath('/api/agent/lw-abc/v1/chat/completions?x=1')).toEqual({ key: 'lw-abc', path: '/v1/chat/completions?x=1' });
    expect(splitAgentPath('/api/agent/lw%2Dabc/v1/models')).toEqual({ key: 'lw-abc', path: '/v1/models' });
  });

  it('is null for other shapes', () => {
    expect(splitAgentPath('/v1/chat/completions')).toBeNull();
    expect(splitAgentPath('/api/agent/lw-abc')).toBeNull();
    expect(splitAgentPath('/api/agent//v1/models')).toBeNull();
  });

  it('keeps a malformed percent-encoding as sent instead of throwing', () => {
    expect(splitAgentPath('/api/agent/%E0%A4%A/v1/chat/completions')).toEqual({ key: '%E0%A4%A', path: '/v1/chat/completions' });
  });
});
