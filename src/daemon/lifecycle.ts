/**
 * @module What `lw serve` does the same whether it is one process (server.ts) or a `--workers` primary
 * (cluster/primary.ts): prepare the opened store and build what must exist once (migrations, provider
 * bootstrap, the live snapshot, the Limiter seeded from the rollups, THE usage writer), announce the
 * listening daemon (daemon.json + the log line), install the stop signals, and release the store. The
 * request-path dependencies a process serving HTTP needs (server.ts, cluster/worker.ts) are built by
 * `gatewayDeps`.
 */
import { removeDaemonInfo, writeDaemonInfo } from '../admin/daemon-info.js';
import type { Store } from '../db/client.js';
import type { StoreLock } from '../db/lock.js';
import { runMigrations } from '../db/migrate.js';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import { lwPaths } from '../lib/paths.js';
import { bootstrapProviders } from './bootstrap.js';
import type { GatewayDeps } from './deps.js';
import { createMemoryLimiter } from './limits/memory.js';
import type { Limiter } from './limits/types.js';
import { Metrics } from './metrics.js';
import { DeploymentHealth } from './pipeline/health.js';
import { UpstreamPools } from './providers/upstream.js';
import { LiveState } from './state/live.js';
import { seedLimiter } from './usage/seed.js';
import type { UsageSink } from './usage/types.js';
import { createUsageWriter } from './usage/writer.js';

export type Cleanups = Array<() => Promise<unknown> | unknown>;

export interface GatewayCore {
  live: LiveState;
  metrics: Metrics;
  limiter: Limiter;
  /** The usage writer, whose credit ledger is `limiter`. */
  usage: UsageSink;
  /** Plaintext demo key, with --demo only. */
  demoKey?: string;
}

/**
 * Migrates the store, registers providers (`--demo`, `--sync`), loads the snapshot, opens the limiter
 * (Redis when configured) seeded from the rollups and creates the usage writer. What must be stopped
 * later is pushed on `cleanups` (run in reverse).
 */
export async function openGatewayCore(store: Store, config: Config, env: NodeJS.ProcessEnv, log: Logger, cleanups: Cleanups): Promise<GatewayCore> {
  await runMigrations(store);
  const extras = await bootstrapProviders(store, config, env, log);
  cleanups.push(...extras.cleanups);
  const live = await LiveState.start(store, { log });
  cleanups.push(() => live.stop());
  const metrics = new Metrics();
  // the Redis limiter's module (and ioredis) only when configured
  const limiter: Limiter = config.redisUrl
    ? await (await import('./limits/redis.js')).createRedisLimiter({ url: config.redisUrl, prefix: 'lw:' })
    : createMemoryLimiter({});
  cleanups.push(() => limiter.close());
  await seedLimiter(store, limiter, live.current);
  const usage = createUsageWriter(store, { log, credits: limiter, onDropped: (n: number) => metrics.usageDropped.inc(n) });
  return { live, metrics, limiter, usage, ...(extras.demoKey ? { demoKey: extras.demoKey } : {}) };
}

/** The request path's dependencies for a process that serves HTTP. */
export function gatewayDeps(
  parts: Pick<GatewayDeps, 'config' | 'limiter' | 'usage' | 'metrics' | 'log' | 'env'> & { live: LiveState },
): GatewayDeps {
  const { live, ...rest } = parts;
  return {
    ...rest,
    state: live,
    pools: new UpstreamPools(),
    health: new DeploymentHealth(),
    now: Date.now,
    inflight: { count: 0 },
    draining: { value: false },
  };
}

/** Writes daemon.json (this pid, the URL, the store process's pid) and logs `lw listening` with `fields`. */
export function announceListening(config: Config, store: Store, live: LiveState, url: string, log: Logger, fields: Record<string, unknown> = {}): void {
  const storePid = store.pid !== undefined ? { store_pid: store.pid } : {};
  writeDaemonInfo(lwPaths(config.home).daemonInfo, { pid: process.pid, url, started: new Date().toISOString(), ...storePid });
  log.info('lw listening', {
    url,
    store: store.kind,
    location: store.location,
    ...storePid,
    ...fields,
    providers: live.current.providers.size,
    models: live.current.models.size,
  });
}

/** Closes the store, then (embedded store) removes daemon.json and releases the folder lock. */
export async function releaseStore(config: Config, store: Store, lock: StoreLock | null, log: Logger): Promise<void> {
  await store.close();
  if (lock) {
    removeDaemonInfo(lwPaths(config.home).daemonInfo, process.pid);
    await lock.release();
  }
  log.info('lw stopped');
}

/**
 * SIGTERM/SIGINT run `close` once and exit 0 (1 if it failed); SIGHUP runs `reload`. Returns the stop
 * for a lost store process, which exits 1 so a supervisor restarts the daemon.
 */
export function installStopSignals(log: Logger, close: () => Promise<void>, reload: () => void, fields: () => Record<string, unknown>): () => void {
  const onTerm = (sig: string, code = 0) => {
    log.info('signal received, draining', { signal: sig, ...fields() });
    close().then(
      () => process.exit(code),
      (e: unknown) => {
        log.error('shutdown failed', { error: e instanceof Error ? e.message : String(e) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => onTerm('SIGTERM'));
  process.once('SIGINT', () => onTerm('SIGINT'));
  process.on('SIGHUP', reload);
  // without its store the daemon cannot record usage: stop (non-zero) so a supervisor restarts it
  return () => onTerm('store process exited', 1);
}

/** Undoes a start-up that failed part way: cleanups in reverse, then the store and its lock. */
export async function abandonStart(store: Store, lock: StoreLock | null, cleanups: Cleanups): Promise<void> {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  await store.close().catch(() => {});
  await lock?.release();
}
