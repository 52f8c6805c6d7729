import { describe, expect, it } from 'vitest';
import { runCli } from './fake-admin.js';

describe('lw tiers', () => {
  it('list --json is the TierView array; plain is an aligned table', async () => {
    const json = await runCli(['tiers', 'list', '--json']);
    const tiers = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(tiers.map((t) => t['name'])).toEqual(['beta', 'pro', 'enterprise']);
    expect(tiers[0]).toMatchObject({ rpm: 60, is_default: true, quota_period: 'month' });
    const plain = await runCli(['tiers', 'list']);
    expect(plain.stdout).toBe(
      [
        'NAME                  RPM        TPM      QUOTA  CONCURRENT  MODELS',
        'beta (default)         60  unlimited  unlimited   unlimited  all',
        'pro                   250  unlimited  unlimited   unlimited  all',
        'enterprise      unlimited  unlimited  unlimited   unlimited  all',
        '',
      ].join('\n'),
    );
  });

  it('create maps every flag to the service input', async () => {
    const r = await runCli([
      'tiers', 'create', 'team', '--rpm', '120', '--tpm', '200,000', '--monthly-tokens', '5000000',
      '--period', 'week', '--max-concurrent', '4', '--models', 'gpt-*,claude-*', '--default', '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.service.calls[0]).toEqual([
      'tiers.create',
      ['team', { rpm: 120, tpm: 200_000, quota_tokens: 5_000_000, quota_period: 'week', max_concurrent: 4, models: ['gpt-*', 'claude-*'], is_default: true }],
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'team', rpm: 120, quota_period: 'week' });
  });

  it('create requires --rpm (usage error) and rejects a bad period', async () => {
    const missing = await runCli(['tiers', 'create', 'team']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--rpm <n>'");
    const period = await runCli(['tiers', 'create', 'team', '--rpm', '1', '--period', 'year']);
    expect(period.code).toBe(1);
    expect(period.stderr.split('\n')[0]).toMatch(/^error: invalid --period: /);
  });

  it('set accepts unlimited and * and refuses an empty change', async () => {
    const r = await runCli(['tiers', 'set', 'pro', '--rpm', 'unlimited', '--models', '*']);
    expect(r.code).toBe(0);
    expect(r.service.calls[0]).toEqual(['tiers.set', ['pro', { rpm: null, models: [] }]]);
    expect(r.stdout).toContain('updated tier pro');
    const none = await runCli(['tiers', 'set', 'pro']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: nothing to change/);
  });

  it('delete prints the result; an unknown tier fails with one line', async () => {
    const ok = await runCli(['tiers', 'delete', 'pro', '--json']);
    expect(JSON.parse(ok.stdout)).toEqual({ deleted: 'pro' });
    const missing = await runCli(['tiers', 'delete', 'gold']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("error: unknown tier 'gold'\n");
  });

  it('--rpm abc is one line and exit 1', async () => {
    const r = await runCli(['tiers', 'create', 'x', '--rpm', 'abc']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: invalid --rpm: expected a whole number like 60, or 'none'\nhint: see --help for the accepted values\n");
    expect(r.opened).toBe(0);
  });

  it('--help has examples for every subcommand', async () => {
    for (const sub of ['list', 'create', 'set', 'delete']) {
      const r = await runCli(['tiers', sub, '--help']);
      expect(r.stdout).toContain(`Examples:\n  $ lw tiers ${sub}`);
    }
  });
});
