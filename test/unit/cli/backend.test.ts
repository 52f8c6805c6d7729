import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminError } from '../../../src/admin/types.js';
import { getAdmin, guardRemote } from '../../../src/cli/backend.js';
import { CliError } from '../../../src/cli/errors.js';
import { fakeAdmin } from './fake-admin.js';

describe('backend selection', () => {
  it('--url without a token (flag, env or local file) says how to pass one', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lw-cli-'));
    try {
      await expect(getAdmin({ url: 'http://127.0.0.1:9' }, { env: { LW_HOME: home } })).rejects.toMatchObject({
        name: 'CliError',
        message: 'no admin token for http://127.0.0.1:9',
        hint: expect.stringContaining('--admin-key'),
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a bad --url is a usage error', async () => {
    await expect(getAdmin({ url: 'not a url', adminKey: 't' }, { env: {} })).rejects.toMatchObject({ exitCode: 2 });
  });

  it('--url with a token gives a remote backend (no store opened)', async () => {
    const b = await getAdmin({ url: 'http://127.0.0.1:9/', adminKey: 't' }, { env: {} });
    expect(b.mode).toBe('remote');
    expect(b.location).toBe('http://127.0.0.1:9');
    expect(b.embedded).toBe(false);
    await b.close();
  });

  it('a non-Postgres database URL is refused with its password hidden', async () => {
    const err = await getAdmin({ db: 'mysql://u:secret@h/db' }, { env: { LW_HOME: '/nonexistent' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).not.toContain('secret');
  });
});

describe('guardRemote', () => {
  it('turns a refused connection into a sentence naming the daemon', async () => {
    const inner = fakeAdmin();
    inner.keys.list = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    };
    const guarded = guardRemote(inner, 'http://127.0.0.1:8040');
    await expect(guarded.keys.list()).rejects.toMatchObject({
      message: 'cannot reach the lw daemon at http://127.0.0.1:8040 (ECONNREFUSED)',
      hint: expect.stringContaining('lw serve'),
    });
  });

  it('passes results and admin errors through unchanged', async () => {
    const inner = fakeAdmin();
    const guarded = guardRemote(inner, 'http://x');
    expect(await guarded.tiers.list()).toHaveLength(3);
    await expect(guarded.tiers.delete('gold')).rejects.toBeInstanceOf(AdminError);
  });
});
