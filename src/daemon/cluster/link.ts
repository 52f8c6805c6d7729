/**
 * @module A worker's link to its primary over the node:cluster IPC channel: numbered calls answered by
 * `reply` (rejected with the primary's error, or when the channel closes), one-way messages, and
 * handlers for what the primary asks (`init`, `reload`, `collect`, `drain`). The channel itself is a
 * `Port`, so the link and the primary's side can be tested together without processes.
 */
import { decodeError, isLwMessage, type ToPrimary, type ToWorker } from './protocol.js';

/** One end of a message channel. `send` never throws: a closed channel drops the message. */
export interface Port<Out, In> {
  send(msg: Out): void;
  onMessage(cb: (msg: In) => void): void;
  onClose(cb: () => void): void;
}

/** This worker process's channel to the primary. */
export function processPort(): Port<ToPrimary, ToWorker> {
  // a send racing the channel's close reports here instead of as an 'error' event on process
  const ignore = (): void => {};
  return {
    send(msg) {
      if (process.connected && process.send) process.send(msg, undefined, undefined, ignore);
    },
    onMessage(cb) {
      process.on('message', (m: unknown) => {
        if (isLwMessage<ToWorker>(m)) cb(m);
      });
    },
    onClose(cb) {
      process.once('disconnect', cb);
    },
  };
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
  late: ((ok: boolean) => void) | undefined;
}

export interface CallOptions {
  /** Rejects after this long (default: never; the channel closing rejects every call). */
  timeoutMs?: number;
  /** Told about a reply that arrives after the timeout (e.g. to give back a late admission). */
  late?: (ok: boolean) => void;
}

type Handler<T extends ToWorker['t']> = (m: Extract<ToWorker, { t: T }>) => void;

const LATE_KEPT = 1024;

export class PrimaryLink {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly late = new Map<number, (ok: boolean) => void>();
  private readonly handlers = new Map<string, (m: ToWorker) => void>();
  private closed = false;

  /** @param closedError the error calls fail with once the primary is gone */
  constructor(
    private readonly port: Port<ToPrimary, ToWorker>,
    private readonly closedError: () => Error,
  ) {
    port.onMessage((m) => {
      if (m.t === 'reply') this.reply(m);
      else this.handlers.get(m.t)?.(m);
    });
    port.onClose(() => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  on<T extends ToWorker['t']>(t: T, fn: Handler<T>): void {
    this.handlers.set(t, fn as (m: ToWorker) => void);
  }

  send(msg: ToPrimary): void {
    if (!this.closed) this.port.send(msg);
  }

  /** Answers a request of the primary's (`reload`, `collect`). */
  answer(id: number, value?: unknown): void {
    this.send({ lw: 1, t: 'answer', id, ...(value !== undefined ? { value } : {}) });
  }

  /**
   * Sends the message `build(id)` builds and resolves with the primary's reply value.
   * @example const r = await link.call<UsageReply>((id) => ({ lw: 1, t: 'usage', id, records, flush: false }));
   */
  call<T>(build: (id: number) => ToPrimary, opts: CallOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, timer: undefined, late: opts.late };
      if (opts.timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          if (p.late) {
            this.late.set(id, p.late);
            if (this.late.size > LATE_KEPT) this.late.delete(this.late.keys().next().value as number);
          }
          reject(new Error(`the primary did not answer within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      this.pending.set(id, p);
      this.port.send(build(id));
    });
  }

  /** Fails every pending call; later calls fail at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = this.closedError();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.late.clear();
  }

  private reply(m: Extract<ToWorker, { t: 'reply' }>): void {
    const p = this.pending.get(m.id);
    if (!p) {
      const late = this.late.get(m.id);
      this.late.delete(m.id);
      late?.(m.ok);
      return;
    }
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(decodeError(m.error));
  }
}
