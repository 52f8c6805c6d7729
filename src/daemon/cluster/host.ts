/**
 * @module The primary's side of one worker: answers its limiter calls with the primary's Limiter
 * (admissions kept under the worker's admission ids until settled), queues its usage records on the
 * primary's writer, relays `changed` and `metrics` to the primary, and asks it to `reload` or `collect`.
 * When the worker is gone, `release()` settles every admission it still held (as never sent upstream:
 * its reservations, TPM and concurrency slots come back) so a crash leaks no limit.
 */
import type { Logger } from '../../lib/log.js';
import type { Admission, Limiter, Settlement } from '../limits/types.js';
import type { UsageSink } from '../usage/types.js';
import type { Port } from './link.js';
import {
  decodeDebit,
  decodeKey,
  decodeSettlement,
  decodeUsage,
  encodeError,
  encodeState,
  type MetricsReply,
  type ToPrimary,
  type ToWorker,
} from './protocol.js';

export interface HostServices {
  limiter: Limiter;
  usage: UsageSink;
  log: Logger;
  /** A worker's admin API changed the store: every other worker (and the primary) must reload first. */
  changed(from: WorkerHost): Promise<void>;
  /** The cluster's aggregated metrics. */
  metrics(): Promise<MetricsReply>;
  /** Start-up messages. */
  hello(host: WorkerHost): void;
  ready(host: WorkerHost, port: number): void;
  failed(host: WorkerHost, message: string, code: string | undefined): void;
}

const NOTHING: Settlement = { tokens: 0, costPico: 0n, reachedUpstream: false };

export class WorkerHost {
  private readonly admissions = new Map<number, Admission>();
  private readonly asks = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private seq = 0;
  private gone = false;

  constructor(
    private readonly port: Port<ToWorker, ToPrimary>,
    private readonly svc: HostServices,
    /** The worker's process id (logs, x-lw-worker). */
    readonly pid: number,
    /** Worker number 1…N, kept by a replacement. */
    readonly index: number,
  ) {
    port.onMessage((m) => this.handle(m));
  }

  get alive(): boolean {
    return !this.gone;
  }

  /** Admissions the worker holds right now. */
  get held(): number {
    return this.admissions.size;
  }

  send(msg: ToWorker): void {
    if (!this.gone) this.port.send(msg);
  }

  /** Asks the worker to `reload` or `collect`; resolves with its answer, rejects after `timeoutMs`. */
  ask<T>(t: 'reload' | 'collect', timeoutMs: number): Promise<T> {
    if (this.gone) return Promise.reject(new Error(`worker ${this.pid} is gone`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.asks.delete(id);
        reject(new Error(`worker ${this.pid} did not answer '${t}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.asks.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.port.send({ lw: 1, t, id });
    });
  }

  /** The worker exited: settles what it held, fails pending asks. Returns how many admissions it held. */
  release(): number {
    this.gone = true;
    const n = this.admissions.size;
    for (const a of this.admissions.values()) a.settle(NOTHING);
    this.admissions.clear();
    for (const a of this.asks.values()) {
      clearTimeout(a.timer);
      a.reject(new Error(`worker ${this.pid} exited`));
    }
    this.asks.clear();
    return n;
  }

  private reply(id: number, p: Promise<unknown>): void {
    p.then(
      (value) => this.send({ lw: 1, t: 'reply', id, ok: true, ...(value !== undefined ? { value } : {}) }),
      (e: unknown) => this.send({ lw: 1, t: 'reply', id, ok: false, error: encodeError(e) }),
    );
  }

  private handle(m: ToPrimary): void {
    const { limiter } = this.svc;
    switch (m.t) {
      case 'admit': {
        // the memory limiter decides inside this call (no await first): admissions are in message order
        const admitted = (async () => limiter.admit({ key: decodeKey(m.key), estimatedTokens: m.tokens, estimatedCostPico: BigInt(m.cost) }))();
        this.reply(
          m.id,
          admitted.then((a) => {
            if (this.gone) a.settle(NOTHING);
            else this.admissions.set(m.id, a);
            return { headers: a.headers };
          }),
        );
        return;
      }
      case 'settle': {
        const a = this.admissions.get(m.id);
        this.admissions.delete(m.id);
        a?.settle(decodeSettlement(m));
        return;
      }
      case 'state':
        return this.reply(m.id, limiter.state(decodeKey(m.key)).then(encodeState));
      case 'seed':
        return this.reply(m.id, limiter.seed(m.entries));
      case 'persisted':
        return this.reply(m.id, limiter.persisted(m.batch, m.debits.map(decodeDebit)));
      case 'usage': {
        for (const r of m.records) this.svc.usage.record(decodeUsage(r));
        const done = m.flush ? this.svc.usage.flush() : Promise.resolve();
        return this.reply(m.id, done.then(() => ({ depth: this.svc.usage.depth() })));
      }
      case 'changed':
        return this.reply(m.id, this.svc.changed(this));
      case 'metrics':
        return this.reply(m.id, this.svc.metrics());
      case 'answer': {
        const a = this.asks.get(m.id);
        if (!a) return;
        this.asks.delete(m.id);
        clearTimeout(a.timer);
        a.resolve(m.value);
        return;
      }
      case 'hello':
        return this.svc.hello(this);
      case 'ready':
        return this.svc.ready(this, m.port);
      case 'failed':
        return this.svc.failed(this, m.message, m.code);
    }
  }
}
