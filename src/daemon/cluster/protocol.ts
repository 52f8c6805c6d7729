/**
 * @module The messages between `lw serve --workers N`'s primary and its workers (node:cluster IPC, JSON
 * serialization) and their pure codecs. Every message carries `lw: 1` (anything else on the channel is
 * not ours). bigint amounts travel as decimal strings and Dates as epoch milliseconds, converted here and
 * nowhere else, so a cost or a balance is the same pico-dollar on both sides.
 *
 * Worker → primary: requests with an `id` the primary answers with `reply` (admit, state, seed,
 * persisted, usage, changed, metrics), one-way `settle`, `hello` (listening for `init`: a message sent
 * before the worker listens would be lost), `ready`/`failed` at start-up, and `answer` to the primary's
 * own requests (`reload`, `collect`). Primary → worker: `init` (the answer to `hello`), `reply`, `reload`,
 * `collect` and `drain`.
 */
import type { Config } from '../../lib/config.js';
import { GatewayError, type ErrorCode } from '../errors.js';
import type { KeyLimitState, PeriodSeed, PersistedDebit, Settlement } from '../limits/types.js';
import type { KeyEntry } from '../state/types.js';
import type { UsageRecord } from '../usage/types.js';

export type WireKey = Omit<KeyEntry, 'creditsPico'> & { creditsPico: string | null };
export type WireUsage = Omit<UsageRecord, 'ts' | 'costPico'> & { ts: number; costPico: string };
export type WireLimitState = Omit<KeyLimitState, 'creditsPico'> & { creditsPico: string | null };
export interface WireDebit {
  keyId: string;
  costPico: string;
  balancePico: string | null;
}
export interface WireSettlement {
  tokens: number;
  cost: string;
  reached: boolean;
}
export interface WireError {
  /** Set for a GatewayError; a plain error becomes an internal error on the worker. */
  code?: ErrorCode;
  message: string;
  status?: number;
  param?: string | null;
  headers?: Record<string, string>;
}

/** What a worker needs to serve: sent by the primary as the first message. */
export interface WorkerInit {
  config: Config;
  /** Port to listen on: the configured one (with 0 node:cluster gives every worker the same). */
  port: number;
  /** The embedded store's socket (its process belongs to the primary); null on Postgres. */
  store: { socketPath: string; location: string } | null;
  /** Worker number (1…N, kept by a replacement), for logs. */
  index: number;
}

type Msg<T extends string, B = object> = { lw: 1; t: T } & B;

export type ToPrimary =
  | Msg<'hello'>
  | Msg<'ready', { port: number }>
  | Msg<'failed', { message: string; code?: string }>
  | Msg<'admit', { id: number; key: WireKey; tokens: number; cost: string }>
  | Msg<'settle', { id: number } & WireSettlement>
  | Msg<'state', { id: number; key: WireKey }>
  | Msg<'seed', { id: number; entries: PeriodSeed[] }>
  | Msg<'persisted', { id: number; batch: string; debits: WireDebit[] }>
  | Msg<'usage', { id: number; records: WireUsage[]; flush: boolean }>
  | Msg<'changed', { id: number }>
  | Msg<'metrics', { id: number }>
  | Msg<'answer', { id: number; value?: unknown }>;

export type ToWorker =
  | Msg<'init', { init: WorkerInit }>
  | Msg<'reply', { id: number; ok: true; value?: unknown }>
  | Msg<'reply', { id: number; ok: false; error: WireError }>
  | Msg<'reload', { id: number }>
  | Msg<'collect', { id: number }>
  | Msg<'drain'>;

/** What a call's reply carries, per request type. */
export interface AdmitReply {
  headers: Record<string, string>;
}
export interface UsageReply {
  /** The primary's usage writer queue after these records were queued. */
  depth: number;
}
export interface MetricsReply {
  text: string;
  contentType: string;
}

/** True for a message of this protocol (node:cluster and libraries use the same channel). */
export function isLwMessage<T extends ToPrimary | ToWorker>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && (m as { lw?: unknown }).lw === 1 && typeof (m as { t?: unknown }).t === 'string';
}

export const encodeKey = (k: KeyEntry): WireKey => ({ ...k, creditsPico: k.creditsPico === null ? null : k.creditsPico.toString() });
export const decodeKey = (k: WireKey): KeyEntry => ({ ...k, creditsPico: k.creditsPico === null ? null : BigInt(k.creditsPico) });

export const encodeUsage = (r: UsageRecord): WireUsage => ({ ...r, ts: r.ts.getTime(), costPico: r.costPico.toString() });
export const decodeUsage = (r: WireUsage): UsageRecord => ({ ...r, ts: new Date(r.ts), costPico: BigInt(r.costPico) });

export const encodeState = (s: KeyLimitState): WireLimitState => ({ ...s, creditsPico: s.creditsPico === null ? null : s.creditsPico.toString() });
export const decodeState = (s: WireLimitState): KeyLimitState => ({ ...s, creditsPico: s.creditsPico === null ? null : BigInt(s.creditsPico) });

export const encodeDebit = (d: PersistedDebit): WireDebit => ({
  keyId: d.keyId,
  costPico: d.costPico.toString(),
  balancePico: d.balancePico === null ? null : d.balancePico.toString(),
});
export const decodeDebit = (d: WireDebit): PersistedDebit => ({
  keyId: d.keyId,
  costPico: BigInt(d.costPico),
  balancePico: d.balancePico === null ? null : BigInt(d.balancePico),
});

export const encodeSettlement = (s: Settlement): WireSettlement => ({
  tokens: s.tokens,
  cost: s.costPico.toString(),
  reached: s.reachedUpstream !== false,
});
export const decodeSettlement = (s: WireSettlement): Settlement => ({ tokens: s.tokens, costPico: BigInt(s.cost), reachedUpstream: s.reached });

/** A refusal (GatewayError: code, status, headers such as Retry-After) or any other failure, for the wire. */
export function encodeError(e: unknown): WireError {
  if (e instanceof GatewayError) {
    return { code: e.code, message: e.message, status: e.status, param: e.param, ...(e.headers ? { headers: e.headers } : {}) };
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

/** The worker-side error: the same GatewayError the primary's limiter threw, or a plain Error. */
export function decodeError(w: WireError): Error {
  if (!w.code) return new Error(w.message);
  return new GatewayError(w.code, w.message, {
    ...(w.status !== undefined ? { status: w.status } : {}),
    ...(w.param !== undefined && w.param !== null ? { param: w.param } : {}),
    ...(w.headers ? { headers: w.headers } : {}),
  });
}

/**
 * How long to wait before replacing a worker that died: at once after a worker that ran a while, then
 * doubling (250 ms, 500 ms, … 30 s) while workers keep dying within `windowMs` of each other.
 * @param recent epoch ms of the recent unexpected exits, newest last (this exit included)
 */
export function restartDelay(recent: readonly number[], now: number, windowMs = 60_000): number {
  const inWindow = recent.filter((t) => now - t < windowMs).length;
  if (inWindow <= 1) return 0;
  return Math.min(30_000, 250 * 2 ** (inWindow - 2));
}
