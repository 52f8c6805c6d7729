/**
 * @module Validation of a `POST /v1/embeddings` body (seed 002): input shapes, `dimensions`, `encoding_format`
 * and the item / per-item / per-request token limits, each violation a 400 naming the limit and the item.
 * The cl100k tokenizer (`bpe.ts`, a 2.1 MB rank table) is loaded only when an item's bytes do not already
 * prove it within the limits, or when an exact count is read; never by importing this module.
 */
import { GatewayError } from '../errors.js';
import { countTokensWithin } from '../usage/bpe.js';

export interface EmbeddingsLimits {
  maxItems: number;
  maxTokensPerItem: number;
  maxTotalTokens: number;
}

/** Seed 002's limits. */
export const EMBEDDINGS_LIMITS: Readonly<EmbeddingsLimits> = Object.freeze({
  maxItems: 2048,
  maxTokensPerItem: 8192,
  maxTotalTokens: 300_000,
});

export interface EmbeddingModelInfo {
  id: string;
  capabilities: { dimensions?: { min: number; max: number; default?: number } };
  /** Per-item token limit of this model (its context window); default 8,192. */
  maxInputTokens?: number | null;
}

export interface ValidateEmbeddingsOptions {
  /**
   * `exact` (default) enforces every limit exactly and returns exact counts, but tokenizes at validation only
   * the items whose UTF-8 bytes exceed the per-item limit (tokens ≤ bytes) or all of them when the bytes
   * exceed the total; the counts of the others are computed when first read. `estimate` skips the tokenizer
   * when byte lengths prove that no limit can be reached and then returns ~4 bytes per token estimates.
   */
  counting?: 'exact' | 'estimate';
  limits?: Partial<EmbeddingsLimits>;
}

export interface ValidatedEmbeddingsRequest {
  /** One entry per input item: a string or a token-id array. */
  inputs: Array<string | number[]>;
  /** Counts (this and the next two) may be computed on first read, which can load the tokenizer. */
  totalTokens: number;
  perItemTokens: number[];
  /** True when counts are estimates: `counting: 'estimate'`, or a long space-free stretch cut where it stood. */
  tokensEstimated: boolean;
  dimensions?: number;
  encodingFormat: 'float' | 'base64';
  user?: string;
}

const INPUT_SHAPES = 'a string, an array of strings, an array of token ids or an array of token-id arrays';
const NO_MIXING = 'do not mix types: send all strings or all token arrays.';

function invalid(message: string, param: string | null = 'input'): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

const fmt = (n: number): string => n.toLocaleString('en-US');

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

function isTokenId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function checkTokens(tokens: readonly unknown[], label: string): number[] {
  if (tokens.length === 0) {
    throw invalid(`${label} is an empty token array; every input needs at least one token.`);
  }
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t];
    if (!isTokenId(token)) {
      const shown = typeof token === 'number' ? String(token) : typeName(token);
      throw invalid(`${label}[${t}] is not a valid token id (${shown}); token ids are non-negative integers.`);
    }
  }
  return tokens as number[];
}

/** The input as a list of items, checked for shape and types (no token counting yet). */
function parseInput(input: unknown, maxItems: number): { items: Array<string | number[]>; single: boolean } {
  if (input === undefined || input === null) throw invalid(`'input' is required: ${INPUT_SHAPES}.`);
  if (typeof input === 'string') {
    if (input === '') throw invalid(`'input' is an empty string; it needs at least one token.`);
    return { items: [input], single: true };
  }
  if (!Array.isArray(input)) throw invalid(`'input' must be ${INPUT_SHAPES}; got ${typeName(input)}.`);
  if (input.length === 0) throw invalid(`'input' is an empty array; send at least one item.`);
  const first: unknown = input[0];
  if (typeof first === 'number') return { items: [checkTokens(input, 'input')], single: true };
  if (input.length > maxItems) {
    throw invalid(
      `'input' has ${fmt(input.length)} items; the maximum is ${fmt(maxItems)} items per request. ` +
        'Split it into smaller batches.',
    );
  }
  const kind = typeof first === 'string' ? 'string' : Array.isArray(first) ? 'array' : null;
  if (kind === null) throw invalid(`input[0] is ${typeName(first)}; 'input' must be ${INPUT_SHAPES}.`);
  const items: Array<string | number[]> = new Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const item: unknown = input[i];
    if (kind === 'string') {
      if (typeof item !== 'string') {
        throw invalid(`input[${i}] is ${typeName(item)} but input[0] is a string; ${NO_MIXING}`);
      }
      if (item === '') throw invalid(`input[${i}] is an empty string; every input needs at least one token.`);
      items[i] = item;
    } else {
      if (!Array.isArray(item)) {
        throw invalid(`input[${i}] is ${typeName(item)} but input[0] is a token array; ${NO_MIXING}`);
      }
      items[i] = checkTokens(item, `input[${i}]`);
    }
  }
  return { items, single: false };
}

function parseEncodingFormat(value: unknown): 'float' | 'base64' {
  if (value === undefined || value === null || value === 'float') return 'float';
  if (value === 'base64') return 'base64';
  const got = typeof value === 'string' ? JSON.stringify(value) : typeName(value);
  throw invalid(`'encoding_format' must be "float" or "base64"; got ${got}.`, 'encoding_format');
}

function parseDimensions(value: unknown, model: EmbeddingModelInfo): number | undefined {
  if (value === undefined || value === null) return undefined;
  const range = model.capabilities.dimensions;
  if (!range) {
    throw invalid(
      `The model ${model.id} does not support the 'dimensions' parameter ` +
        '(its vectors have a fixed size); remove it.',
      'dimensions',
    );
  }
  const allowed = `${model.id} supports ${fmt(range.min)} to ${fmt(range.max)} dimensions`;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const got = typeof value === 'number' ? String(value) : typeName(value);
    throw invalid(`'dimensions' must be an integer; got ${got}. ${allowed}.`, 'dimensions');
  }
  if (value < range.min || value > range.max) {
    throw invalid(`'dimensions' is ${fmt(value)}, out of range: ${allowed}.`, 'dimensions');
  }
  return value;
}

/** cl100k_base tokens of `text`, or false once they pass `limit`; special-token text counts as ordinary text. */
function isWithinTokenLimit(text: string, limit: number): number | false {
  return countTokensWithin('cl100k_base', text, limit);
}

/**
 * Text goes to the tokenizer in chunks cut only where no pre-token can cross (see `isSafeCut`), which keeps
 * the count exact; a stretch of RUN characters with no such place is cut where it stands (about one token off
 * per cut). The chunks were needed when BPE cost grew with the square of a pre-token's length (gpt-tokenizer:
 * 40,000 letters took seconds); `bpe.ts` merges in O(n log n), so they now only bound the work per call and
 * keep the counts (and `approximate`) what they have always been.
 */
const RUN = 128;
/** Characters handed to the tokenizer per call when cuts are safe. */
const CHUNK = 2048;

/** The character classes of cl100k's pre-tokenizer: Letter, Number, White space, Symbol (anything else). */
type CharClass = 'L' | 'N' | 'W' | 'S';

function classOf(cp: number): CharClass {
  if (cp < 128) {
    if ((cp | 32) >= 97 && (cp | 32) <= 122) return 'L';
    if (cp >= 48 && cp <= 57) return 'N';
    return cp === 32 || (cp >= 9 && cp <= 13) ? 'W' : 'S';
  }
  const ch = String.fromCodePoint(cp);
  if (/\p{L}/u.test(ch)) return 'L';
  if (/\p{N}/u.test(ch)) return 'N';
  return /\s/u.test(ch) ? 'W' : 'S';
}

const isLowSurrogate = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

/**
 * True when cl100k's pre-tokenizer (gpt-tokenizer's `CL100K_TOKEN_SPLIT_PATTERN`: contractions `'s…`,
 * `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}{1,3}`, ` ?[^\s\p{L}\p{N}]+[\r\n]*`, then whitespace rules) always ends a
 * piece before `text[i]`: a single space between two non-spaces (it opens the next piece), a symbol right
 * after a letter or digit, or a change between letters and digits. Whitespace at a cut is never involved.
 */
function isSafeCut(text: string, i: number): boolean {
  const unit = text.charCodeAt(i);
  if (isLowSurrogate(unit)) return false;
  const prevUnit = text.charCodeAt(i - 1);
  const before = classOf(isLowSurrogate(prevUnit) && i >= 2 ? (text.codePointAt(i - 2) ?? prevUnit) : prevUnit);
  if (unit === 32) return before !== 'W' && i + 1 < text.length && classOf(text.codePointAt(i + 1) ?? 32) !== 'W';
  const here = classOf(text.codePointAt(i) ?? 32);
  if (before === 'L') return here === 'S' || here === 'N';
  if (before === 'N') return here === 'S' || here === 'L';
  return false;
}

/**
 * Tokens of `text` (cl100k_base, the encoding of OpenAI's embedding models), or null as soon as it passes
 * `limit`. Work is linear in the text consumed, which stops at the limit.
 */
export function countTokensUpTo(text: string, limit: number): { tokens: number | null; approximate: boolean } {
  let total = 0;
  let approximate = false;
  let chunkStart = 0;
  const flush = (end: number): boolean => {
    if (end > chunkStart) {
      const counted = isWithinTokenLimit(text.slice(chunkStart, end), limit - total);
      if (counted === false) return false;
      total += counted;
    }
    chunkStart = end;
    return true;
  };
  let pos = 0;
  while (text.length - pos > RUN) {
    let cut = pos + RUN;
    while (cut > pos && !isSafeCut(text, cut)) cut--;
    if (cut > pos) {
      pos = cut;
      if (pos - chunkStart < CHUNK) continue;
    } else {
      pos += isLowSurrogate(text.charCodeAt(pos + RUN)) ? RUN + 1 : RUN; // keep surrogate pairs whole
      approximate = true;
    }
    if (!flush(pos)) return { tokens: null, approximate };
  }
  return flush(text.length) ? { tokens: total, approximate } : { tokens: null, approximate };
}

interface Counts {
  perItem: number[];
  total: number;
  estimated: boolean;
}

/** Byte lengths bound tokens from above; when the bound fits every limit, no tokenizer call is needed. */
function estimateWithinLimits(items: ReadonlyArray<string | number[]>, limits: EmbeddingsLimits): Counts | null {
  const perItem: number[] = new Array(items.length);
  let bound = 0;
  let total = 0;
  let estimated = false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const bytes = typeof item === 'string' ? Buffer.byteLength(item, 'utf8') : item.length;
    if (bytes > limits.maxTokensPerItem) return null;
    bound += bytes;
    if (bound > limits.maxTotalTokens) return null;
    perItem[i] = typeof item === 'string' ? Math.ceil(bytes / 4) : item.length;
    estimated ||= typeof item === 'string';
    total += perItem[i]!;
  }
  return { perItem, total, estimated };
}

type Counted = ReturnType<typeof countTokensUpTo>;

/** Every item counted in order, throwing at the first limit passed; `known` holds counts already made. */
function countExact(
  items: ReadonlyArray<string | number[]>,
  limits: EmbeddingsLimits,
  model: string,
  single: boolean,
  known: ReadonlyArray<Counted | undefined> = [],
): Counts {
  const perItem: number[] = new Array(items.length);
  let total = 0;
  let estimated = false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const label = single ? `'input'` : `input[${i}]`;
    const perItemLimit = `the maximum is ${fmt(limits.maxTokensPerItem)} tokens per input for ${model}`;
    let tokens: number;
    if (typeof item === 'string') {
      const counted = known[i] ?? countTokensUpTo(item, limits.maxTokensPerItem);
      if (counted.tokens === null) {
        throw invalid(`${label} has more than ${fmt(limits.maxTokensPerItem)} tokens; ${perItemLimit}.`);
      }
      tokens = counted.tokens;
      estimated ||= counted.approximate;
    } else {
      tokens = item.length;
      if (tokens > limits.maxTokensPerItem) throw invalid(`${label} has ${fmt(tokens)} tokens; ${perItemLimit}.`);
    }
    perItem[i] = tokens;
    total += tokens;
    if (total > limits.maxTotalTokens) {
      throw invalid(
        `'input' has more than ${fmt(limits.maxTotalTokens)} tokens in total (passed at input[${i}], ` +
          `${fmt(total)} tokens so far); the maximum is ${fmt(limits.maxTotalTokens)} tokens per request. ` +
          'Split it into smaller batches.',
      );
    }
  }
  return { perItem, total, estimated };
}

/**
 * Exact limits with the least tokenizing. In byte-level BPE every token covers at least one UTF-8 byte, so an
 * item of at most `maxTokensPerItem` bytes is within that limit and items whose bytes sum to at most
 * `maxTotalTokens` are within the total: those are not tokenized here. A longer item is counted (up to the
 * limit); when one passes its limit or the byte bound passes the total, `countExact` decides in order, with
 * the same errors as always. Returns the counts, made when first asked for (tokenizing the rest then).
 */
function checkExact(
  items: ReadonlyArray<string | number[]>,
  limits: EmbeddingsLimits,
  model: string,
  single: boolean,
): () => Counts {
  const known: Array<Counted | undefined> = new Array(items.length);
  let bound = 0;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    let tokens: number | null;
    if (typeof item !== 'string') tokens = item.length;
    else {
      const bytes = Buffer.byteLength(item, 'utf8');
      if (bytes <= limits.maxTokensPerItem) tokens = bytes;
      else tokens = (known[i] = countTokensUpTo(item, limits.maxTokensPerItem)).tokens;
    }
    bound += tokens ?? Infinity;
    if (tokens === null || tokens > limits.maxTokensPerItem || bound > limits.maxTotalTokens) {
      const counts = countExact(items, limits, model, single, known); // exact, in order: throws at the limit passed
      return () => counts;
    }
  }
  let counts: Counts | null = null;
  return () => (counts ??= countExact(items, limits, model, single, known));
}

/**
 * Checks an embeddings body against seed 002's limits and the model's capabilities.
 * @throws GatewayError `invalid_request` (400) naming the parameter, the limit and the offending item.
 * @example validateEmbeddingsRequest({ input: ['a', 'b'] }, { id: 'text-embedding-3-small', capabilities: {} })
 *   // { inputs: ['a', 'b'], totalTokens: 2, perItemTokens: [1, 1], encodingFormat: 'float', … }
 */
export function validateEmbeddingsRequest(
  body: unknown,
  model: EmbeddingModelInfo,
  options: ValidateEmbeddingsOptions = {},
): ValidatedEmbeddingsRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('The request body must be a JSON object with at least "model" and "input".', null);
  }
  const req = body as Record<string, unknown>;
  const limits: EmbeddingsLimits = {
    maxItems: options.limits?.maxItems ?? EMBEDDINGS_LIMITS.maxItems,
    maxTokensPerItem: options.limits?.maxTokensPerItem ?? (model.maxInputTokens || EMBEDDINGS_LIMITS.maxTokensPerItem),
    maxTotalTokens: options.limits?.maxTotalTokens ?? EMBEDDINGS_LIMITS.maxTotalTokens,
  };
  const encodingFormat = parseEncodingFormat(req.encoding_format);
  const dimensions = parseDimensions(req.dimensions, model);
  if (req.user !== undefined && req.user !== null && typeof req.user !== 'string') {
    throw invalid(`'user' must be a string; got ${typeName(req.user)}.`, 'user');
  }
  const { items, single } = parseInput(req.input, limits.maxItems);
  const estimate = options.counting === 'estimate' ? estimateWithinLimits(items, limits) : null;
  const counts = estimate ? () => estimate : checkExact(items, limits, model.id, single);
  return {
    inputs: items,
    get totalTokens() {
      return counts().total;
    },
    get perItemTokens() {
      return counts().perItem;
    },
    get tokensEstimated() {
      return counts().estimated;
    },
    ...(dimensions !== undefined ? { dimensions } : {}),
    encodingFormat,
    ...(typeof req.user === 'string' ? { user: req.user } : {}),
  };
}
