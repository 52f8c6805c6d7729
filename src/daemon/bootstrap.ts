/**
 * @module Start-up registration, through the admin service like any other change: providers and
 * models declared in `lw.toml`, providers visible in the environment on first run (API-key variables,
 * a local Ollama), the `--demo` echo provider with a demo key, and with `--sync` every enabled provider's
 * model list.
 */
import type { AdminService } from '../admin/types.js';
import { createStoreService } from '../admin/store-service.js';
import type { Store } from '../db/client.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { detectProvidersFromEnv } from './providers/presets.js';
import { startEchoServer } from './providers/echo-server.js';

export interface BootstrapResult {
  cleanups: Array<() => Promise<unknown>>;
  /** Plaintext of the demo key (only with --demo). */
  demoKey?: string;
}

async function ollamaAnswers(): Promise<boolean> {
  try {
    const res = await fetch('http://127.0.0.1:11434/v1/models', { signal: AbortSignal.timeout(300) });
    return res.ok;
  } catch {
    return false;
  }
}

async function registerDeclared(svc: AdminService, config: Config, log: Logger): Promise<void> {
  const existing = new Set((await svc.providers.list()).map((p) => p.name));
  for (const p of config.providers) {
    if (existing.has(p.name)) continue;
    await svc.providers.add({ name: p.name, kind: p.kind, base_url: p.base_url, api_key_env: p.api_key_env ?? null, supports_responses: p.supports_responses });
    log.info('provider registered from config', { provider: p.name });
  }
  const models = new Map((await svc.models.list()).map((m) => [m.id, m]));
  for (const m of config.models) {
    const known = models.get(m.id);
    if (known?.deployments.some((d) => d.provider === m.provider)) continue;
    await svc.models.add({
      id: m.id,
      provider: m.provider,
      upstream_model: m.upstream_model,
      kind: m.kind,
      aliases: known ? undefined : m.aliases,
      context_window: m.context_window,
      max_output: m.max_output,
      price_in: m.price_in === undefined ? undefined : String(m.price_in),
      price_out: m.price_out === undefined ? undefined : String(m.price_out),
    });
    log.info('model registered from config', { model: m.id, provider: m.provider });
  }
}

export async function bootstrapProviders(store: Store, config: Config, env: NodeJS.ProcessEnv, log: Logger): Promise<BootstrapResult> {
  const svc = createStoreService(store, { defaultTier: config.defaultTier, env });
  const result: BootstrapResult = { cleanups: [] };
  await registerDeclared(svc, config, log);
  const providers = await svc.providers.list();
  if (providers.length === 0 && !config.demo) {
    const found = detectProvidersFromEnv(env);
    for (const p of found) {
      await svc.providers.add({ name: p.name, kind: p.kind, base_url: p.baseUrl, api_key_env: p.apiKeyEnv, supports_responses: p.supportsResponses });
      log.info('provider registered from environment', { provider: p.name, api_key_env: p.apiKeyEnv ?? undefined });
    }
    if (await ollamaAnswers()) {
      await svc.providers.add({ name: 'ollama', kind: 'openai', base_url: 'http://127.0.0.1:11434/v1', api_key_env: null });
      log.info('provider registered: a local Ollama answers on 127.0.0.1:11434', { provider: 'ollama' });
    }
    if (found.length === 0) {
      log.info('no provider yet: add one with `lw providers add openai --api-key-env OPENAI_API_KEY`, or try `lw serve --demo`');
    }
  }
  if (config.demo) {
    const echo = await startEchoServer();
    result.cleanups.push(() => echo.close());
    if (providers.some((p) => p.name === 'echo')) await svc.providers.remove('echo');
    await svc.providers.add({ name: 'echo', kind: 'openai', base_url: echo.url, api_key_env: null });
    await svc.models.add({ id: 'echo', provider: 'echo', upstream_model: 'echo', context_window: 8192, price_in: '0', price_out: '0' });
    const keys = await svc.keys.list();
    const demo = keys.some((k) => k.name === 'demo') ? await svc.keys.rotate('demo') : await svc.keys.create({ name: 'demo' });
    result.demoKey = demo.key;
    log.info('demo ready: provider echo, model echo', { demo_key_prefix: demo.prefix });
  }
  if (config.sync) await syncProviders(svc, log);
  return result;
}

/** `lw serve --sync`: every enabled provider's model list, one at a time; a failure is logged, not fatal. */
export async function syncProviders(svc: AdminService, log: Logger): Promise<void> {
  for (const p of await svc.providers.list()) {
    if (!p.enabled) continue;
    try {
      const r = await svc.models.sync(p.name);
      log.info('provider models synced', { provider: p.name, added: r.added.length, updated: r.updated.length, skipped: r.skipped.length });
    } catch (e) {
      log.warn('provider model sync failed', { provider: p.name, error: e instanceof Error ? e.message : String(e) });
    }
  }
}
