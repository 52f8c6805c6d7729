import { describe, expect, it } from 'vitest';
import { fakeAdmin, runCli } from './fake-admin.js';

describe('lw keys', () => {
  it('create --json prints the SPEC shape with the plaintext key once', async () => {
    const r = await runCli(['keys', 'create', '--name', 'alice', '--tier', 'pro', '--models', 'a, b', '--credits', '5', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const created = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(created).toMatchObject({ name: 'alice', tier: 'pro', models: ['a', 'b'], credits: '5' });
    for (const f of ['id', 'name', 'prefix', 'tier', 'key']) expect(created).toHaveProperty(f);
    expect(String(created['key'])).toMatch(/^lw-/);
    expect(r.service.calls[0]).toEqual(['keys.create', [{ name: 'alice', tier: 'pro', models: ['a', 'b'], credits: '5' }]]);
    expect([r.opened, r.closed]).toEqual([1, 1]);
  });

  it('create in plain text prints a key: line and the warning, no ANSI', async () => {
    const r = await runCli(['keys', 'create', '--name', 'bob']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created key bob \(tier beta, id key_1\)\nkey: lw-\S+\nstore it now, it will not be shown again\n$/);
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('create on a TTY renders the KeyReveal', async () => {
    const r = await runCli(['keys', 'create', '--name', 'carol'], { isTTY: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Created key carol');
    expect(r.stdout).toMatch(/lw-0+1x+/);
    expect(r.stdout).toContain('Store it now, it will not be shown again.');
  });

  it('create without --name is a usage error (exit 2, one line)', async () => {
    const r = await runCli(['keys', 'create']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("required option '--name <name>'");
  });

  it('create with bad credits fails before opening the store', async () => {
    const r = await runCli(['keys', 'create', '--name', 'x', '--credits', 'lots']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: invalid --credits: expected an amount in USD/);
    expect(r.opened).toBe(0);
  });

  it('list --json is an array with the SPEC fields; plain is a table; both agree', async () => {
    const service = fakeAdmin();
    await service.keys.create({ name: 'alice' });
    await service.keys.create({ name: 'bob', tier: 'pro' });
    const json = await runCli(['keys', 'list', '--json'], { service });
    const list = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(2);
    for (const f of ['id', 'name', 'prefix', 'tier', 'status', 'created_at', 'last_used_at']) {
      expect(list[0]).toHaveProperty(f);
    }
    expect(JSON.stringify(list)).not.toMatch(/lw-\w{20,}/);
    const plain = await runCli(['keys', 'list'], { service });
    expect(plain.stdout).toBe(
      [
        'NAME   PREFIX        TIER  STATUS  CREATED           LAST USED',
        'alice  lw-00000001…  beta  active  2025-01-02 03:04  never',
        'bob    lw-00000002…  pro   active  2025-01-02 03:04  never',
        '',
      ].join('\n'),
    );
  });

  it('list with no keys says how to create one', async () => {
    const r = await runCli(['keys', 'list']);
    expect(r.stdout).toContain('no keys yet');
  });

  it('show, revoke and rotate reach the service by name', async () => {
    const service = fakeAdmin();
    await service.keys.create({ name: 'alice' });
    const show = await runCli(['keys', 'show', 'alice'], { service });
    expect(show.stdout).toMatch(/^id: +key_1$/m);
    expect(show.stdout).toMatch(/^rpm: +from tier$/m);
    const revoke = await runCli(['keys', 'revoke', 'alice', '--json'], { service });
    expect(JSON.parse(revoke.stdout)).toMatchObject({ name: 'alice', status: 'revoked' });
    const plainRevoke = await runCli(['keys', 'revoke', 'alice'], { service });
    expect(plainRevoke.stdout).toBe('revoked key alice (lw-00000001…)\n');
    const rotate = await runCli(['keys', 'rotate', 'alice', '--json'], { service });
    expect(JSON.parse(rotate.stdout)).toMatchObject({ name: 'alice', key: expect.stringMatching(/^lw-00000002/) });
  });

  it('set maps flags to the service fields, with none → null', async () => {
    const service = fakeAdmin();
    await service.keys.create({ name: 'alice' });
    const r = await runCli(
      ['keys', 'set', 'alice', '--rpm', '10', '--tpm', 'none', '--monthly-tokens', '1_000_000', '--max-concurrent', '2', '--models', 'none', '--credits', '1.50', '--expires', '30d'],
      { service },
    );
    expect(r.code).toBe(0);
    expect(service.calls.at(-1)).toEqual([
      'keys.set',
      ['alice', { rpm: 10, tpm: null, quota_tokens: 1_000_000, max_concurrent: 2, models: null, credits: '1.50', expires: '30d' }],
    ]);
    expect(r.stdout).toContain('updated key alice');
  });

  it('set with nothing to change or a bad number fails with one line', async () => {
    const service = fakeAdmin();
    await service.keys.create({ name: 'alice' });
    const none = await runCli(['keys', 'set', 'alice'], { service });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: nothing to change\nhint: /);
    const bad = await runCli(['keys', 'set', 'alice', '--rpm', 'abc'], { service });
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe("error: invalid --rpm: expected a whole number like 60, or 'none'");
  });

  it('an unknown key is a one-line error with exit 1', async () => {
    const r = await runCli(['keys', 'revoke', 'nobody']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: no key matches 'nobody'\n");
    expect(r.stdout).toBe('');
    expect(r.closed).toBe(1);
  });

  it('--help shows examples', async () => {
    for (const sub of ['create', 'list', 'show', 'revoke', 'rotate', 'set']) {
      const r = await runCli(['keys', sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain(`$ lw keys ${sub}`);
    }
  });
});
