/**
 * @module A worker's Limiter: every decision is the primary's. `admit` sends the key and the estimate
 * and waits for the primary's limiter (memory or Redis), which decides in one process, so RPM, TPM,
 * concurrency, quota and credits are exact across workers; a refusal comes back as the same
 * GatewayError (status, Retry-After and x-ratelimit-* headers). The primary keeps the admission under
 * this worker's admission id until `settle` (sent at once, one way, before the request's usage record,
 * so the primary counts the settlement before the writer reports the debit), or until this worker
 * dies, when the primary settles it as never sent upstream.
 *
 * The credit ledger lives with the primary's writer: `persisted` is forwarded (unused by workers) and
 * `takeCreditRefreshes` is empty here (the primary's limiter, which sees every admission, keeps them).
 */
import { GatewayError } from '../errors.js';
import type { Admission, AdmissionRequest, KeyLimitState, Limiter, PeriodSeed, PersistedDebit, Settlement } from '../limits/types.js';
import type { PrimaryLink } from './link.js';
import { decodeState, encodeDebit, encodeKey, encodeSettlement, type AdmitReply, type WireLimitState } from './protocol.js';

export interface IpcLimiterOptions {
  /** A decision the primary has not answered in this long fails the request (default 30 s). */
  timeoutMs?: number;
}

const NOTHING: Settlement = { tokens: 0, costPico: 0n, reachedUpstream: false };

export function createIpcLimiter(link: PrimaryLink, opts: IpcLimiterOptions = {}): Limiter {
  const timeoutMs = opts.timeoutMs ?? 30_000;

  function settleMessage(id: number, s: Settlement): void {
    link.send({ lw: 1, t: 'settle', id, ...encodeSettlement(s) });
  }

  return {
    async admit(req: AdmissionRequest): Promise<Admission> {
      let id = 0;
      let reply: AdmitReply;
      try {
        reply = await link.call<AdmitReply>(
          (n) => {
            id = n;
            return { lw: 1, t: 'admit', id: n, key: encodeKey(req.key), tokens: req.estimatedTokens, cost: req.estimatedCostPico.toString() };
          },
          // admitted after we gave up: give it back at once
          { timeoutMs, late: (ok) => ok && settleMessage(id, NOTHING) },
        );
      } catch (e) {
        if (e instanceof GatewayError) throw e;
        throw new GatewayError('internal_error', 'The gateway could not check this key\'s limits; retry.', { cause: e });
      }
      let settled = false;
      return {
        headers: reply.headers,
        settle(actual: Settlement): void {
          if (settled) return;
          settled = true;
          settleMessage(id, actual);
        },
      };
    },

    async state(key): Promise<KeyLimitState> {
      const s = await link.call<WireLimitState>((id) => ({ lw: 1, t: 'state', id, key: encodeKey(key) }), { timeoutMs });
      return decodeState(s);
    },

    async seed(entries: readonly PeriodSeed[]): Promise<void> {
      await link.call((id) => ({ lw: 1, t: 'seed', id, entries: [...entries] }));
    },

    async persisted(batchId: string, debits: readonly PersistedDebit[]): Promise<void> {
      await link.call((id) => ({ lw: 1, t: 'persisted', id, batch: batchId, debits: debits.map(encodeDebit) }));
    },

    takeCreditRefreshes: () => [],

    async close(): Promise<void> {},
  };
}
