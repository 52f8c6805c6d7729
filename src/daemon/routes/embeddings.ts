/**
 * @module POST /v1/embeddings (seed 002). Shape checks in `parse`, the model-dependent checks
 * (`dimensions`, per-item and total token limits) in `validate`, once the model is known; exact token
 * counts only when read (`promptTokens`, an upstream answer without usage), a length-based guess to reserve.
 * Upstream: OpenAI-compatible providers only. The upstream is always asked for floats; `base64` is
 * produced by the gateway (`floatsToBase64`, exact float32 bytes), so every upstream supports it.
 */
import { floatsToBase64, base64ToFloats } from '../embeddings/base64.js';
import { validateEmbeddingsRequest, type EmbeddingModelInfo, type ValidatedEmbeddingsRequest } from '../embeddings/validate.js';
import { GatewayError } from '../errors.js';
import type { Exchange, JsonResult, RouteRequest } from '../pipeline/exchange.js';
import type { InferenceRoute } from '../pipeline/handle.js';
import { findCatalogEntry } from '../providers/catalog.js';
import { RawJsonObject } from '../providers/json-splice.js';
import { skipSpace } from '../providers/json-scan.js';
import { topLevelValue, usageFromTail } from '../providers/json-usage.js';
import type { ModelEntry } from '../state/types.js';
import type { TokenUsage } from '../translate/chat/types.js';
import { quickTextTokens } from '../usage/estimate.js';

interface UpstreamEmbedding {
  object?: string;
  index?: number;
  embedding?: number[] | string;
  [k: string]: unknown;
}

interface UpstreamEmbeddings {
  object?: string;
  data?: UpstreamEmbedding[];
  model?: string;
  usage?: { prompt_tokens?: number; total_tokens?: number } | null;
  [k: string]: unknown;
}

const infoCache = new WeakMap<ModelEntry, EmbeddingModelInfo>();

/**
 * What the validator needs of a model: its own capabilities and context window, else the built-in
 * catalog's (by id, then by the upstream names of its deployments), so a model added without
 * capabilities still gets the right `dimensions` range.
 */
export function embeddingModelInfo(model: ModelEntry): EmbeddingModelInfo {
  let info = infoCache.get(model);
  if (info) return info;
  const known = findCatalogEntry(model.id) ?? model.deployments.map((d) => findCatalogEntry(d.upstreamModel)).find((e) => e);
  const dimensions = model.capabilities.dimensions ?? (known?.kind === 'embedding' ? known.capabilities.dimensions : undefined);
  const maxInputTokens = model.contextWindow ?? (known?.kind === 'embedding' ? known.context_window : null);
  info = { id: model.id, capabilities: dimensions ? { dimensions } : {}, maxInputTokens };
  infoCache.set(model, info);
  return info;
}

/**
 * Tokenizer-free tokens of an embeddings `input` for reservations: strings by `quickTextTokens`, token
 * arrays by their length (exact). Reads the raw body, so it never throws on a malformed one.
 * @example quickInputTokens(['hello', [1, 2]]) // 2 + 2 = 4
 */
export function quickInputTokens(input: unknown): number {
  if (typeof input === 'string') return quickTextTokens(input);
  if (!Array.isArray(input)) return 0;
  if (input.length > 0 && typeof input[0] === 'number') return input.length;
  let tokens = 0;
  for (const item of input as unknown[]) {
    if (typeof item === 'string') tokens += quickTextTokens(item);
    else if (Array.isArray(item)) tokens += item.length;
  }
  return tokens;
}

function bad(message: string, param: string): never {
  throw new GatewayError('invalid_request', message, { param });
}

const FLOAT = JSON.stringify('float');

/**
 * The upstream body: the client's fields, the upstream model name, floats asked for, `dimensions` only
 * when validated. Spliced into the client's bytes (`clientBody`) when that is provably the same.
 */
export function upstreamBody(
  body: Record<string, unknown>,
  v: ValidatedEmbeddingsRequest,
  upstreamModel: string,
  clientBody: RawJsonObject | null,
): Buffer | string {
  if (clientBody) {
    const edits: Record<string, string | null> = { model: JSON.stringify(upstreamModel), encoding_format: FLOAT };
    if (v.dimensions === undefined) edits['dimensions'] = null;
    const spliced = clientBody.with(edits);
    if (spliced) return spliced;
  }
  const out: Record<string, unknown> = { ...body, model: upstreamModel, encoding_format: 'float' };
  if (v.dimensions === undefined) delete out['dimensions'];
  return JSON.stringify(out);
}

const MODEL_KEY = Buffer.from('"model"');
const EMBEDDING_KEY = Buffer.from('"embedding"');

/** Whether the first `"embedding":` value of an answer is an array (floats), not a base64 string. */
function firstEmbeddingIsArray(raw: Buffer): boolean {
  for (let at = raw.indexOf(EMBEDDING_KEY); at !== -1; at = raw.indexOf(EMBEDDING_KEY, at + 1)) {
    const colon = skipSpace(raw, at + EMBEDDING_KEY.length);
    if (raw[colon] !== 0x3a) continue; // `"object":"embedding"`: a value, not the key
    return raw[skipSpace(raw, colon + 1)] === 0x5b;
  }
  return false;
}

/**
 * The common case without re-serialising thousands of floats: the client asked for floats, the
 * upstream sent floats and reported usage, so its bytes go out as they are with only the top-level
 * `model` replaced by the public id. Null when anything differs (the full path below handles it).
 * The answer (tens of KB) is never copied: an id that fits where the upstream's name was is written
 * over it, padded with spaces (JSON whitespace); a longer one goes out as two parts, the answer up to
 * the name and a copy of the few bytes after it with the id in front.
 */
function relayedResult(raw: Buffer, v: ValidatedEmbeddingsRequest, publicModel: string): JsonResult | null {
  if (v.encodingFormat !== 'float') return null;
  const usage = usageFromTail(raw);
  const reported = usage?.['prompt_tokens'];
  if (typeof reported !== 'number' || !Number.isInteger(reported) || reported <= 0) return null;
  if (!firstEmbeddingIsArray(raw)) return null;
  const model = topLevelValue(raw, MODEL_KEY);
  if (!model || raw[model.start] !== 0x22) return null;
  const name = Buffer.from(JSON.stringify(publicModel));
  let body: Buffer | Buffer[] = raw;
  if (name.length <= model.end - model.start) {
    // the upstream's bytes are this answer's alone once read: edited where they are
    name.copy(raw, model.start);
    raw.fill(0x20, model.start + name.length, model.end);
  } else body = [raw.subarray(0, model.start), Buffer.concat([name, raw.subarray(model.end)])];
  const tokens: TokenUsage = { promptTokens: reported, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  return { body, usage: tokens };
}

/** Upstream JSON → the client's body: public model id, vectors in the encoding asked for, usage. */
function clientResult(raw: Buffer, v: ValidatedEmbeddingsRequest, publicModel: string): JsonResult {
  const relayed = relayedResult(raw, v, publicModel);
  if (relayed) return relayed;
  const parsed = JSON.parse(raw.toString('utf8')) as UpstreamEmbeddings;
  if (!parsed || !Array.isArray(parsed.data)) throw new Error('embeddings response without a data array');
  const data = parsed.data.map((item, i) => {
    const vec = item.embedding;
    let embedding: number[] | string;
    if (v.encodingFormat === 'base64') embedding = typeof vec === 'string' ? vec : floatsToBase64(vec ?? []);
    else embedding = typeof vec === 'string' ? base64ToFloats(vec) : (vec ?? []);
    return { ...item, object: 'embedding', index: item.index ?? i, embedding };
  });
  const reported = parsed.usage?.prompt_tokens;
  const hasUsage = typeof reported === 'number' && reported > 0;
  const prompt = hasUsage ? reported : v.totalTokens;
  const usage: TokenUsage = { promptTokens: prompt, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  const body = { ...parsed, object: 'list', data, model: publicModel, usage: { prompt_tokens: prompt, total_tokens: prompt } };
  return { body: JSON.stringify(body), usage, estimated: !hasUsage && v.tokensEstimated };
}

function embeddingsExchange(
  body: Record<string, unknown>,
  clientBody: RawJsonObject | null,
  v: ValidatedEmbeddingsRequest,
  upstreamModel: string,
  publicModel: string,
): Exchange {
  return {
    path: '/embeddings',
    body: upstreamBody(body, v, upstreamModel, clientBody),
    json: (raw) => clientResult(raw, v, publicModel),
    stream() {
      throw new GatewayError('invalid_request', 'Embeddings cannot be streamed.', { param: 'stream' });
    },
  };
}

const noEmbeddingsUpstream = (model: ModelEntry) =>
  new GatewayError(
    'invalid_request',
    `The model '${model.id}' has no embeddings upstream: embeddings go to OpenAI-compatible providers only.`,
    { param: 'model' },
  );

export const embeddingsRoute: InferenceRoute = {
  endpoint: 'embeddings',
  surface: 'openai',
  kind: 'embedding',
  parse(body, _headers, raw): RouteRequest {
    const name = body['model'];
    if (typeof name !== 'string' || !name) bad("'model' is required and must be a string.", 'model');
    if (body['input'] === undefined || body['input'] === null) {
      bad("'input' is required: a string, an array of strings, an array of token ids or an array of token-id arrays.", 'input');
    }
    if (body['stream'] === true) bad('Embeddings cannot be streamed; remove "stream".', 'stream');
    const rawBody = raw ? new RawJsonObject(raw) : null;
    let validated: ValidatedEmbeddingsRequest | null = null;
    let reserve: number | null = null;
    const checked = (): ValidatedEmbeddingsRequest => {
      if (!validated) throw new GatewayError('internal_error', 'embeddings request used before validation');
      return validated;
    };
    return {
      model: name,
      stream: false,
      maxOutputTokens: 0,
      validate(model) {
        if (!model.deployments.some((d) => d.provider.kind === 'openai')) throw noEmbeddingsUpstream(model);
        validated = validateEmbeddingsRequest(body, embeddingModelInfo(model));
      },
      promptTokens: () => checked().totalTokens,
      reserveTokens: () => (reserve ??= quickInputTokens(body['input'])),
      exchange(d, model) {
        if (d.provider.kind !== 'openai') throw noEmbeddingsUpstream(model);
        return embeddingsExchange(body, rawBody, checked(), d.upstreamModel, model.id);
      },
    };
  },
};
