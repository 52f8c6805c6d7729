/**
 * @module A worker's UsageSink: records are encoded (Date → epoch ms, bigint → string) and handed to
 * the primary's usage writer in batches (every `flushMs`, default 20 ms, or at once at `maxBatch`, default
 * 200), so each record is written once, by the one writer that also keeps the limiter's credits exact.
 * `depth()` counts the records this worker still holds (queued here or sent and not yet taken); the
 * primary's writer queue is reported beside it in the cluster's /metrics. `flush()` resolves once the
 * primary has written everything; `close()` once it has taken everything (it writes at its own exit). A
 * batch the primary cannot take (it is gone) is dropped, logged and counted, never retried twice.
 */
import type { Logger } from '../../lib/log.js';
import type { UsageRecord, UsageSink } from '../usage/types.js';
import type { PrimaryLink } from './link.js';
import { encodeUsage, type UsageReply, type WireUsage } from './protocol.js';

export interface IpcUsageOptions {
  flushMs?: number;
  maxBatch?: number;
  log: Logger;
  onDropped?: (n: number) => void;
}

export function createIpcUsageSink(link: PrimaryLink, opts: IpcUsageOptions): UsageSink {
  const flushMs = Math.max(1, opts.flushMs ?? 20);
  const maxBatch = Math.max(1, opts.maxBatch ?? 200);
  let queue: WireUsage[] = [];
  let sending = 0;
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  function drop(n: number, why: string, error?: unknown): void {
    opts.onDropped?.(n);
    opts.log.error(why, { records: n, ...(error ? { error: error instanceof Error ? error.message : String(error) } : {}) });
  }

  function send(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (queue.length === 0) return Promise.resolve();
    const records = queue;
    queue = [];
    sending += records.length;
    const p = link
      .call<UsageReply>((id) => ({ lw: 1, t: 'usage', id, records, flush: false }))
      .then(
        () => {},
        (e: unknown) => drop(records.length, 'usage records lost: the primary did not take them', e),
      )
      .finally(() => {
        sending -= records.length;
        inFlight.delete(p);
      });
    inFlight.add(p);
    return p;
  }

  const settled = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  };

  return {
    record(r: UsageRecord): void {
      if (closed) {
        drop(1, 'usage record after close: dropped');
        return;
      }
      queue.push(encodeUsage(r));
      if (queue.length >= maxBatch) void send();
      else if (!timer) {
        timer = setTimeout(() => void send(), flushMs);
        timer.unref();
      }
    },

    async flush(): Promise<void> {
      void send();
      await settled();
      // a failed write is the primary's to retry (its writer keeps the batch): reported, not dropped here
      await link.call<UsageReply>((id) => ({ lw: 1, t: 'usage', id, records: [], flush: true }));
    },

    async close(): Promise<void> {
      void send();
      closed = true;
      await settled();
    },

    depth: () => queue.length + sending,
  };
}
