/**
 * @module The contract between an inference route and the relay: a route turns a validated client
 * request into an Exchange for one deployment (what to send upstream, how to turn the upstream's
 * answer into the client's format, where the usage is). Passthrough and translation are both Exchanges.
 */
import type { TokenUsage } from '../translate/chat/types.js';
import type { DeploymentEntry, ModelEntry } from '../state/types.js';
import type { GatewayError } from '../errors.js';

export interface JsonResult {
  /** Bytes for the client (passthrough: the upstream's own bytes); a list is sent in order, never joined. */
  body: string | Buffer | readonly Buffer[];
  usage: TokenUsage | null;
  /** The usage was counted by lw, not reported by the upstream. */
  estimated?: boolean;
  /** The answer's generated text, for estimating its tokens when the upstream reported no usage. */
  completionText?: () => string;
}

/** Turns upstream SSE frames into client SSE bytes, tracking usage and what was streamed. */
export interface StreamRelay {
  /** One complete upstream frame in; bytes to write out (or null to write nothing). */
  frame(frame: Buffer): string | Buffer | null;
  /** The upstream ended normally: trailing bytes (e.g. a final `data: [DONE]`). */
  end(): string | null;
  /** The upstream failed mid-stream: bytes that tell the client (error frame / response.failed). */
  fail(err: GatewayError): string | null;
  /** Usage the upstream reported, or null when it sent none. */
  usage(): TokenUsage | null;
  /** Completion text streamed so far (for estimating when usage never came). */
  streamedText(): string;
}

export interface Exchange {
  /** Path under the provider's base URL. */
  path: string;
  body: string | Buffer;
  /** Extra upstream headers beyond content-type and auth. */
  headers?: Record<string, string>;
  /** Upstream 2xx JSON body → client body + usage. */
  json(raw: Buffer): JsonResult;
  stream(): StreamRelay;
}

export interface RouteRequest {
  model: string;
  stream: boolean;
  /** Requested output cap, if any (reservation for limits). */
  maxOutputTokens: number | null;
  /** Prompt tokens by a real tokenizer; called only when a usage estimate needs it (loads the tokenizer). */
  promptTokens(): number;
  /**
   * A cheap, tokenizer-free prompt-token guess for reservations and routing (characters of the
   * prompt's text ÷ 3, plus framing): runs on every limited request, so it must not tokenize.
   */
  reserveTokens(): number;
  /**
   * Model-dependent checks (e.g. embeddings `dimensions`, per-model token limits), run right after the
   * model is resolved and before limits are admitted; throws a GatewayError (400) to refuse.
   */
  validate?(model: ModelEntry): void;
  /** Builds what to send to one deployment. */
  exchange(deployment: DeploymentEntry, model: ModelEntry, requestId: string): Exchange;
  /** Client-facing stream content type and the bytes written for an error before any frame (if any). */
}
