/**
 * @module One `lw serve --workers N` worker process (node:cluster): waits for the primary's `init`,
 * connects to the same store (the embedded store's socket — no folder lock — or the Postgres URL) for
 * its LiveState and the admin API, and serves HTTP on the port the primary shares. Its Limiter and
 * UsageSink are IPC clients of the primary's (ipc-limiter.ts, ipc-usage.ts), so limits are decided and
 * usage is written in one place. An admin change made here returns once every worker has reloaded;
 * GET /metrics answers for the whole cluster; every response carries `x-lw-worker: <pid>`.
 *
 * It drains (503 to new requests, in-flight requests and streams finish within drainMs, its usage
 * handed to the primary) and exits 0 when the primary says `drain`, or on its own SIGTERM/SIGINT (the
 * primary then replaces it unless it is stopping too). SIGHUP reloads. If the primary dies, node:cluster
 * ends the worker.
 */
import { ensureAdminToken } from '../../admin/token.js';
import { createStoreService } from '../../admin/store-service.js';
import { createUsageReporter } from '../../admin/usage-report.js';
import { openSocketStore, openStore, type Store } from '../../db/client.js';
import { bufferedStderr, createLogger, type Logger } from '../../lib/log.js';
import { lwPaths } from '../../lib/paths.js';
import { GatewayError } from '../errors.js';
import { createListener } from '../http/listener.js';
import { gatewayDeps } from '../lifecycle.js';
import { drainHttp, listenHttp } from '../listen.js';
import { Metrics } from '../metrics.js';
import { inferenceRoutes } from '../routes/index.js';
import { LiveState } from '../state/live.js';
import { createIpcLimiter } from './ipc-limiter.js';
import { createIpcUsageSink } from './ipc-usage.js';
import { PrimaryLink, processPort } from './link.js';
import type { MetricsReply, WorkerInit } from './protocol.js';

/** The logger with `worker: <n>` on every line. */
export function taggedLogger(log: Logger, fields: Record<string, unknown>): Logger {
  const with_ = (f?: Record<string, unknown>) => (f ? { ...fields, ...f } : fields);
  return {
    get level() {
      return log.level;
    },
    set level(v) {
      log.level = v;
    },
    debug: (m, f) => log.debug(m, with_(f)),
    info: (m, f) => log.info(m, with_(f)),
    warn: (m, f) => log.warn(m, with_(f)),
    error: (m, f) => log.error(m, with_(f)),
  };
}

async function openWorkerStore(init: WorkerInit): Promise<Store> {
  if (init.store) return openSocketStore(init.store.socketPath, { location: init.store.location });
  if (!init.config.databaseUrl) throw new Error('a worker needs the store socket or a database URL');
  return openStore({ url: init.config.databaseUrl });
}

async function serve(link: PrimaryLink, init: WorkerInit, log: Logger): Promise<void> {
  const { config } = init;
  const env = process.env;
  const store = await openWorkerStore(init);
  let live: LiveState;
  try {
    live = await LiveState.start(store, { log });
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
  const metrics = new Metrics();
  const usage = createIpcUsageSink(link, { log, onDropped: (n) => metrics.usageDropped.inc(n) });
  const deps = gatewayDeps({ config, live, limiter: createIpcLimiter(link), usage, metrics, log, env });
  const service = createStoreService(store, {
    defaultTier: config.defaultTier,
    env,
    // this worker at once, every other one before the admin call returns (the revision poll is the backstop)
    onChange: async () => {
      await Promise.all([live.reload(), link.call((id) => ({ lw: 1, t: 'changed', id })).catch(() => {})]);
    },
    usage: createUsageReporter(store),
  });
  const admin = { service, token: ensureAdminToken(lwPaths(config.home).adminToken) };
  const app = async () => (await import('../app.js')).createApp(deps, { admin });
  const ops = {
    ready: async () => (await live.ping?.()) ?? true,
    metrics: () => link.call<MetricsReply>((id) => ({ lw: 1, t: 'metrics', id }), { timeoutMs: 10_000 }),
  };
  const listener = createListener(deps, inferenceRoutes, app, ops, ['x-lw-worker', String(process.pid)]);
  const { server, port } = await listenHttp(config.host, init.port, listener, config.bodyLimit);

  let stopping: Promise<void> | null = null;
  const stop = (reason: string): Promise<void> =>
    (stopping ??= (async () => {
      log.info('worker draining', { reason, inflight: deps.inflight.count });
      await drainHttp(server, deps, config.drainMs, log);
      await usage.close().catch(() => {});
      await live.stop();
      await deps.pools.close();
      await store.close().catch(() => {});
      log.info('worker stopped');
    })().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('worker shutdown failed', { error: e instanceof Error ? e.message : String(e) });
        process.exit(1);
      },
    ));

  link.on('drain', () => void stop('primary'));
  link.on('reload', (m) => void live.reload().then(() => link.answer(m.id)));
  link.on('collect', (m) => {
    metrics.usageQueue.set(usage.depth());
    metrics.inflight.set(deps.inflight.count);
    void metrics.registry.getMetricsAsJSON().then(
      (v) => link.answer(m.id, v),
      (e: unknown) => {
        log.warn('cannot collect this worker\'s metrics', { error: e instanceof Error ? e.message : String(e) });
        link.answer(m.id, []);
      },
    );
  });
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => void live.reload());
  link.send({ lw: 1, t: 'ready', port });
  log.debug('worker listening', { pid: process.pid, port });
}

/** Runs this process as a worker: the primary's `init` first, then serve. Exits 1 if it cannot start. */
export async function runWorker(): Promise<void> {
  const link = new PrimaryLink(processPort(), () => new GatewayError('shutting_down', 'The gateway is restarting; retry.'));
  const init = await new Promise<WorkerInit>((resolve) => {
    link.on('init', (m) => resolve(m.init));
    link.send({ lw: 1, t: 'hello' });
  });
  const log = taggedLogger(createLogger(init.config.logLevel, bufferedStderr()), { worker: init.index });
  try {
    await serve(link, init, log);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    log.error('worker could not start', { pid: process.pid, error: err.message });
    link.send({ lw: 1, t: 'failed', message: err.message, ...(err.code ? { code: err.code } : {}) });
    setTimeout(() => process.exit(1), 50);
  }
}
