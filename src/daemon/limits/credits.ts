/**
 * @module Exact prepaid credits for the in-memory limiter. The balance a key may spend is
 *
 *     available = stored − pending − reserved
 *
 * - `stored`: best knowledge of `api_keys.credits_pico`. Set from the snapshot when the key is first seen
 *   or when an admin changes it (`lw keys set --credits` → new snapshot), and set to the TRUE value by
 *   every usage-writer report (the writer reports `credits_pico` after its debit, inside its transaction,
 *   so reports arrive in commit order).
 * - `pending`: real cost settled here but not yet persisted (the writer's queue); a report subtracts what
 *   it persisted (once per batch id, so a retried flush is not subtracted twice).
 * - `reserved`: estimates of requests in flight.
 *
 * A snapshot is read at some moment we cannot order against flushes, so a changed snapshot value is
 * adopted at once only when it was never seen before (a stale snapshot shows a value the store held
 * earlier: a previous snapshot value, or the balance before a reported flush), and in every case the key
 * is queued for a refresh that the writer answers with the stored value in its next flush (≤ 250 ms).
 * An admin top-up is therefore visible at once, and any ambiguity is gone after one flush.
 */
import type { PersistedDebit } from './types.js';

/** How long a value counts as "seen" (stale snapshots and other daemons' reloads settle well within). */
export const SEEN_TTL_MS = 600_000;

export interface CreditState {
  stored: bigint | null;
  /** Last snapshot value observed ('null' or digits); undefined before the first observation. */
  snap: string | undefined;
  pending: bigint;
  reserved: bigint;
  /** Values the store is known to have held recently → expiry (epoch ms). */
  seen: Map<string, number>;
}

const BATCHES_KEPT = 4096;

export class CreditBook {
  private readonly states = new Map<string, CreditState>();
  private readonly refresh = new Set<string>();
  private readonly batches = new Set<string>();

  get(keyId: string): CreditState {
    let s = this.states.get(keyId);
    if (!s) {
      s = { stored: null, snap: undefined, pending: 0n, reserved: 0n, seen: new Map() };
      this.states.set(keyId, s);
    }
    return s;
  }

  /** Takes note of the snapshot's `creditsPico` for the key (see the module comment). */
  observe(keyId: string, value: bigint | null, now: number): CreditState {
    const s = this.get(keyId);
    const v = value === null ? 'null' : value.toString();
    if (s.snap === v) return s;
    const first = s.snap === undefined;
    s.snap = v;
    this.refresh.add(keyId);
    for (const [k, exp] of s.seen) if (exp <= now) s.seen.delete(k);
    if (first || !s.seen.has(v)) s.stored = value;
    s.seen.set(v, now + SEEN_TTL_MS);
    return s;
  }

  available(s: CreditState): bigint | null {
    return s.stored === null ? null : s.stored - s.pending - s.reserved;
  }

  persisted(batchId: string, debits: readonly PersistedDebit[], now: number): void {
    const fresh = !this.batches.has(batchId);
    if (fresh) {
      this.batches.add(batchId);
      if (this.batches.size > BATCHES_KEPT) this.batches.delete(this.batches.values().next().value as string);
    }
    for (const d of debits) {
      const s = this.states.get(d.keyId);
      if (!s) continue;
      if (fresh) s.pending -= d.costPico;
      s.stored = d.balancePico;
      if (d.balancePico !== null) s.seen.set((d.balancePico + d.costPico).toString(), now + SEEN_TTL_MS);
    }
  }

  takeRefreshes(): string[] {
    const ids = [...this.refresh];
    this.refresh.clear();
    return ids;
  }
}
