/**
 * @module `lw serve`: opens the store (locking the PGlite folder), migrates, builds the in-memory state,
 * limiter and usage writer, listens, and shuts down gracefully on SIGTERM (stop accepting, drain
 * in-flight requests and streams within `drainMs`, flush usage, exit 0). SIGHUP reloads the state.
 */
import { createStoreService } from '../admin/store-service.js';
import { ensureAdminToken } from '../admin/token.js';
import { createUsageReporter } from '../admin/usage-report.js';
import { openStore, type Store } from '../db/client.js';
import { acquireStoreLock, readStoreLock, type StoreLock } from '../db/lock.js';
import { openProcessStore, storeSocketDir } from '../db/server/process.js';
import type { Config } from '../lib/config.js';
import { bufferedStderr, createLogger, type Logger } from '../lib/log.js';
import { lwPaths } from '../lib/paths.js';
import type { GatewayDeps } from './deps.js';
import { createListener } from './http/listener.js';
import { drainHttp, listenHttp, StartupError } from './listen.js';
import { missingDaemonFlags } from './node-flags.js';
import { abandonStart, announceListening, gatewayDeps, installStopSignals, openGatewayCore, releaseStore, type Cleanups } from './lifecycle.js';
import { inferenceRoutes } from './routes/index.js';

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
  const cleanups: Cleanups = [];
  try {
    const { live, metrics, limiter, usage, demoKey } = await openGatewayCore(store, config, env, log, cleanups);
    const deps = gatewayDeps({ config, live, limiter, usage, metrics, log, env });
    const service = createStoreService(store, {
      defaultTier: config.defaultTier,
      env,
      onChange: () => live.reload(),
      usage: createUsageReporter(store),
    });
    const admin = { service, token: ensureAdminToken(lwPaths(config.home).adminToken) };
    const app = async () => (await import('./app.js')).createApp(deps, { admin });
    const ready = async () => (await live.ping?.()) ?? true;
    const { server, port, url } = await listenHttp(config.host, config.port, createListener(deps, inferenceRoutes, app, { ready }), config.bodyLimit);
    // started as `node bin/lw.js serve` rather than `lw serve` / `npm start`: said once, in the start-up line
    const missing = missingDaemonFlags();
    announceListening(config, store, live, url, log, missing.length > 0 ? { node_flags_missing: missing.join(' ') } : {});

    let closing: Promise<void> | null = null;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await drainHttp(server, deps, config.drainMs, log);
        await usage.close();
        for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
        await deps.pools.close();
        await releaseStore(config, store, lock, log);
      })());

    if (opts.signals) {
      onStoreLost = installStopSignals(log, close, () => void live.reload(), () => ({ inflight: deps.inflight.count }));
    }
    return { url, port, deps, store, close, ...(demoKey ? { demoKey } : {}) };
  } catch (e) {
    await abandonStart(store, lock, cleanups);
    throw e;
  }
}
