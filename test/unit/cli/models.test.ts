import { describe, expect, it } from 'vitest';
import { fakeAdmin, runCli } from './fake-admin.js';

async function withProvider() {
  const service = fakeAdmin();
  await service.providers.add({ name: 'openai' });
  return service;
}

describe('lw models', () => {
  it('add maps every flag; --json prints the model', async () => {
    const service = await withProvider();
    const r = await runCli(
      [
        'models', 'add', 'gpt-4o-mini', '--provider', 'openai', '--upstream-model', 'gpt-4o-mini-2024-07-18',
        '--alias', 'mini,small', '--context', '128000', '--max-output', '16384', '--price-in', '0.15',
        '--price-out', '0.60', '--price-cached-in', '0.075', '--json',
      ],
      { service },
    );
    expect(r.code).toBe(0);
    expect(service.calls.at(-1)).toEqual([
      'models.add',
      [{
        id: 'gpt-4o-mini', provider: 'openai', upstream_model: 'gpt-4o-mini-2024-07-18', aliases: ['mini', 'small'],
        context_window: 128_000, max_output: 16_384, price_in: '0.15', price_out: '0.60', price_cached_in: '0.075',
      }],
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'gpt-4o-mini', aliases: ['mini', 'small'], added: 'model' });
  });

  it('add of an existing id says a deployment was added; no price warns', async () => {
    const service = await withProvider();
    await service.providers.add({ name: 'azure' });
    await runCli(['models', 'add', 'gpt-4o', '--provider', 'openai'], { service });
    const r = await runCli(['models', 'add', 'gpt-4o', '--provider', 'azure', '--embedding'], { service });
    expect(r.stdout.split('\n')[0]).toBe('added deployment azure/gpt-4o to gpt-4o');
    expect(r.stderr).toBe('warning: gpt-4o has no price: its usage will not be billed\n');
    expect(service.calls.at(-1)?.[1]).toEqual([{ id: 'gpt-4o', provider: 'azure', kind: 'embedding' }]);
  });

  it('add validates numbers and prices before the store opens', async () => {
    const context = await runCli(['models', 'add', 'm', '--provider', 'p', '--context', '128k']);
    expect(context.code).toBe(1);
    expect(context.stderr.split('\n')[0]).toBe('error: invalid --context: expected a whole number like 60');
    const price = await runCli(['models', 'add', 'm', '--provider', 'p', '--price-in', '$1']);
    expect(price.stderr.split('\n')[0]).toBe('error: invalid --price-in: expected an amount in USD like 12.50');
    expect(price.opened).toBe(0);
    const missing = await runCli(['models', 'add', 'm']);
    expect(missing.code).toBe(2);
  });

  it('list: JSON and a plain table; alias, disable, enable, remove', async () => {
    const service = await withProvider();
    await service.models.add({ id: 'gpt-4o', provider: 'openai', price_in: '2.5', price_out: '10' });
    const alias = await runCli(['models', 'alias', 'gpt-4o', 'omni', '--json'], { service });
    expect(JSON.parse(alias.stdout)).toMatchObject({ aliases: ['omni'] });
    const disable = await runCli(['models', 'disable', 'gpt-4o'], { service });
    expect(disable.stdout.split('\n')[0]).toBe('disabled model gpt-4o');
    const plain = await runCli(['models', 'list'], { service });
    expect(plain.stdout).toMatch(/^ID +KIND +DEPLOYMENTS +ALIASES +CONTEXT +PRICE IN\/OUT \(1M\) +STATUS$/m);
    expect(plain.stdout).toMatch(/^gpt-4o +chat +openai\/gpt-4o +omni +- +\$2\.5 \/ \$10 +disabled$/m);
    const enable = await runCli(['models', 'enable', 'gpt-4o', '--json'], { service });
    expect(JSON.parse(enable.stdout)).toMatchObject({ enabled: true });
    const list = await runCli(['models', 'list', '--json'], { service });
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(1);
    const remove = await runCli(['models', 'remove', 'gpt-4o'], { service });
    expect(remove.stdout).toBe('removed model gpt-4o\n');
    const again = await runCli(['models', 'remove', 'gpt-4o'], { service });
    expect([again.code, again.stderr]).toEqual([1, "error: unknown model 'gpt-4o'\n"]);
  });

  it('sync prints what was added, updated and skipped; --json prints the result', async () => {
    const service = await withProvider();
    const plain = await runCli(['models', 'sync', 'openai'], { service });
    expect(plain.code).toBe(0);
    expect(plain.stdout.split('\n')).toEqual([
      'synced openai: 2 added, 1 updated, 1 skipped',
      'added: m1, m2',
      'updated: gpt-4o',
      'skipped: whisper-1',
      '',
    ]);
    const r = await runCli(['models', 'sync', 'openai', '--json'], { service });
    expect(JSON.parse(r.stdout)).toEqual({ provider: 'openai', added: ['m1', 'm2'], updated: ['gpt-4o'], skipped: ['whisper-1'] });
    const unknown = await runCli(['models', 'sync', 'nope'], { service });
    expect([unknown.code, unknown.stderr]).toEqual([1, "error: unknown provider 'nope'\n"]);
  });

  it('--help has examples', async () => {
    for (const sub of ['list', 'add', 'alias', 'remove', 'enable', 'disable', 'sync']) {
      const r = await runCli(['models', sub, '--help']);
      expect(r.stdout).toContain(`Examples:\n  $ lw models ${sub}`);
    }
  });
});
