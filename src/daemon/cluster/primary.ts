/**
 * @module `lw serve --workers N`: the node:cluster primary. It opens the store as `lw serve` does (the
 * PGlite folder lock and the store process, or Postgres), migrates, registers providers (`--demo`,
 * `--sync`), and owns what must exist once: the Limiter (memory, or Redis when configured; seeded from
 * the rollups) and THE usage writer, whose credit ledger is that limiter. It serves no HTTP: N workers
 * (worker.ts) do, on the port node:cluster shares, asking this process for every admission and handing
 * it every usage record, so limits are exact across workers and each record is written once.
 *
 * It writes daemon.json (its own pid, the URL, the store's pid) and owns the signals: SIGTERM/SIGINT
 * drain the workers (bounded by drainMs + a margin), then flush usage, close the limiter and the store,
 * release the lock and exit 0; SIGHUP reloads every worker. An admin change made on one worker reaches
 * every worker before the admin call returns; GET /metrics on any worker answers for all of them.
 */
import { Gauge, AggregatorRegistry } from 'prom-client';
import { ensureAdminToken } from '../../admin/token.js';
import type { Store } from '../../db/client.js';
import type { Config } from '../../lib/config.js';
import { bufferedStderr, createLogger, type Logger } from '../../lib/log.js';
import { lwPaths } from '../../lib/paths.js';
import { abandonStart, announceListening, installStopSignals, openGatewayCore, releaseStore, type Cleanups } from '../lifecycle.js';
import { baseUrl, StartupError } from '../listen.js';
import { embeddedStoreMode, openConfiguredStore, type EmbeddedStoreMode } from '../server.js';
import type { WorkerHost } from './host.js';
import type { MetricsReply } from './protocol.js';
import { Supervisor } from './supervisor.js';

export interface ClusterOptions {
  /** Worker processes (≥ 1; `lw serve` uses the single-process daemon for 1). */
  workers: number;
  log?: Logger;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (the CLI does). */
  signals?: boolean;
  /** Environment for bootstrap and the workers (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Must be 'process' (the default) for the embedded store: workers reach it on its socket. */
  embeddedStore?: EmbeddedStoreMode;
}

export interface ClusterDaemon {
  url: string;
  port: number;
  store: Store;
  demoKey?: string;
  /** Pids of the workers serving now. */
  workerPids(): number[];
  /** Graceful stop: drain the workers, flush usage, close. */
  close(): Promise<void>;
}

/** How long workers get past drainMs to hand over their usage and exit before they are killed. */
const STOP_MARGIN_MS = 15_000;

export async function startCluster(config: Config, opts: ClusterOptions): Promise<ClusterDaemon> {
  const log = opts.log ?? createLogger(config.logLevel, bufferedStderr());
  const env = opts.env ?? process.env;
  if (!config.databaseUrl && embeddedStoreMode(opts, env) === 'inprocess') {
    throw new StartupError('--workers needs the embedded store in its own process (unset LW_EMBEDDED_STORE) or Postgres');
  }
  let onStoreLost = (): void => {};
  const { store, lock } = await openConfiguredStore(config, log, { mode: 'process', onLost: () => onStoreLost(), drainMs: config.drainMs });
  const cleanups: Cleanups = [];
  let pool: Supervisor | null = null;
  const paths = lwPaths(config.home);
  try {
    const { live, metrics, limiter, usage, demoKey } = await openGatewayCore(store, config, env, log, cleanups);
    // the workers read it; created here first so they never race to create it
    ensureAdminToken(paths.adminToken);

    /** Every worker but `from` reloads (and this process), before the admin call that changed the store returns. */
    const changed = async (from: WorkerHost | null): Promise<void> => {
      const others = (pool?.hosts() ?? []).filter((h) => h !== from);
      const results = await Promise.allSettled([live.reload(), ...others.map((h) => h.ask('reload', 5_000))]);
      for (const r of results) if (r.status === 'rejected') log.warn('a worker did not confirm a reload', { error: String(r.reason) });
    };
    new Gauge({
      name: 'lw_workers',
      help: 'Worker processes serving HTTP (lw serve --workers)',
      registers: [metrics.registry],
      collect() {
        this.set(pool?.hosts().length ?? 0);
      },
    });
    const clusterMetrics = async (): Promise<MetricsReply> => {
      metrics.usageQueue.set(usage.depth());
      const parts: object[] = [await metrics.registry.getMetricsAsJSON()];
      const answers = await Promise.allSettled((pool?.hosts() ?? []).map((h) => h.ask<object[]>('collect', 5_000)));
      for (const a of answers) if (a.status === 'fulfilled' && Array.isArray(a.value)) parts.push(a.value);
      const reg = AggregatorRegistry.aggregate(parts);
      return { text: await reg.metrics(), contentType: reg.contentType };
    };

    const storeSocket = store.socketPath ? { socketPath: store.socketPath, location: store.location } : null;
    pool = new Supervisor({
      count: opts.workers,
      port: config.port,
      init: (index, port) => ({ config, port, index, store: storeSocket }),
      services: { limiter, usage, log, changed: (from) => changed(from), metrics: clusterMetrics },
      log,
      ...(opts.env ? { env: opts.env } : {}),
    });
    const workers = pool;
    cleanups.push(() => workers.stop(config.drainMs + STOP_MARGIN_MS));
    const port = await workers.start();
    const url = baseUrl(config.host, port);
    const workerPids = () => workers.hosts().map((h) => h.pid);
    announceListening(config, store, live, url, log, { workers: opts.workers, worker_pids: workerPids() });

    let closing: Promise<void> | null = null;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        // the workers drain and hand over their usage first; then it is written
        await workers.stop(config.drainMs + STOP_MARGIN_MS);
        await usage.close();
        for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
        await releaseStore(config, store, lock, log);
      })());

    if (opts.signals) {
      onStoreLost = installStopSignals(log, close, () => void changed(null), () => ({ workers: workerPids().length }));
    }
    return { url, port, store, workerPids, close, ...(demoKey ? { demoKey } : {}) };
  } catch (e) {
    await abandonStart(store, lock, cleanups);
    throw e;
  }
}
