/**
 * @module What `lw configure codex` writes, loaded by the real codex 0.169 binary: `codex
 * --strict-config doctor --json` parses config.toml and reports unknown keys without a model call.
 * Nothing leaves loopback: every proxy variable points at a local socket that answers 502, and
 * the provider's base URL is that socket too.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, readText } from '../../src/configure/apply.js';
import { planCodex } from '../../src/configure/codex.js';
import { MODELS, fixture } from '../unit/configure/helpers.js';
import { runProcess } from '../helpers/process.js';

const CODEX = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'codex');
const available = existsSync(CODEX);
if (!available) console.warn('skipping configure-codex-strict: node_modules/.bin/codex is not installed');

let server: Server;
let port = 0;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((socket) => {
    socket.once('data', (d) => {
      seen.push(d.toString('latin1').split('\r\n')[0] ?? '');
      socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs codex with a private HOME/CODEX_HOME and all traffic forced onto the loopback socket. */
function codex(home: string, args: string[]): Promise<Run> {
  const proxy = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: join(home, 'home'),
    CODEX_HOME: join(home, 'codex'),
    LW_API_KEY: 'lw-test123',
    HTTPS_PROXY: proxy,
    HTTP_PROXY: proxy,
    ALL_PROXY: proxy,
    https_proxy: proxy,
    http_proxy: proxy,
    all_proxy: proxy,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
  return runProcess(CODEX, args, { env, cwd: home, timeout: 25_000 });
}

interface Check {
  status: string;
  details: Record<string, unknown>;
}

async function doctor(home: string): Promise<Record<string, Check>> {
  const r = await codex(home, ['--strict-config', 'doctor', '--json', '-c', 'check_for_update_on_startup=false']);
  const report = JSON.parse(r.stdout) as { checks: Record<string, Check> };
  return report.checks;
}

/** A temp CODEX_HOME holding `before` (or nothing), configured by lw's planner + apply step. */
function configure(before: string | null, profile?: string): string {
  const home = mkdtempSync(join(tmpdir(), 'lw-codex-'));
  mkdirSync(join(home, 'home'));
  mkdirSync(join(home, 'codex'));
  if (before !== null) writeFileSync(join(home, 'codex', 'config.toml'), before);
  const input = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model: 'gpt-4o-mini',
    models: MODELS,
    env: { CODEX_HOME: join(home, 'codex') },
    homeDir: join(home, 'home'),
  };
  applyPlan(planCodex(input, readText, { profile }));
  return home;
}

function expectLoaded(checks: Record<string, Check>): void {
  const load = checks['config.load']!;
  expect(load.details['error']).toBeUndefined();
  expect(load.details['startup warning']).toBeUndefined(); // no unrecognised key
  expect(load.status).toBe('ok');
  expect(load.details['model']).toBe('gpt-4o-mini');
  expect(load.details['model provider']).toBe('lw');
  expect(checks['auth.credentials']!.details['provider auth env var']).toBe('LW_API_KEY (present)');
  expect(checks['network.websocket_reachability']!.details['wire API']).toBe('responses');
}

describe.skipIf(!available)('codex 0.169 loads what lw configure codex writes', () => {
  const cases: Record<string, string | null> = {
    'no config.toml': null,
    'comments, other providers, profiles, MCP servers': fixture('codex', 'rich.before.toml'),
    'tables only (top-level keys above the first header)': fixture('codex', 'tables-only.before.toml'),
    'an lw provider pointing elsewhere': fixture('codex', 'existing-lw.before.toml'),
  };

  for (const [name, before] of Object.entries(cases)) {
    it(name, async () => {
      // The MCP server command is never started by `doctor`; make sure it could not reach npm anyway.
      const home = configure(before?.replace('command = "npx"', 'command = "true"') ?? null);
      expectLoaded(await doctor(home));
    });
  }

  it('the same check rejects an unknown key and a removed wire API', async () => {
    const home = configure(null);
    const path = join(home, 'codex', 'config.toml');
    writeFileSync(path, readText(path)!.replace('model_provider = "lw"', 'model_provider = "lw"\nbogus_key = 1'));
    const warned = (await doctor(home))['config.load']!;
    expect(warned.status).toBe('warning');
    expect(String(warned.details['startup warning'])).toContain('bogus_key');

    writeFileSync(path, readText(path)!.replace('wire_api = "responses"', 'wire_api = "chat"'));
    expect((await doctor(home))['config.load']!.status).toBe('fail');
  });

  it('--profile: `codex -p lw` finds the provider in lw.config.toml', async () => {
    const home = configure('# base config\napproval_policy = "on-request"\n', 'lw');
    expect(readText(join(home, 'codex', 'config.toml'))).toBe('# base config\napproval_policy = "on-request"\n');
    const ok = await codex(home, ['-p', 'lw', 'debug', 'prompt-input', 'hi']);
    expect(ok.stderr).not.toMatch(/Error/);
    expect(ok.code).toBe(0);
    // Control: without the provider table the same command fails.
    writeFileSync(join(home, 'codex', 'lw2.config.toml'), 'model = "gpt-4o-mini"\nmodel_provider = "lw"\n');
    const broken = await codex(home, ['-p', 'lw2', 'debug', 'prompt-input', 'hi']);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain('Model provider `lw` not found');
  });

  it('stayed on loopback', () => {
    for (const line of seen) expect(line).toMatch(/^(CONNECT [^ ]+ HTTP\/1\.1|[A-Z]+ \/v1\/\S* HTTP\/1\.1)$/);
  });
});
