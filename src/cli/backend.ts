/**
 * @module Picks how an admin command reaches the store: the daemon's admin API (`--url`, or a running
 * `lw serve` holding the embedded store), a Postgres server directly, or the embedded PGlite folder
 * under its lock. Every path yields the same `AdminService`, so commands never care which.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdminService } from '../admin/types.js';
import { loadConfig } from '../lib/config.js';
import { lwPaths, resolveHome, type LwPaths } from '../lib/paths.js';
import { CliError, networkErrorCode } from './errors.js';

/** The global options that select a backend (`lw --db …`, `--url …`, `--admin-key …`, `--home …`). */
export interface BackendOptions {
  db?: string | undefined;
  url?: string | undefined;
  adminKey?: string | undefined;
  home?: string | undefined;
  config?: string | undefined;
}

export interface AdminBackend {
  service: AdminService;
  mode: 'remote' | 'direct';
  /** Where the commands go: the daemon URL, the Postgres URL (password hidden) or the PGlite folder. */
  location: string;
  /** True when this process holds the embedded store's lock (release it soon: `close()`). */
  embedded: boolean;
  close(): Promise<void>;
}

export interface BackendDeps {
  env?: NodeJS.ProcessEnv;
  /** How long to wait for another CLI holding the embedded store (default 5 s, env LW_LOCK_WAIT_MS). */
  lockWaitMs?: number;
  pid?: number;
}

const RETRY_MS = 150;

/** The admin token `lw serve` keeps in the data dir (mode 0600); null when absent or not ours to read. */
async function localToken(paths: LwPaths): Promise<string | null> {
  const { readAdminToken } = await import('../admin/token.js');
  try {
    return readAdminToken(paths.adminToken);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return null;
    throw err; // a token file others can read, or a malformed one: its message says what to do
  }
}

/** Rewrites a failed connection (refused, unreachable, blocked port…) into a sentence naming the daemon. */
function connectionError(err: unknown, url: string): unknown {
  const code = networkErrorCode(err);
  const fetchFailed = err instanceof TypeError && err.message === 'fetch failed';
  if (!code && !fetchFailed) return err;
  const why = code ?? (err instanceof Error && err.cause instanceof Error ? err.cause.message : 'fetch failed');
  return new CliError(
    `cannot reach the lw daemon at ${url} (${why})`,
    1,
    'the daemon may be down: start it with `lw serve`, or check --url / LW_URL',
  );
}

/** Wraps every method of every group so network failures name the daemon. */
export function guardRemote(service: AdminService, url: string): AdminService {
  const wrap = <G extends object>(group: G): G =>
    new Proxy(group, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (err) {
            throw connectionError(err, url);
          }
        };
      },
    });
  return {
    keys: wrap(service.keys),
    tiers: wrap(service.tiers),
    providers: wrap(service.providers),
    models: wrap(service.models),
    usage: wrap(service.usage),
  };
}

async function remote(url: string, token: string): Promise<AdminBackend> {
  const { createRemoteService } = await import('../admin/remote.js');
  const service = guardRemote(createRemoteService({ url, token }), url);
  return { service, mode: 'remote', location: url, embedded: false, close: async () => {} };
}

async function direct(
  open: { url: string } | { dataDir: string },
  defaultTier: string,
  env: NodeJS.ProcessEnv,
  onClose: () => Promise<void> = async () => {},
): Promise<AdminBackend> {
  const { openStore } = await import('../db/client.js');
  const { runMigrations } = await import('../db/migrate.js');
  const { createStoreService } = await import('../admin/store-service.js');
  const { createUsageReporter } = await import('../admin/usage-report.js');
  const store = await openStore(open);
  try {
    await runMigrations(store);
  } catch (err) {
    await store.close();
    throw err;
  }
  const service = createStoreService(store, { defaultTier, env, usage: createUsageReporter(store) });
  return {
    service,
    mode: 'direct',
    location: store.location,
    embedded: store.kind === 'pglite',
    async close() {
      try {
        await store.close();
      } finally {
        await onClose();
      }
    },
  };
}

/**
 * Opens the embedded store, or hands over to the daemon that holds it. Another CLI holding the lock
 * is waited for (briefly), never overridden: two processes on one PGlite folder corrupt it.
 */
async function embedded(paths: LwPaths, defaultTier: string, env: NodeJS.ProcessEnv, deps: BackendDeps): Promise<AdminBackend> {
  const { acquireStoreLock, readStoreLock } = await import('../db/lock.js');
  const { readDaemonInfo, isDaemonAlive } = await import('../admin/daemon-info.js');
  const waitMs = deps.lockWaitMs ?? (Number(env['LW_LOCK_WAIT_MS']) || 5_000);
  const deadline = Date.now() + waitMs;
  let holder: { pid: number; purpose: string } | null = null;
  for (;;) {
    const lock = await acquireStoreLock(paths.lock, { pid: deps.pid ?? process.pid, purpose: 'cli' });
    if (lock) {
      try {
        return await direct({ dataDir: paths.db }, defaultTier, env, () => lock.release());
      } catch (err) {
        await lock.release();
        throw err;
      }
    }
    holder = await readStoreLock(paths.lock);
    if (holder?.purpose === 'serve') {
      const info = readDaemonInfo(paths.daemonInfo);
      // The daemon.json must describe the process that holds the lock, not an older daemon.
      if (info && info.pid === holder.pid && isDaemonAlive(info)) {
        const token = await localToken(paths);
        if (!token) {
          throw new CliError(
            `lw serve (pid ${holder.pid}) holds the store but the admin token ${paths.adminToken} is unreadable`,
            1,
            'run the command as the user that runs lw serve',
          );
        }
        return remote(info.url, token);
      }
    }
    if (Date.now() >= deadline) break;
    await sleep(RETRY_MS);
  }
  if (holder?.purpose === 'serve') {
    throw new CliError(
      `lw serve (pid ${holder.pid}) holds the store at ${paths.db} but its admin API is not answering`,
      1,
      'wait until the daemon has started, or stop it and try again',
    );
  }
  const who = holder ? `another lw command (pid ${holder.pid})` : 'another lw process';
  throw new CliError(
    `the embedded store at ${paths.db} is in use by ${who}`,
    1,
    'wait for it to finish and try again (PGlite allows one process at a time)',
  );
}

/**
 * @example
 * const admin = await getAdmin({ db: opts.db, url: opts.url, adminKey: opts.adminKey });
 * try { await admin.service.keys.list(); } finally { await admin.close(); }
 */
export async function getAdmin(opts: BackendOptions, deps: BackendDeps = {}): Promise<AdminBackend> {
  const env = deps.env ?? process.env;
  const scoped = opts.home ? { ...env, LW_HOME: opts.home } : env;
  const paths = lwPaths(resolveHome(scoped));
  const url = opts.url ?? env['LW_URL'];
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(`bad --url ${JSON.stringify(url)}`, 2, 'use the daemon address, e.g. http://127.0.0.1:8040');
    }
    // flag, then LW_ADMIN_KEY, then the local token file (a daemon on this machine).
    const token = opts.adminKey ?? env['LW_ADMIN_KEY'] ?? (await localToken(paths));
    if (!token) {
      throw new CliError(`no admin token for ${parsed.origin}`, 1, 'pass --admin-key TOKEN or set LW_ADMIN_KEY');
    }
    return remote(url.replace(/\/+$/, ''), token);
  }
  const config = loadConfig({ db: opts.db, config: opts.config }, scoped);
  if (config.databaseUrl) {
    const { isPostgresUrl, redactUrl } = await import('../db/client.js');
    if (!isPostgresUrl(config.databaseUrl)) {
      throw new CliError(`not a Postgres URL: ${redactUrl(config.databaseUrl)}`, 2, 'use postgres://user@host:5432/db');
    }
    return direct({ url: config.databaseUrl }, config.defaultTier, scoped);
  }
  return embedded(paths, config.defaultTier, scoped, deps);
}
