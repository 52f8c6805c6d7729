/**
 * @module The batched usage writer (UsageSink). `record()` only encodes the record into the open batch
 * (db/queries/usage-batch.ts: one COPY text line and running sums, so no record object outlives its request);
 * a timer flushes at least every `flushMs` (≤ 1 s), sooner when a batch fills. One flush = one
 * transaction: usage_events (one COPY FROM STDIN), usage_daily upserts, `api_keys.credits_pico` debits and
 * `last_used_at` (writeUsageBatch). Inside that
 * transaction, before commit, the limiter's CreditLedger is told what was debited, so its balances stay
 * exact (see limits/credits.ts). A failed flush keeps its batch (same batch id) and is retried with
 * backoff; flushes never overlap; `close()` flushes everything. The queue is bounded: past `maxQueue`
 * records are dropped and counted through `onDropped` (a store down for minutes), never silently.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../../db/client.js';
import { writeUsageBatch } from '../../db/queries/usage.js';
import { UsageBatch } from '../../db/queries/usage-batch.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { CreditLedger } from '../limits/types.js';
import type { UsageRecord, UsageSink } from './types.js';

export interface UsageWriterOptions {
  /** Flush interval; at most 1,000 ms. Default 250. */
  flushMs?: number;
  /** Records per transaction at most (a fuller batch is written at once). Default 5,000. */
  maxBatch?: number;
  /** Records held at most (queued + in the failing batch). Default 100,000. */
  maxQueue?: number;
  log?: Logger;
  /** The limiter, whose credit balances follow the debits (Limiter implements CreditLedger). */
  credits?: CreditLedger;
  /** After each committed flush. */
  onFlush?: (info: { records: number; keys: number; ms: number }) => void;
  /** Records that could not be queued (the queue was full). */
  onDropped?: (n: number) => void;
  /** Attempts of the final flush in close(). Default 5. */
  closeAttempts?: number;
}

const MAX_BACKOFF_MS = 5_000;

export function createUsageWriter(store: Store, opts: UsageWriterOptions = {}): UsageSink {
  const flushMs = Math.min(1_000, Math.max(10, opts.flushMs ?? 250));
  const maxBatch = Math.max(1, opts.maxBatch ?? 5_000);
  const maxQueue = Math.max(maxBatch, opts.maxQueue ?? 100_000);
  const log = opts.log ?? silentLogger;
  const credits = opts.credits;
  /** Filled by record(); sealed into `ready` when it holds maxBatch records, or by the timer. */
  let open = new UsageBatch(randomUUID());
  /** Sealed batches waiting, oldest first. */
  const ready: UsageBatch[] = [];
  let queued = 0;
  /** The batch being written (kept, same id, while its write fails and is retried). */
  let batch: UsageBatch | null = null;
  const refreshIds = new Set<string>();
  let running: Promise<void> | null = null;
  let failures = 0;
  let retryAt = 0;
  let closed = false;
  let dropped = 0;
  let soon: NodeJS.Immediate | null = null;

  const depth = (): number => queued + (batch?.size ?? 0);

  function pullRefreshes(): void {
    if (credits) for (const id of credits.takeCreditRefreshes()) refreshIds.add(id);
  }

  function takeBatch(): UsageBatch {
    let next = ready.shift();
    if (!next) {
      next = open;
      open = new UsageBatch(randomUUID());
    }
    queued -= next.size;
    return next;
  }

  async function flushOne(): Promise<void> {
    batch ??= takeBatch();
    if (refreshIds.size > 0) {
      batch.refresh = [...new Set([...batch.refresh, ...refreshIds])];
      refreshIds.clear();
    }
    const b = batch;
    const t0 = Date.now();
    let keys = 0;
    await store.db.transaction(async (tx) => {
      const debits = await writeUsageBatch(tx, b);
      keys = debits.length;
      if (credits && debits.length > 0) await credits.persisted(b.id, debits);
    });
    batch = null;
    b.recycle(); // the store has every row: the buffer goes to the next batches
    opts.onFlush?.({ records: b.size, keys, ms: Date.now() - t0 });
  }

  /**
   * Moves the open batch to `ready`: when it holds records, or credit refreshes wait and no batch
   * would carry them.
   */
  function seal(): void {
    pullRefreshes();
    if (open.size > 0 || (refreshIds.size > 0 && ready.length === 0 && batch === null)) {
      ready.push(open);
      open = new UsageBatch(randomUUID());
    }
  }

  /**
   * Writes the sealed batches (and a failed one again); with `everything`, also what arrives meanwhile,
   * until nothing is queued. One run at a time (callers share it). Records that arrive during a
   * scheduled write wait in the open batch for the next tick: writing them as soon as the previous
   * write ends made batches of ~20 ms at load, each a transaction of six statements.
   */
  function drain(everything = false): Promise<void> {
    running ??= (async () => {
      // Yield first: with nothing to write the body would finish synchronously, clearing `running` in
      // `finally` before `??=` stores the settled promise, which would then block every later flush.
      await Promise.resolve();
      try {
        if (everything) seal();
        while (ready.length > 0 || batch !== null) {
          try {
            await flushOne();
            failures = 0;
          } catch (err) {
            failures++;
            retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, flushMs * 2 ** failures);
            log.warn('usage flush failed; the batch is kept and retried', {
              records: batch?.size ?? 0,
              queued,
              attempt: failures,
              error: err instanceof Error ? err.message : String(err),
            });
            throw err;
          }
          if (everything && ready.length === 0) seal();
        }
      } finally {
        running = null;
      }
    })();
    return running;
  }

  /** The timer's turn: seals what the open batch holds and writes it. */
  function tick(): void {
    if (running || Date.now() < retryAt) return;
    seal();
    drain().catch(() => {}); // logged in drain; retried on a later tick
  }

  /** A batch filled up: written now, without sealing the (nearly empty) open one. */
  function writeReady(): void {
    if (running || Date.now() < retryAt) return;
    drain().catch(() => {});
  }

  const timer = setInterval(tick, flushMs);
  timer.unref();

  function drop(n: number): void {
    dropped += n;
    opts.onDropped?.(n);
    if (dropped === n || dropped % 1000 === 0) {
      log.error('usage queue full: records dropped', { dropped_total: dropped, queued: depth(), max_queue: maxQueue });
    }
  }

  return {
    record(r: UsageRecord): void {
      if (closed) {
        log.error('usage record after close: dropped', { request_id: r.requestId });
        drop(1);
        return;
      }
      if (depth() >= maxQueue) {
        drop(1);
        return;
      }
      open.add(r);
      queued++;
      if (open.size >= maxBatch) {
        ready.push(open);
        open = new UsageBatch(randomUUID());
      }
      if (ready.length > 0 && !running && !soon && Date.now() >= retryAt) {
        soon = setImmediate(() => {
          soon = null;
          writeReady();
        });
      }
    },

    async flush(): Promise<void> {
      if (running) await running.catch(() => {});
      seal();
      // a write already under way may have ended its loop before the seal: go again until it is written
      while (ready.length > 0 || batch !== null) await drain();
    },

    async close(): Promise<void> {
      clearInterval(timer);
      if (soon) clearImmediate(soon);
      const attempts = Math.max(1, opts.closeAttempts ?? 5);
      try {
        for (let i = 1; ; i++) {
          try {
            if (running) await running.catch(() => {});
            await drain(true);
            return;
          } catch (err) {
            if (i >= attempts) throw err;
            await new Promise((res) => setTimeout(res, Math.min(MAX_BACKOFF_MS, 100 * 2 ** i)));
          }
        }
      } catch (err) {
        log.error('usage not written at shutdown', { records: depth(), error: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        closed = true;
      }
    },

    depth,
  };
}
