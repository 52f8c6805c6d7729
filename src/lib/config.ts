/**
 * @module Daemon and CLI configuration: flags over environment over `lw.toml` over defaults,
 * validated with zod so a bad value fails at start-up with a message naming the field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import type { LogLevel } from './log.js';
import { lwPaths, resolveHome } from './paths.js';

const providerDecl = z.object({
  name: z.string().min(1),
  kind: z.enum(['openai', 'anthropic']).default('openai'),
  base_url: z.string().url().optional(),
  api_key_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
  supports_responses: z.boolean().optional(),
});

const modelDecl = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  upstream_model: z.string().optional(),
  kind: z.enum(['chat', 'embedding']).optional(),
  aliases: z.array(z.string()).optional(),
  context_window: z.number().int().positive().optional(),
  max_output: z.number().int().positive().optional(),
  price_in: z.union([z.string(), z.number()]).optional(),
  price_out: z.union([z.string(), z.number()]).optional(),
});

export const configSchema = z.object({
  home: z.string(),
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8040),
  databaseUrl: z.string().optional(),
  redisUrl: z.string().optional(),
  /** Request body cap in bytes (default 20 MB). */
  bodyLimit: z.coerce.number().int().positive().default(20 * 1024 * 1024),
  timeouts: z
    .object({
      connectMs: z.coerce.number().int().positive().default(10_000),
      firstByteMs: z.coerce.number().int().positive().default(120_000),
      idleMs: z.coerce.number().int().positive().default(300_000),
    })
    .default({ connectMs: 10_000, firstByteMs: 120_000, idleMs: 300_000 }),
  /**
   * `lw serve` processes serving HTTP: 1 = one process (the default); N > 1 = a node:cluster primary
   * (store, limiter, usage writer) and N workers; 0 (or 'auto') = one worker per CPU.
   */
  workers: z.preprocess((v) => (v === 'auto' ? 0 : v), z.coerce.number().int().min(0).max(256)).default(1),
  /** SIGTERM drain bound for in-flight requests and streams. */
  drainMs: z.coerce.number().int().nonnegative().default(30_000),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  defaultTier: z.string().default('beta'),
  /** Bind the admin API on the same listener (always loopback-only unless adminRemote). */
  adminRemote: z.boolean().default(false),
  demo: z.boolean().default(false),
  /** `lw serve --sync`: import every enabled provider's `GET /models` at start-up (failures logged). */
  sync: z.boolean().default(false),
  providers: z.array(providerDecl).default([]),
  models: z.array(modelDecl).default([]),
});

export type Config = z.infer<typeof configSchema>;
export type ProviderDecl = z.infer<typeof providerDecl>;
export type ModelDecl = z.infer<typeof modelDecl>;

export interface ConfigFlags {
  config?: string;
  host?: string;
  port?: string | number;
  db?: string;
  demo?: boolean;
  sync?: boolean;
  logLevel?: LogLevel;
  /** `--workers`: a count, 0 or 'auto'. */
  workers?: string | number;
}

/** Reads `lw.toml` keys (snake_case) into the config's camelCase shape. */
function fromToml(path: string): Record<string, unknown> {
  const raw = parseToml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const t = (raw['timeouts'] ?? {}) as Record<string, unknown>;
  return {
    host: raw['host'],
    port: raw['port'],
    databaseUrl: raw['database_url'],
    redisUrl: raw['redis_url'],
    bodyLimit: raw['body_limit'],
    drainMs: raw['drain_ms'],
    workers: raw['workers'],
    logLevel: raw['log_level'],
    defaultTier: raw['default_tier'],
    sync: raw['sync_on_start'],
    timeouts:
      raw['timeouts'] === undefined
        ? undefined
        : { connectMs: t['connect_ms'], firstByteMs: t['first_byte_ms'], idleMs: t['idle_ms'] },
    providers: raw['providers'],
    models: raw['models'],
  };
}

function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== ''));
}

/**
 * Worker processes `lw serve` runs: the configured count, or one per CPU for 0 ('auto').
 * @example workerCount(loadConfig({ workers: 'auto' })) // 8 on an 8-CPU machine
 */
export function workerCount(config: Pick<Config, 'workers'>, cpus: number = availableParallelism()): number {
  return config.workers === 0 ? Math.max(1, cpus) : config.workers;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * @example
 * const cfg = loadConfig({ port: 0 }, process.env);
 */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const home = resolveHome(env);
  const file = flags.config ?? env['LW_CONFIG'] ?? lwPaths(home).config;
  const explicit = Boolean(flags.config ?? env['LW_CONFIG']);
  if (explicit && !existsSync(file)) throw new ConfigError(`config file not found: ${file}`);
  let fileValues: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      fileValues = defined(fromToml(file));
    } catch (e) {
      throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
    }
  }
  const envValues = defined({
    host: env['LW_HOST'],
    port: env['LW_PORT'],
    databaseUrl: env['LW_DATABASE_URL'] ?? env['DATABASE_URL'],
    redisUrl: env['LW_REDIS_URL'],
    logLevel: env['LW_LOG_LEVEL'],
    bodyLimit: env['LW_BODY_LIMIT'],
    workers: env['LW_WORKERS'],
  });
  const flagValues = defined({
    host: flags.host,
    port: flags.port,
    databaseUrl: flags.db,
    demo: flags.demo,
    sync: flags.sync,
    logLevel: flags.logLevel,
    workers: flags.workers,
  });
  const merged = { home, ...fileValues, ...envValues, ...flagValues };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  return parsed.data;
}
