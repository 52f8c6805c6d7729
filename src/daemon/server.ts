/**
 * @module `lw serve`: opens the store (locking the PGlite folder), migrates, builds the in-memory state,
 * limiter and usage writer, listens, and shuts down gracefully on SIGTERM (stop accepting, drain
 * in-flight requests and streams within `drainMs`, flush usage, exit 0). SIGHUP reloads the state.
 */
import { createStoreService } from '../admin/store-service.js';
import { ensureAdminToken } from '../admin/token.js';
import { removeDaemonInfo, writeDaemonInfo } from '../admin/daemon-info.js';
import { createUsageReporter } from '../admin/usage-report.js';
import { openStore, type Store } from '../db/client.js';
import { acquireStoreLock, readStoreLock, type StoreLock } from '../db/lock.js';
import { runMigrations } from '../db/migrate.js';
import { openProcessStore, storeSocketDir } from '../db/server/process.js';
import type { Config } from '../lib/config.js';
import { bufferedStderr, createLogger, type Logger } from '../lib/log.js';
import { lwPaths } from '../lib/paths.js';
import { createApp } from './app.js';
import type { GatewayDeps } from './deps.js';
import { createListener } from './http/listener.js';
import { drainHttp, listenHttp, StartupError } from './listen.js';
import { createMemoryLimiter } from './limits/memory.js';
import { createRedisLimiter } from './limits/redis.js';
import type { Limiter } from './limits/types.js';
import { Metrics } from './metrics.js';
import { DeploymentHealth } from './pipeline/health.js';
import { UpstreamPools } from './providers/upstream.js';
import { inferenceRoutes } from './routes/index.js';
import { LiveState } from './state/live.js';
import { createUsageWriter } from './usage/writer.js';
import { seedLimiter } from './usage/seed.js';
import { bootstrapProviders } from './bootstrap.js';

export interface Daemon {
  url: string;
  port: number;
  deps: GatewayDeps;
  store: Store;
  /** Plaintext demo key, with --demo only (printed once by `lw serve`). */
  demoKey?: string;
  /** Graceful stop: drain, flush, close. Resolves when everything is closed. */
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (the CLI does; tests usually don't). */
  signals?: boolean;
  env?: NodeJS.ProcessEnv;
  /**
   * Where the embedded store (no database URL) runs: 'process' (default) in its own process, served on
   * a Unix socket to postgres.js, or 'inprocess' (PGlite in this process). Default: the environment's
   * LW_EMBEDDED_STORE, else 'process'.
   */
  embeddedStore?: EmbeddedStoreMode;
}

export type EmbeddedStoreMode = 'process' | 'inprocess';

export function embeddedStoreMode(opts: Pick<StartOptions, 'embeddedStore'>, env: NodeJS.ProcessEnv): EmbeddedStoreMode {
  if (opts.embeddedStore) return opts.embeddedStore;
  const v = env['LW_EMBEDDED_STORE'];
  if (!v || v === 'process') return 'process';
  if (v === 'inprocess') return 'inprocess';
  throw new StartupError(`LW_EMBEDDED_STORE must be 'process' (default) or 'inprocess', not '${v}'`);
}

export { StartupError };

export interface StoreChoice {
  mode: EmbeddedStoreMode;
  /** The embedded store's process exited without being asked to. */
  onLost: () => void;
  drainMs: number;
}

/** Opens the configured store; the embedded one under the folder lock (released again on failure). */
export async function openConfiguredStore(config: Config, log: Logger, choice: StoreChoice): Promise<{ store: Store; lock: StoreLock | null }> {
  if (config.databaseUrl) return { store: await openStore({ url: config.databaseUrl }), lock: null };
  const paths = lwPaths(config.home);
  const lock = await acquireStoreLock(paths.lock, { pid: process.pid, purpose: 'serve' });
  if (!lock) {
    const holder = await readStoreLock(paths.lock);
    throw new StartupError(
      `the embedded store at ${paths.db} is in use by another lw process (pid ${holder?.pid ?? '?'}, ${holder?.purpose ?? 'unknown'}); stop it first or use Postgres (LW_DATABASE_URL).`,
    );
  }
  try {
    if (choice.mode === 'inprocess') {
      const store = await openStore({ dataDir: paths.db });
      log.info('store opened', { store: 'pglite', path: paths.db, store_process: 'inprocess' });
      return { store, lock };
    }
    const store = await openProcessStore({
      dataDir: paths.db,
      socketDir: storeSocketDir(paths.home),
      log,
      // after SIGTERM to the whole group the store outlives our drain and usage flush
      graceMs: choice.drainMs + 60_000,
      onUnexpectedExit: () => choice.onLost(),
    });
    log.info('store opened', { store: 'pglite', path: paths.db, store_process: 'child', store_pid: store.pid });
    return { store, lock };
  } catch (e) {
    await lock.release();
    throw e;
  }
}

export async function startDaemon(config: Config, opts: StartOptions = {}): Promise<Daemon> {
  const log = opts.log ?? createLogger(config.logLevel, bufferedStderr());
  const env = opts.env ?? process.env;
  let onStoreLost = (): void => {};
  const { store, lock } = await openConfiguredStore(config, log, {
    mode: embeddedStoreMode(opts, env),
    onLost: () => onStoreLost(),
    drainMs: config.drainMs,
  });
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  try {
    await runMigrations(store);
    const extras = await bootstrapProviders(store, config, env, log);
    cleanups.push(...extras.cleanups);
    const live = await LiveState.start(store, { log });
    cleanups.push(() => live.stop());
    const metrics = new Metrics();
    const limiter: Limiter = config.redisUrl
      ? await createRedisLimiter({ url: config.redisUrl, prefix: 'lw:' })
      : createMemoryLimiter({});
    cleanups.push(() => limiter.close());
    await seedLimiter(store, limiter, live.current);
    const usage = createUsageWriter(store, { log, credits: limiter, onDropped: (n: number) => metrics.usageDropped.inc(n) });
    const deps: GatewayDeps = {
      config,
      state: live,
      limiter,
      usage,
      pools: new UpstreamPools(),
      health: new DeploymentHealth(),
      metrics,
      log,
      env,
      now: Date.now,
      inflight: { count: 0 },
      draining: { value: false },
    };
    const paths = lwPaths(config.home);
    const adminToken = ensureAdminToken(paths.adminToken);
    const service = createStoreService(store, {
      defaultTier: config.defaultTier,
      env,
      onChange: () => live.reload(),
      usage: createUsageReporter(store),
    });
    const app = createApp(deps, {
      admin: { service, token: adminToken },
      ready: async () => (await live.ping?.()) ?? true,
    });
    const { server, port, url } = await listenHttp(config.host, config.port, createListener(deps, inferenceRoutes, app));
    writeDaemonInfo(paths.daemonInfo, {
      pid: process.pid,
      url,
      started: new Date().toISOString(),
      ...(store.pid !== undefined ? { store_pid: store.pid } : {}),
    });
    log.info('lw listening', {
      url,
      store: store.kind,
      location: store.location,
      ...(store.pid !== undefined ? { store_pid: store.pid } : {}),
      providers: live.current.providers.size,
      models: live.current.models.size,
    });

    let closing: Promise<void> | null = null;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await drainHttp(server, deps, config.drainMs, log);
        await usage.close();
        for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
        await deps.pools.close();
        await store.close();
        if (lock) {
          removeDaemonInfo(paths.daemonInfo, process.pid);
          await lock.release();
        }
        log.info('lw stopped');
      })());

    if (opts.signals) {
      const onTerm = (sig: string, code = 0) => {
        log.info('signal received, draining', { signal: sig, inflight: deps.inflight.count });
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
      process.on('SIGHUP', () => void live.reload());
      // without its store the daemon cannot record usage: stop (non-zero) so a supervisor restarts it
      onStoreLost = () => onTerm('store process exited', 1);
    }
    return { url, port, deps, store, close, ...(extras.demoKey ? { demoKey: extras.demoKey } : {}) };
  } catch (e) {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
    await store.close().catch(() => {});
    await lock?.release();
    throw e;
  }
}
