/**
 * @module The primary's worker pool: forks N workers (node:cluster running entry.ts with the same Node;
 * through tsx when running from source, not with this process's execArgv, which may hold --inspect or
 * test-runner flags), answers each one's `hello` with its `init`, and waits until all listen. A worker
 * that exits while the pool is not stopping is logged, the admissions it held are settled
 * (WorkerHost.release), and a replacement with the same number starts — 100 ms later when workers die
 * rarely, with a growing delay (up to 30 s) while they keep dying (restartDelay). `stop()` drains every
 * worker and waits for its exit.
 */
import cluster, { type Worker } from 'node:cluster';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '../../lib/log.js';
import { StartupError } from '../listen.js';
import { DAEMON_NODE_FLAGS } from '../node-flags.js';
import type { Port } from './link.js';
import { WorkerHost, type HostServices } from './host.js';
import { isLwMessage, restartDelay, type ToPrimary, type ToWorker, type WorkerInit } from './protocol.js';

export interface SupervisorOptions {
  count: number;
  /** The configured port (0 = any free one, the same for every worker). */
  port: number;
  init(index: number, port: number): WorkerInit;
  services: Omit<HostServices, 'hello' | 'ready' | 'failed'>;
  log: Logger;
  /** Extra environment for the workers (merged over this process's). */
  env?: NodeJS.ProcessEnv;
  /** Start-up limit for the first workers (default 60 s). */
  readyTimeoutMs?: number;
}

interface Slot {
  host: WorkerHost;
  worker: Worker;
  exited: Promise<void>;
  ready: boolean;
}

/** What node:cluster runs for a worker: entry.js when built, entry.ts through tsx from source; the daemon's V8 flags. */
export function workerExec(): { exec: string; execArgv: string[] } {
  if (import.meta.url.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { exec: fileURLToPath(new URL('./entry.ts', import.meta.url)), execArgv: [...DAEMON_NODE_FLAGS, '--import', tsx] };
  }
  return { exec: fileURLToPath(new URL('./entry.js', import.meta.url)), execArgv: [...DAEMON_NODE_FLAGS] };
}

function workerPort(w: Worker): Port<ToWorker, ToPrimary> {
  const ignore = (): void => {}; // a send racing the worker's exit; the exit handler cleans up
  return {
    send(msg) {
      if (w.isConnected()) w.send(msg, undefined, ignore);
    },
    onMessage(cb) {
      w.on('message', (m: unknown) => {
        if (isLwMessage<ToPrimary>(m)) cb(m);
      });
    },
    onClose(cb) {
      w.once('exit', cb);
    },
  };
}

export class Supervisor {
  private readonly slots = new Set<Slot>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly exits: number[] = [];
  private port: number;
  private stopping = false;
  private starting: { reject(e: Error): void; check(): void } | null = null;

  constructor(private readonly opts: SupervisorOptions) {
    this.port = opts.port;
    cluster.setupPrimary({ ...workerExec(), args: [], silent: false });
  }

  /** Workers serving now (ready, not exited). */
  hosts(): WorkerHost[] {
    return [...this.slots].filter((s) => s.ready && s.host.alive).map((s) => s.host);
  }

  /** Forks the workers and resolves with the shared port once every one listens. */
  async start(): Promise<number> {
    for (let i = 1; i <= this.opts.count; i++) this.fork(i);
    const limit = this.opts.readyTimeoutMs ?? 60_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new StartupError(`the workers did not start within ${limit} ms`)), limit);
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.starting = null;
        reject(e);
      };
      this.starting = {
        reject: fail,
        check: () => {
          if ([...this.slots].filter((s) => s.ready).length < this.opts.count) return;
          clearTimeout(timer);
          this.starting = null;
          resolve();
        },
      };
    });
    return this.port;
  }

  private fork(index: number): void {
    const worker = cluster.fork(this.opts.env);
    const pid = worker.process.pid ?? 0;
    const slot: Slot = {
      worker,
      ready: false,
      exited: new Promise<void>((r) => worker.once('exit', () => r())),
      host: new WorkerHost(
        workerPort(worker),
        {
          ...this.opts.services,
          // always the configured port: with 0, node:cluster hands every worker the same shared socket
          // (keyed by the port asked for) as long as one worker holds it
          hello: (h) => h.send({ lw: 1, t: 'init', init: this.opts.init(index, this.opts.port) }),
          ready: (_h, port) => this.onReady(slot, port),
          failed: (_h, message, code) => {
            if (this.starting) this.starting.reject(new StartupError(message));
            else this.opts.log.error('a replacement worker could not start', { worker: index, pid, error: message, code });
          },
        },
        pid,
        index,
      ),
    };
    this.slots.add(slot);
    worker.once('exit', (code, signal) => this.onExit(slot, code, signal));
  }

  private onReady(slot: Slot, port: number): void {
    slot.ready = true;
    if (this.port === 0) this.port = port;
    if (this.starting) return this.starting.check();
    this.opts.log.info('worker replaced', { worker: slot.host.index, pid: slot.host.pid });
    if (port !== this.port) {
      // only with port 0 after every worker had died at once: the shared socket was closed
      this.opts.log.warn('the replacement workers listen on another port', { port, was: this.port });
      this.port = port;
    }
  }

  private onExit(slot: Slot, code: number | null, signal: string | null): void {
    this.slots.delete(slot);
    const held = slot.host.release();
    const { index, pid } = slot.host;
    const fields = { worker: index, pid, code, signal: signal ?? undefined, admissions_released: held || undefined };
    if (this.stopping) return this.opts.log.debug('worker exited', fields);
    if (this.starting) {
      this.starting.reject(new StartupError(`worker ${index} (pid ${pid}) exited during start-up (${signal ?? `code ${code}`})`));
      return;
    }
    const now = Date.now();
    this.exits.push(now);
    while (this.exits.length > 20) this.exits.shift();
    // never at once: a signal to the whole group reaches this process too, and must win
    const delay = Math.max(100, restartDelay(this.exits, now));
    this.opts.log.error('worker exited unexpectedly; starting a replacement', { ...fields, restart_in_ms: delay });
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopping) this.fork(index);
    }, delay);
    this.timers.add(t);
  }

  /**
   * Drains every worker (each finishes its requests within drainMs and hands over its usage) and waits
   * for all to exit; past `timeoutMs` the rest are killed. Workers not serving yet are just ended.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const slots = [...this.slots];
    for (const s of slots) {
      if (s.ready) s.host.send({ lw: 1, t: 'drain' });
      else s.worker.process.kill('SIGTERM');
    }
    const all = Promise.all(slots.map((s) => s.exited));
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
    clearTimeout(timer);
    if (late) {
      const left = [...this.slots];
      this.opts.log.warn('workers did not stop in time; killing them', { pids: left.map((s) => s.host.pid) });
      for (const s of left) s.worker.process.kill('SIGKILL');
      await all;
    }
  }
}
