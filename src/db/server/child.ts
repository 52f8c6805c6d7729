/**
 * @module The embedded store's own process (entry.ts, spawned by `lw serve`): opens PGlite on
 * the data directory, serves it on a Unix socket (mode 0600, removed on exit) with the wire server,
 * prints one `{"ready":true,…}` line on stdout, and lives as long as its parent: it stops when its stdin
 * closes (the parent ended it or died) or the parent's pid goes away, closing PGlite cleanly (PGlite
 * must close to persist). SIGTERM/SIGINT (systemd signals the whole group, Ctrl-C the foreground group)
 * only start a grace period: the parent first drains and flushes usage through this process, then
 * closes stdin. Logs go to stderr as JSON lines, which the parent relays to its own log.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { createLogger } from '../../lib/log.js';
import { createPglite } from '../pglite.js';
import { isPidAlive } from '../lock.js';
import { pgliteBackend } from './backend.js';
import { createWireServer } from './wire.js';

export interface StoreServerOptions {
  dataDir: string;
  socketPath: string;
  /** After SIGTERM/SIGINT while the parent lives, how long to wait for it to close stdin. */
  graceMs: number;
  /** The parent to outlive by no more than a second; null when run by hand. */
  parentPid: number | null;
}

/** Settings postgres.js expects in ParameterStatus at start-up, read from the session itself. */
const ANNOUNCED = [
  'server_version',
  'server_encoding',
  'client_encoding',
  'DateStyle',
  'IntervalStyle',
  'TimeZone',
  'integer_datetimes',
  'standard_conforming_strings',
  'is_superuser',
  'session_authorization',
  'application_name',
];

async function sessionParameters(db: PGlite): Promise<Record<string, string>> {
  const { rows } = await db.query<{ name: string; setting: string }>(
    'select name, setting from pg_settings where name = any($1)',
    [ANNOUNCED],
  );
  const params: Record<string, string> = {
    client_encoding: 'UTF8',
    DateStyle: 'ISO, MDY',
    integer_datetimes: 'on',
    standard_conforming_strings: 'on',
  };
  for (const r of rows) params[r.name] = r.setting;
  return params;
}

const unlinkQuietly = (path: string) => {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
};

/**
 * Creates the store folder (initdb) and exits. A process that ran initdb keeps ~800 MB of RSS where
 * one opening an existing folder has ~250 MB, so `lw serve` runs this in a process of its own first.
 */
export async function initStoreFolder(dataDir: string): Promise<never> {
  const log = createLogger('info', (l) => void process.stderr.write(l));
  process.umask(0o077);
  try {
    const db = await createPglite(dataDir);
    await db.close();
    log.info('embedded store created', { path: dataDir });
    process.exit(0);
  } catch (e) {
    log.error('cannot create the embedded store', { path: dataDir, error: e as Error });
    process.exit(1);
  }
}

/**
 * Runs until the parent goes away, then exits the process (0 after a clean close, 1 otherwise).
 * @example await runStoreServer({ dataDir, socketPath, graceMs: 60_000, parentPid: process.ppid });
 */
export async function runStoreServer(opts: StoreServerOptions): Promise<never> {
  const log = createLogger('info', (l) => void process.stderr.write(l));
  process.umask(0o077);
  // the parent decides when to stop (see the module comment); until then these only arm the grace timer
  let graceTimer: NodeJS.Timeout | null = null;
  const onSignal = (signal: string) => {
    if (opts.parentPid === null || !isPidAlive(opts.parentPid)) return void stop(signal);
    graceTimer ??= setTimeout(() => void stop(`${signal} (grace period over)`), opts.graceMs);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGHUP', () => {});

  let db: PGlite | null = null;
  let wire: ReturnType<typeof createWireServer> | null = null;
  let stopping: Promise<never> | null = null;
  let starting: Promise<void> = Promise.resolve();
  const stop = (reason: string): Promise<never> =>
    (stopping ??= (async () => {
      let code = 0;
      try {
        // an interrupted first start (initdb) would leave a broken folder: finish starting, then close
        await starting;
        await wire?.close();
        await db?.close();
        log.info('store process stopped', { reason });
      } catch (e) {
        code = 1;
        log.error('store process did not close cleanly', { reason, error: e as Error });
      } finally {
        unlinkQuietly(opts.socketPath);
      }
      process.exit(code);
    })());

  process.stdin.on('end', () => void stop('parent closed the pipe'));
  process.stdin.on('close', () => void stop('parent closed the pipe'));
  process.stdin.on('error', () => void stop('parent pipe failed'));
  process.stdin.resume();
  if (opts.parentPid !== null) {
    const parent = opts.parentPid;
    setInterval(() => {
      if (process.ppid !== parent || !isPidAlive(parent)) void stop('parent process gone');
    }, 1_000).unref();
  }

  starting = (async () => {
    try {
      db = await createPglite(opts.dataDir);
      wire = createWireServer({ backend: pgliteBackend(db), parameters: await sessionParameters(db), log });
      // only the lock holder (our parent) spawns this process, so a socket left by a killed one is stale
      unlinkQuietly(opts.socketPath);
      await wire.listen(opts.socketPath);
      chmodSync(opts.socketPath, 0o600);
    } catch (e) {
      log.error('store process cannot start', { error: e as Error, path: opts.dataDir });
      unlinkQuietly(opts.socketPath);
      process.exit(1);
    }
  })();
  await starting;
  if (stopping) return stopping;
  process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, socket: opts.socketPath }) + '\n');
  return new Promise<never>(() => {});
}
