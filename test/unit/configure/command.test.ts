/** @module `lw configure` / `lw service install` commands against a fake admin service and temp homes. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { AdminError } from '../../../src/admin/types.js';
import type { AdminService, CreatedKey, KeyView, ModelView } from '../../../src/admin/types.js';
import type { CliContext } from '../../../src/cli/context.js';
import { configureCommand, handleConfigure } from '../../../src/cli/commands/configure.js';
import type { CommandHost, ConfigureDeps, ConfigureReport } from '../../../src/cli/commands/configure.js';
import { handleServiceInstall, serviceCommand } from '../../../src/cli/commands/service.js';
import { readText } from '../../../src/configure/apply.js';
import { ConfigureError } from '../../../src/configure/types.js';
import { tempDir } from './helpers.js';

// The program's context must fit what the factories ask for (compile-time check).
export const contextFits = (ctx: CliContext): CommandHost => ctx;

function view(id: string, over: Partial<ModelView> = {}): ModelView {
  return {
    id,
    kind: 'chat',
    aliases: [],
    deployments: [],
    context_window: 128000,
    max_output: 16384,
    status: 'GA',
    price_in: '0.15',
    price_out: '0.6',
    price_cached_in: null,
    enabled: true,
    ...over,
  };
}

function key(name: string, status: KeyView['status'] = 'active'): KeyView {
  return {
    id: `key_${name}`,
    name,
    prefix: 'lw-ab12',
    tier: 'beta',
    status,
    models: null,
    credits: null,
    rpm: null,
    tpm: null,
    quota_tokens: null,
    max_concurrent: null,
    expires_at: null,
    created_at: '2026-01-01T00:00:00.000Z',
    last_used_at: null,
  };
}

function fakeAdmin(keys: KeyView[] = [], models: ModelView[] = [view('embed-1', { kind: 'embedding' }), view('gpt-4o-mini')]) {
  const calls: string[] = [];
  const admin = {
    keys: {
      async show(ref: string) {
        calls.push(`keys.show ${ref}`);
        const k = keys.find((x) => x.name === ref);
        if (!k) throw new AdminError(`no key matches '${ref}'`, 404);
        return k;
      },
      async create(input: { name: string; tier?: string }): Promise<CreatedKey> {
        calls.push(`keys.create ${input.name} ${input.tier ?? '-'}`);
        return { ...key(input.name), tier: input.tier ?? 'beta', key: 'lw-newsecret' };
      },
    },
    models: {
      async list() {
        calls.push('models.list');
        return models;
      },
    },
  } as unknown as AdminService;
  return { admin, calls };
}

function setup(admin: AdminService, env: NodeJS.ProcessEnv = {}) {
  const home = tempDir();
  const printed: string[] = [];
  const json: unknown[] = [];
  let opened = 0;
  const deps: ConfigureDeps = {
    getAdmin: async () => {
      opened++;
      return admin;
    },
    output: { out: (t) => void printed.push(t), json: (v) => void json.push(v) },
    env: { LW_HOME: join(home, 'lw'), ...env },
    homeDir: home,
    hostname: 'Dev-Box.local',
    now: () => new Date('2026-01-02T03:04:05Z'),
  };
  return { home, deps, printed, json, opened: () => opened };
}

describe('handleConfigure', () => {
  it('creates a key, picks the first chat model and the configured address, writes the file', async () => {
    const { admin, calls } = fakeAdmin();
    const t = setup(admin, { LW_PORT: '9999' });
    const r = await handleConfigure('codex', { tier: 'pro', json: true }, t.deps);
    expect(calls).toEqual(['models.list', 'keys.show codex-dev-box', 'keys.create codex-dev-box pro']);
    expect(t.opened()).toBe(1);
    const path = join(t.home, '.codex', 'config.toml');
    expect(r).toMatchObject({
      client: 'codex',
      dry_run: false,
      base_url: 'http://127.0.0.1:9999/v1',
      model: 'gpt-4o-mini',
      files: [{ path, changed: true, created: true, backup: null }],
      key: { source: 'created', name: 'codex-dev-box', key: 'lw-newsecret' },
    });
    expect(r.instructions[0]).toContain('export LW_API_KEY=lw-newsecret');
    expect(t.json).toEqual([r]);
    expect(readText(path)).toContain('base_url = "http://127.0.0.1:9999/v1"');
    expect(readText(path)).not.toContain('lw-newsecret');
  });

  it('dry run: prints the diff, writes nothing and creates no key', async () => {
    const { admin, calls } = fakeAdmin();
    const t = setup(admin);
    const r = await handleConfigure('zed', { dryRun: true, baseUrl: 'http://gw.lan:8040/' }, t.deps);
    expect(calls).not.toContain('keys.create zed-dev-box -');
    expect(r.key).toEqual({ source: 'would-create', name: 'zed-dev-box', tier: undefined });
    expect(r.files[0]!.diff).toContain('+    "openai_compatible": {');
    expect(t.printed.join('\n')).toMatch(/\+\+\+ .*settings\.json[\s\S]*dry run: nothing written/);
    expect(t.printed.join('\n')).toContain('"api_url": "http://gw.lan:8040/v1"');
    expect(existsSync(join(t.home, '.config'))).toBe(false);
    expect(readdirSync(t.home).filter((d) => d !== 'lw')).toEqual([]);
  });

  it('reuses an existing key without its plaintext, and is idempotent', async () => {
    const { admin, calls } = fakeAdmin([key('zed-dev-box')]);
    const t = setup(admin);
    const first = await handleConfigure('zed', {}, t.deps);
    expect(first.key).toMatchObject({ source: 'reused', prefix: 'lw-ab12' });
    expect(first.instructions[0]).toContain('export LW_API_KEY=<your lw key>');
    expect(t.printed.join('\n')).toContain('lw keys rotate zed-dev-box');
    const second = await handleConfigure('zed', {}, t.deps);
    expect(second.files).toEqual([expect.objectContaining({ changed: false, backup: null })]);
    expect(calls.filter((c) => c.startsWith('keys.create'))).toEqual([]);
  });

  it('with --key and --model it works even when the admin service is down', async () => {
    const t = setup({} as AdminService);
    t.deps.getAdmin = async () => {
      throw new Error('daemon unreachable');
    };
    const r = await handleConfigure('aider', { key: 'lw-given1', model: 'm1', baseUrl: 'http://h:1/v1' }, t.deps);
    expect(r.key).toEqual({ source: 'given' });
    expect(r.instructions.join('\n')).toContain('model catalog unavailable');
    expect(readText(join(t.home, '.aider.conf.yml'))).toContain('model: openai/m1');
  });

  it('refuses what it cannot do, before creating a key', async () => {
    const { admin, calls } = fakeAdmin([key('aider-dev-box'), key('codex-dev-box', 'revoked')]);
    const t = setup(admin);
    await expect(handleConfigure('aider', { writeKey: true }, t.deps)).rejects.toThrow(/--write-key needs/);
    await expect(handleConfigure('codex', {}, t.deps)).rejects.toThrow(/is revoked/);
    await expect(handleConfigure('codex', { writeKey: true, key: 'lw-x' }, t.deps)).rejects.toThrow(ConfigureError);
    await expect(handleConfigure('codex', { key: 'sk-nope' }, t.deps)).rejects.toThrow(/lw-/);
    const empty = setup(fakeAdmin([], []).admin);
    await expect(handleConfigure('zed', {}, empty.deps)).rejects.toThrow(/no enabled chat model/);
    expect(calls.filter((c) => c.startsWith('keys.create'))).toEqual([]);
  });
});

function host(admin: AdminService, env: NodeJS.ProcessEnv) {
  const lines: string[] = [];
  const json: unknown[] = [];
  let closed = 0;
  const h: CommandHost = {
    env,
    output: (cmd: Command) => {
      const isJson = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      return {
        line: (text = '') => void (isJson ? undefined : lines.push(text)),
        json: (v: unknown) => void (isJson ? json.push(v) : undefined),
      };
    },
    open: async () => ({ service: admin, close: async () => void closed++ }),
  };
  return { h, lines, json, closed: () => closed };
}

function program(...commands: Command[]): Command {
  const p = new Command('lw').option('--json').option('--url <url>').exitOverride();
  for (const c of commands) p.addCommand(c);
  return p;
}

describe('configureCommand / serviceCommand', () => {
  it('parses options, honours the global --json and closes the backend', async () => {
    const home = tempDir();
    const { h, json, closed } = host(fakeAdmin().admin, { HOME: home, LW_HOME: join(home, 'lw') });
    await program(configureCommand(h)).parseAsync(
      ['--json', 'configure', 'codex', '--key', 'lw-k', '--model', 'gpt-4o-mini', '--profile', 'lw', '--dry-run'],
      { from: 'user' },
    );
    const report = json[0] as ConfigureReport;
    expect(report).toMatchObject({ client: 'codex', dry_run: true, key: { source: 'given' } });
    expect(report.files[0]!.path).toBe(join(home, '.codex', 'lw.config.toml'));
    expect(closed()).toBe(1);
    await expect(program(configureCommand(h)).parseAsync(['configure', 'vim'], { from: 'user' })).rejects.toThrow();
  });

  it('the global --url is the default base URL', async () => {
    const home = tempDir();
    const { h, lines } = host(fakeAdmin().admin, { HOME: home });
    await program(configureCommand(h)).parseAsync(
      ['configure', 'aider', '--url', 'https://gw.example.com', '--key', 'lw-k', '--dry-run'],
      { from: 'user' },
    );
    expect(lines.join('\n')).toContain('+openai-api-base: https://gw.example.com/v1');
  });

  it('service install --user writes the unit and env file', async () => {
    const home = tempDir();
    const { h, lines } = host({} as AdminService, { HOME: home, LW_HOME: '/data/lw' });
    await program(serviceCommand(h, { execArgv: ['/usr/bin/lw'] })).parseAsync(['service', 'install', '--user'], {
      from: 'user',
    });
    const unit = readText(join(home, '.config', 'systemd', 'user', 'lw.service'));
    expect(unit).toContain('ExecStart=/usr/bin/lw serve');
    expect(unit).toContain('Environment=LW_HOME=/data/lw');
    expect(existsSync(join(home, '.config', 'lw', 'lw.env'))).toBe(true);
    expect(lines.join('\n')).toContain('systemctl --user daemon-reload && systemctl --user enable --now lw');
  });

  it('a system unit needs root unless it is a dry run', async () => {
    const output = { out: () => {}, json: () => {} };
    const deps = { output, env: {}, homeDir: '/h', execArgv: ['/usr/bin/lw'], isRoot: () => false };
    await expect(handleServiceInstall({}, deps)).rejects.toThrow(/sudo/);
    const r = await handleServiceInstall({ dryRun: true, runAs: 'lw' }, deps);
    expect(r.files.map((f) => f.path)).toEqual(['/etc/systemd/system/lw.service', '/etc/lw/lw.env']);
    expect(r.files[0]!.diff).toContain('+User=lw');
  });
});
