import { describe, expect, it } from 'vitest';
import { fakeAdmin, runCli } from './fake-admin.js';

describe('lw providers', () => {
  it('add maps flags (repeatable --header, $VAR accepted) and prints the view as JSON', async () => {
    const r = await runCli([
      'providers', 'add', 'openrouter', '--kind', 'openai', '--base-url', 'https://openrouter.ai/api/v1',
      '--api-key-env', '$OPENROUTER_API_KEY', '--header', 'X-Title=lw', '--header', 'HTTP-Referer=https://x.y/a=b',
      '--responses', '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.service.calls[0]).toEqual([
      'providers.add',
      [{
        name: 'openrouter',
        kind: 'openai',
        base_url: 'https://openrouter.ai/api/v1',
        api_key_env: 'OPENROUTER_API_KEY',
        headers: { 'X-Title': 'lw', 'HTTP-Referer': 'https://x.y/a=b' },
        supports_responses: true,
      }],
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'openrouter', api_key_present: false });
  });

  it('add in plain text confirms and warns on stderr when the key variable is unset', async () => {
    const r = await runCli(['providers', 'add', 'openai', '--api-key-env', 'OPENAI_API_KEY']);
    expect(r.stdout).toBe('added provider openai (openai, https://api.openai.com/v1)\n');
    expect(r.stderr).toBe('warning: OPENAI_API_KEY is not set here; export it where lw serve runs\n');
  });

  it('refuses a bad URL, an unknown kind, a key given as --api-key-env, a header without =', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--base-url', 'ftp://x'], /^error: invalid --base-url: expected an http\(s\) URL/],
      [['--kind', 'gemini'], /^error: invalid --kind: /],
      [['--api-key-env', 'sk-abc123'], /^error: invalid --api-key-env: expected an environment variable NAME/],
      [['--header', 'nope'], /^error: invalid --header: expected NAME=VALUE/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['providers', 'add', 'p', ...flags]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('sk-abc123');
      expect(r.opened).toBe(0);
    }
  });

  it('list: JSON array and a plain table with the key status', async () => {
    const service = fakeAdmin();
    await service.providers.add({ name: 'openai', api_key_env: 'OPENAI_API_KEY' });
    const json = await runCli(['providers', 'list', '--json'], { service });
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ name: 'openai', kind: 'openai' })]);
    const plain = await runCli(['providers', 'list'], { service });
    expect(plain.stdout.split('\n')[0]).toMatch(/^NAME +KIND +BASE URL +API KEY +RESPONSES +ENABLED$/);
    expect(plain.stdout).toContain('OPENAI_API_KEY (not set)');
  });

  it('remove warns about models left without a deployment', async () => {
    const service = fakeAdmin();
    await service.providers.add({ name: 'openai' });
    await service.models.add({ id: 'gpt-4o', provider: 'openai' });
    const r = await runCli(['providers', 'remove', 'openai'], { service });
    expect(r.stdout).toBe('removed provider openai\n');
    expect(r.stderr).toContain('no deployment left for: gpt-4o');
    const json = await runCli(['providers', 'remove', 'openai', '--json'], { service });
    expect(json.code).toBe(1);
    expect(json.stderr).toBe("error: unknown provider 'openai'\n");
  });

  it('test: ok prints status; a failing provider prints its JSON and exits 1 with a reason', async () => {
    const service = fakeAdmin();
    await service.providers.add({ name: 'openai' });
    await service.providers.add({ name: 'down' });
    const ok = await runCli(['providers', 'test', 'openai'], { service });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('openai: ok (HTTP 200, 12 ms)\nmodels: m1, m2\n');
    const down = await runCli(['providers', 'test', 'down', '--json'], { service });
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout)).toMatchObject({ provider: 'down', ok: false });
    expect(down.stderr).toBe('error: down: connection refused by http://127.0.0.1:9\n');
  });

  it('--help has examples', async () => {
    for (const sub of ['add', 'list', 'remove', 'test']) {
      const r = await runCli(['providers', sub, '--help']);
      expect(r.stdout).toContain(`Examples:\n  $ lw providers ${sub}`);
    }
  });
});
