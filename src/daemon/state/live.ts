/**
 * @module The daemon's live snapshot: loaded at start, reloaded when the store announces a change
 * (LISTEN `lw_changes`) and, as a backstop for lost notifications and for changes made by other
 * processes on PGlite, when a cheap revision poll (off the request path) sees the counter move.
 * Reloads are coalesced; a failed reload keeps the previous snapshot and is logged.
 */
import type { Store } from '../../db/client.js';
import { CHANGES_CHANNEL, readRevision } from '../../db/queries/meta.js';
import type { Logger } from '../../lib/log.js';
import { loadSnapshot } from './load.js';
import type { Snapshot } from './types.js';

export interface LiveStateOptions {
  /** Revision poll interval (default 1000 ms; 0 disables polling). */
  pollMs?: number;
  log: Logger;
}

type ReloadListener = (snapshot: Snapshot) => void;

export class LiveState {
  current: Snapshot;
  private readonly listeners = new Set<ReloadListener>();
  private inflight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  /** Failures already reported (by source), so an outage is logged once, not every second. */
  private readonly failing = new Map<'load' | 'poll', string>();
  private unlisten: (() => Promise<void>) | null = null;
  private stopped = false;

  private constructor(
    private readonly store: Store,
    private readonly log: Logger,
    initial: Snapshot,
  ) {
    this.current = initial;
  }

  /**
   * Loads the first snapshot (throws when the store cannot be read) and starts watching for changes.
   * @example
   * const live = await LiveState.start(store, { log });
   * const key = live.current.keysByHash.get(hash);
   */
  static async start(store: Store, opts: LiveStateOptions): Promise<LiveState> {
    const live = new LiveState(store, opts.log, await loadSnapshot(store.db));
    try {
      live.unlisten = await store.listen(CHANGES_CHANNEL, (payload) => live.onNotify(payload));
    } catch (e) {
      opts.log.warn('cannot listen for store changes; relying on the revision poll', { error: e as Error });
    }
    const pollMs = opts.pollMs ?? 1_000;
    if (pollMs > 0) {
      live.timer = setInterval(() => void live.poll(), pollMs);
      live.timer.unref();
    }
    return live;
  }

  /** Calls `cb` with every new snapshot. Returns an unsubscribe. */
  onReload(cb: ReloadListener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /**
   * Rebuilds the snapshot. A call during a reload is folded into one follow-up reload (which sees
   * every change committed before it starts); it never rejects.
   */
  reload(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.inflight) {
      this.queued ??= this.inflight.then(() => {
        this.queued = null;
        return this.reload();
      });
      return this.queued;
    }
    this.inflight = this.load().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** True when the store answers (readiness). */
  async ping(): Promise<boolean> {
    try {
      await readRevision(this.store.db);
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const unlisten = this.unlisten;
    this.unlisten = null;
    await unlisten?.().catch(() => {});
    await this.inflight;
  }

  private async load(): Promise<void> {
    try {
      // Loads never overlap, so the latest load is the newest state (even if the revision went back).
      const next = await loadSnapshot(this.store.db);
      this.recovered('load');
      const changed = next.revision !== this.current.revision;
      this.current = next;
      if (changed) this.log.debug('store snapshot reloaded', { revision: next.revision });
      for (const cb of this.listeners) {
        try {
          cb(next);
        } catch (e) {
          this.log.error('snapshot listener failed', { error: e as Error });
        }
      }
    } catch (e) {
      this.failed('load', 'snapshot reload failed; still serving the previous one', e);
    }
  }

  private onNotify(payload: string): void {
    const revision = Number(payload);
    if (Number.isFinite(revision) && revision <= this.current.revision && !this.inflight) return;
    void this.reload();
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const revision = await readRevision(this.store.db);
      this.recovered('poll');
      if (revision !== this.current.revision) await this.reload();
    } catch (e) {
      this.failed('poll', 'store revision poll failed; still serving the previous snapshot', e);
    } finally {
      this.polling = false;
    }
  }

  private failed(source: 'load' | 'poll', msg: string, e: unknown): void {
    // Drizzle wraps driver errors ("Failed query: …"); the cause says what went wrong.
    const cause = (e as { cause?: unknown }).cause;
    const err = cause instanceof Error ? cause : (e as Error);
    if (this.failing.get(source) === err.message) return;
    this.failing.set(source, err.message);
    this.log.error(msg, { revision: this.current.revision, error: err });
  }

  private recovered(source: 'load' | 'poll'): void {
    if (!this.failing.delete(source)) return;
    this.log.info(source === 'load' ? 'snapshot reload works again' : 'store reachable again', {
      revision: this.current.revision,
    });
  }
}
