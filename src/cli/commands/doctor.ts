/**
 * @module `lw doctor`: checks the config, the store, the daemon, every provider (key variable and a
 * live `GET /models`), the catalog, the keys and the client files `lw configure` wrote, each with what
 * to fix. Exits 1 when a check fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { Command } from 'commander';
import { parse as parseJsonc } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { readDaemonInfo } from '../../admin/daemon-info.js';
import type { AdminService } from '../../admin/types.js';
import { aiderPaths } from '../../configure/aider.js';
import { codexHome } from '../../configure/codex.js';
import { zedSettingsPath } from '../../configure/zed.js';
import { loadConfig } from '../../lib/config.js';
import { lwPaths, resolveHome } from '../../lib/paths.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { examples } from '../help.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface Check {
  area: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export interface DoctorDeps {
  env: NodeJS.ProcessEnv;
  homeDir: string;
  open(): Promise<{ service: AdminService; location: string; mode: string; close(): Promise<void> }>;
  fetchImpl?: typeof fetch;
}

function clientChecks(env: NodeJS.ProcessEnv, homeDir: string): Check[] {
  const out: Check[] = [];
  const codexFile = `${codexHome(env, homeDir)}/config.toml`;
  if (!existsSync(codexFile)) {
    out.push({ area: 'codex', status: 'info', detail: 'not configured', fix: 'lw configure codex' });
  } else {
    try {
      const t = parseToml(readFileSync(codexFile, 'utf8')) as { model_provider?: string; model_providers?: Record<string, { wire_api?: string; env_key?: string; base_url?: string }> };
      const p = t.model_providers?.['lw'];
      if (!p) out.push({ area: 'codex', status: 'warn', detail: `${codexFile} has no [model_providers.lw]`, fix: 'lw configure codex' });
      else if (p.wire_api !== 'responses') out.push({ area: 'codex', status: 'fail', detail: 'model_providers.lw.wire_api must be "responses"', fix: 'lw configure codex' });
      else if (p.env_key && !env[p.env_key]) out.push({ area: 'codex', status: 'warn', detail: `codex reads the key from ${p.env_key}, which is not set here`, fix: `export ${p.env_key}=lw-…` });
      else out.push({ area: 'codex', status: 'ok', detail: `${codexFile} → ${p.base_url ?? '?'}${t.model_provider === 'lw' ? '' : ' (not selected: model_provider is ' + String(t.model_provider) + ')'}` });
    } catch (e) {
      out.push({ area: 'codex', status: 'fail', detail: `${codexFile} is not valid TOML: ${(e as Error).message}`, fix: 'fix the file or restore its .bak' });
    }
  }
  const zedFile = zedSettingsPath(env, homeDir);
  if (!existsSync(zedFile)) {
    out.push({ area: 'zed', status: 'info', detail: 'not configured', fix: 'lw configure zed' });
  } else {
    const s = parseJsonc(readFileSync(zedFile, 'utf8')) as { language_models?: { openai_compatible?: Record<string, { api_url?: string }> } } | undefined;
    const lw = s?.language_models?.openai_compatible?.['lw'];
    out.push(
      lw
        ? { area: 'zed', status: env['LW_API_KEY'] ? 'ok' : 'warn', detail: `${zedFile} → ${lw.api_url ?? '?'}${env['LW_API_KEY'] ? '' : ' (LW_API_KEY is not set for Zed)'}` }
        : { area: 'zed', status: 'info', detail: `${zedFile} has no lw provider`, fix: 'lw configure zed' },
    );
  }
  const aider = aiderPaths(homeDir).conf;
  if (!existsSync(aider)) {
    out.push({ area: 'aider', status: 'info', detail: 'not configured', fix: 'lw configure aider' });
  } else {
    const y = (parseYaml(readFileSync(aider, 'utf8')) ?? {}) as Record<string, unknown>;
    const base = y['openai-api-base'];
    out.push(
      typeof base === 'string'
        ? { area: 'aider', status: 'ok', detail: `${aider} → ${base}` }
        : { area: 'aider', status: 'info', detail: `${aider} has no openai-api-base`, fix: 'lw configure aider' },
    );
  }
  return out;
}

export async function runDoctor(deps: DoctorDeps): Promise<Check[]> {
  const checks: Check[] = [];
  const fetchImpl = deps.fetchImpl ?? fetch;
  try {
    const cfg = loadConfig({}, deps.env);
    checks.push({ area: 'config', status: 'ok', detail: `listen ${cfg.host}:${cfg.port}, store ${cfg.databaseUrl ? 'postgres' : 'embedded'}` });
  } catch (e) {
    checks.push({ area: 'config', status: 'fail', detail: (e as Error).message, fix: 'fix lw.toml or the LW_* variables' });
  }
  const info = readDaemonInfo(lwPaths(resolveHome(deps.env)).daemonInfo);
  if (info) {
    const ready = await fetchImpl(`${info.url}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    checks.push(ready ? { area: 'daemon', status: 'ok', detail: `running at ${info.url} (pid ${info.pid})` } : { area: 'daemon', status: 'warn', detail: `daemon.json names ${info.url} but it does not answer`, fix: 'lw serve' });
  } else {
    checks.push({ area: 'daemon', status: 'info', detail: 'no daemon running on this data dir', fix: 'lw serve' });
  }
  let backend: Awaited<ReturnType<DoctorDeps['open']>> | null = null;
  try {
    backend = await deps.open();
    checks.push({ area: 'store', status: 'ok', detail: `${backend.mode}: ${backend.location}` });
  } catch (e) {
    checks.push({ area: 'store', status: 'fail', detail: (e as Error).message, fix: 'check LW_DATABASE_URL / the data dir permissions' });
  }
  if (backend) {
    try {
      const svc = backend.service;
      const providers = await svc.providers.list();
      if (providers.length === 0) checks.push({ area: 'providers', status: 'fail', detail: 'no provider', fix: 'lw providers add openai --api-key-env OPENAI_API_KEY' });
      for (const p of providers) {
        if (!p.enabled) continue;
        if (p.api_key_env && !p.api_key_present) {
          checks.push({ area: `provider ${p.name}`, status: 'fail', detail: `${p.api_key_env} is not set where the gateway runs`, fix: `export ${p.api_key_env}=… (or put it in the service's environment file)` });
          continue;
        }
        const t = await svc.providers.test(p.name);
        checks.push(t.ok ? { area: `provider ${p.name}`, status: 'ok', detail: `${t.models.length} models, ${t.latency_ms} ms` } : { area: `provider ${p.name}`, status: 'fail', detail: t.message, fix: `check ${p.base_url} and its key` });
      }
      const models = await svc.models.list();
      const usable = models.filter((m) => m.enabled && m.deployments.length > 0);
      checks.push(usable.length ? { area: 'models', status: 'ok', detail: `${usable.length} usable` } : { area: 'models', status: 'fail', detail: 'no usable model', fix: 'lw models add ID --provider P (or lw models sync P)' });
      const keys = (await svc.keys.list()).filter((k) => k.status === 'active');
      checks.push(keys.length ? { area: 'keys', status: 'ok', detail: `${keys.length} active` } : { area: 'keys', status: 'warn', detail: 'no active key', fix: 'lw keys create --name NAME' });
    } catch (e) {
      checks.push({ area: 'store', status: 'fail', detail: (e as Error).message });
    } finally {
      await backend.close();
    }
  }
  checks.push(...clientChecks(deps.env, deps.homeDir));
  return checks;
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', info: 'info' };

export function doctorCommand(ctx: CliContext): Command {
  return new Command('doctor')
    .description('check store, providers, config and client files, and say what to fix')
    .addHelpText('after', examples('lw doctor', 'lw doctor --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const out = ctx.output(cmd);
      const checks = await runDoctor({ env: ctx.env, homeDir: ctx.env['HOME'] || homedir(), open: () => ctx.open(cmd) });
      if (out.isJson) out.json(checks);
      else for (const c of checks) out.line(`${MARK[c.status]}  ${c.area.padEnd(18)} ${c.detail}${c.fix ? `  → ${c.fix}` : ''}`);
      const failed = checks.filter((c) => c.status === 'fail').length;
      if (failed) throw new CliError(`${failed} check${failed === 1 ? '' : 's'} failed`);
    });
}
