/**
 * @module Token estimates with a real tokenizer (o200k_base, by `bpe.ts`: gpt-tokenizer's counts) for usage
 * the upstream did not report (streams that end without usage, aborted requests), tokenizer-free `quick*`
 * guesses for reservations and routing, and exact cost in pico-dollars from a model's prices.
 * Tokenizing is capped: past `MAX_EXACT_CHARS` characters per call the rest is extrapolated from the
 * ratio measured on the part that was tokenized, so a 20 MB prompt costs milliseconds, not seconds.
 * The rank table (4.3 MB) is loaded on the first exact count, never by importing this module.
 */
import { countTokens as countBpeTokens } from './bpe.js';
import type { ModelEntry } from '../state/types.js';
import type { ChatContentPart, ChatMessage, ChatRequest, TokenUsage } from '../translate/chat/types.js';

/** Characters tokenized exactly per estimate; beyond this the count is extrapolated. */
export const MAX_EXACT_CHARS = 48_000;
/** Fewest tokens per character assumed when extrapolating (English prose is ~0.22, code ~0.3). */
const MIN_TOKENS_PER_CHAR = 0.2;
/** OpenAI's chat framing: tokens per message and for priming the reply (cookbook, "num_tokens_from_messages"). */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_REPLY_PRIMING = 3;
/** Images: OpenAI bills 85 tokens for `detail: low`; a 1024×1024 high-detail image is 765. */
const IMAGE_TOKENS_LOW = 85;
const IMAGE_TOKENS_DEFAULT = 765;

/** Characters per token assumed by the quick estimates: above the ~4 of typical text, so they over-reserve. */
const QUICK_CHARS_PER_TOKEN = 3;

/** o200k_base tokens; special tokens in user text (`<|endoftext|>`) are counted as plain text, never rejected. */
function countTokens(text: string): number {
  return countBpeTokens('o200k_base', text);
}

/** Where the prompt walk puts what it finds: texts, JSON values (tool definitions, unknown parts), fixed costs. */
interface PromptSink {
  fixed: number;
  add(text: string | null | undefined): void;
  addJson(value: unknown): void;
}

/** Counts tokens of several texts, tokenizing at most MAX_EXACT_CHARS characters in total. */
class CappedCounter implements PromptSink {
  private budget = MAX_EXACT_CHARS;
  private exactTokens = 0;
  private exactChars = 0;
  private skippedChars = 0;
  fixed = 0;

  add(text: string | null | undefined): void {
    if (!text) return;
    if (this.budget <= 0) {
      this.skippedChars += text.length;
      return;
    }
    const part = text.length <= this.budget ? text : text.slice(0, this.budget);
    this.budget -= part.length;
    this.exactChars += part.length;
    this.exactTokens += countTokens(part);
    this.skippedChars += text.length - part.length;
  }

  addJson(value: unknown): void {
    this.add(JSON.stringify(value));
  }

  total(): number {
    if (this.skippedChars === 0) return this.exactTokens + this.fixed;
    const ratio = Math.max(MIN_TOKENS_PER_CHAR, this.exactChars > 0 ? this.exactTokens / this.exactChars : 0);
    return this.exactTokens + Math.ceil(this.skippedChars * ratio) + this.fixed;
  }
}

/**
 * About the length of `JSON.stringify(value)` (strings and keys exact, quotes and separators counted,
 * escapes and numbers approximated), without building the string: ten times cheaper on tool definitions.
 */
function jsonChars(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value !== 'object' || value === null) return 5;
  let n = 2;
  if (Array.isArray(value)) {
    for (const v of value) n += jsonChars(v) + 1;
    return n;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) n += k.length + 4 + jsonChars(o[k]);
  return n;
}

/** Sums characters instead of tokenizing: the quick estimates. */
class CharCounter implements PromptSink {
  chars = 0;
  fixed = 0;

  add(text: string | null | undefined): void {
    if (text) this.chars += text.length;
  }

  addJson(value: unknown): void {
    this.chars += jsonChars(value);
  }

  total(): number {
    return Math.ceil(this.chars / QUICK_CHARS_PER_TOKEN) + this.fixed;
  }
}

/**
 * Tokens in a piece of text (o200k_base), capped work for huge inputs. Loads the tokenizer.
 * @example estimateTextTokens('Hello, world!') // 4
 */
export function estimateTextTokens(text: string): number {
  const c = new CappedCounter();
  c.add(text);
  return c.total();
}

/**
 * A tokenizer-free guess of the tokens in a text: a third of its length (over-estimates typical text,
 * which is ~4 characters per token; CJK text is under-estimated).
 * @example quickTextTokens('Hello, world!') // 5
 */
export function quickTextTokens(text: string): number {
  return Math.ceil(text.length / QUICK_CHARS_PER_TOKEN);
}

function addContent(c: PromptSink, content: ChatMessage['content']): void {
  if (typeof content === 'string') return c.add(content);
  if (!Array.isArray(content)) return;
  for (const part of content as ChatContentPart[]) {
    if (part.type === 'text' && typeof part.text === 'string') c.add(part.text);
    else if (part.type === 'image_url') {
      const detail = (part as { image_url?: { detail?: string } }).image_url?.detail;
      c.fixed += detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS_DEFAULT;
    } else c.addJson(part);
  }
}

/** What a chat prompt is made of: message text, names, tool calls and results, tool definitions, framing. */
function walkPrompt(c: PromptSink, req: Pick<ChatRequest, 'messages' | 'tools'>): void {
  const messages = Array.isArray(req.messages) ? req.messages : [];
  for (const m of messages) {
    c.fixed += TOKENS_PER_MESSAGE;
    c.add(m.role);
    if (typeof m.name === 'string') c.add(m.name);
    addContent(c, m.content);
    if (typeof m.reasoning_content === 'string') c.add(m.reasoning_content);
    if (Array.isArray(m.tool_calls)) {
      for (const tc of m.tool_calls) {
        c.add(tc.function?.name);
        c.add(tc.function?.arguments);
      }
    }
  }
  c.fixed += TOKENS_REPLY_PRIMING;
  if (Array.isArray(req.tools) && req.tools.length > 0) c.addJson(req.tools);
}

/**
 * Prompt tokens of a Chat Completions request: message text, names, tool calls and results, and the
 * tool definitions, plus OpenAI's per-message framing. An estimate for usage, not a bill; loads the tokenizer.
 * @example estimatePromptTokens({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }) // 8
 */
export function estimatePromptTokens(req: Pick<ChatRequest, 'messages' | 'tools'>): number {
  const c = new CappedCounter();
  walkPrompt(c, req);
  return c.total();
}

/**
 * The tokenizer-free counterpart of `estimatePromptTokens`, for reservations and routing: the same fields,
 * framing and image costs, with text counted as a third of its characters (`quickTextTokens`).
 * @example quickPromptTokens({ messages: [{ role: 'user', content: 'Hi' }] }) // 3 + ceil(6 / 3) + 3 = 8
 */
export function quickPromptTokens(req: Pick<ChatRequest, 'messages' | 'tools'>): number {
  const c = new CharCounter();
  walkPrompt(c, req);
  return c.total();
}

export interface Cost {
  /** Exact cost in pico-dollars of the priced parts. */
  costPico: bigint;
  /** A price this usage needed is missing: the cost is unknown, not zero (log it and count it). */
  unpriced: boolean;
}

/**
 * Exact cost of a request. `promptTokens` includes cached tokens (OpenAI semantics); cached tokens are
 * billed at the cached-input price when the model has one, else at the input price.
 * @example
 * const prices = { priceInMicros: 1_000_000n, priceOutMicros: 2_000_000n, priceCachedInMicros: null }; // $1 / $2 per 1M
 * costOf(prices, { promptTokens: 10, completionTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 })
 * // { costPico: 20_000_000n, unpriced: false }
 */
export function costOf(model: Pick<ModelEntry, 'priceInMicros' | 'priceOutMicros' | 'priceCachedInMicros'>, usage: TokenUsage): Cost {
  const prompt = Math.max(0, usage.promptTokens);
  const cached = Math.min(prompt, Math.max(0, usage.cachedTokens));
  const fresh = prompt - cached;
  const completion = Math.max(0, usage.completionTokens);
  const cachedPrice = model.priceCachedInMicros ?? model.priceInMicros;
  let unpriced = false;
  let cost = 0n;
  const charge = (tokens: number, price: bigint | null): void => {
    if (tokens <= 0) return;
    if (price === null) unpriced = true;
    else cost += BigInt(tokens) * price;
  };
  charge(fresh, model.priceInMicros);
  charge(cached, cachedPrice);
  charge(completion, model.priceOutMicros);
  return { costPico: cost, unpriced };
}
