/** @module Usage events as the request path hands them to the batched writer. */
import type { UsageAttempt } from '../../db/schema.js';

export type Endpoint = 'chat' | 'responses' | 'messages' | 'embeddings';

export interface UsageRecord {
  ts: Date;
  requestId: string;
  keyId: string;
  modelId: string;
  providerId: string | null;
  endpoint: Endpoint;
  status: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costPico: bigint;
  latencyMs: number;
  ttfbMs: number | null;
  estimated: boolean;
  unpriced: boolean;
  attempts: UsageAttempt[];
  errorCode: string | null;
}

/** Accepts usage records without blocking; writes them in batches off the hot path. */
export interface UsageSink {
  record(r: UsageRecord): void;
  /** Writes everything queued; resolves when it is in the store. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
  /** Records waiting to be written. */
  depth(): number;
}
