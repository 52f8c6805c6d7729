/**
 * @module Token estimates with a real tokenizer (gpt-tokenizer, o200k_base) for reservations and for
 * streams that end without upstream usage, and exact cost in pico-dollars from a model's prices.
 * Tokenizing is capped: past `MAX_EXACT_CHARS` characters per call the rest is extrapolated from the
 * ratio measured on the part that was tokenized, so a 20 MB prompt costs milliseconds, not seconds.
 */
import { countTokens } from 'gpt-tokenizer';
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

/** Special tokens in user text (`<|endoftext|>`) are counted as plain text, never rejected. */
const ENCODE_OPTS = { disallowedSpecial: new Set<string>() };

/** Counts tokens of several texts, tokenizing at most MAX_EXACT_CHARS characters in total. */
class CappedCounter {
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
    this.exactTokens += countTokens(part, ENCODE_OPTS);
    this.skippedChars += text.length - part.length;
  }

  total(): number {
    if (this.skippedChars === 0) return this.exactTokens + this.fixed;
    const ratio = Math.max(MIN_TOKENS_PER_CHAR, this.exactChars > 0 ? this.exactTokens / this.exactChars : 0);
    return this.exactTokens + Math.ceil(this.skippedChars * ratio) + this.fixed;
  }
}

/**
 * Tokens in a piece of text (o200k_base), capped work for huge inputs.
 * @example estimateTextTokens('Hello, world!') // 4
 */
export function estimateTextTokens(text: string): number {
  const c = new CappedCounter();
  c.add(text);
  return c.total();
}

function addContent(c: CappedCounter, content: ChatMessage['content']): void {
  if (typeof content === 'string') return c.add(content);
  if (!Array.isArray(content)) return;
  for (const part of content as ChatContentPart[]) {
    if (part.type === 'text' && typeof part.text === 'string') c.add(part.text);
    else if (part.type === 'image_url') {
      const detail = (part as { image_url?: { detail?: string } }).image_url?.detail;
      c.fixed += detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS_DEFAULT;
    } else c.add(JSON.stringify(part));
  }
}

/**
 * Prompt tokens of a Chat Completions request: message text, names, tool calls and results, and the
 * tool definitions, plus OpenAI's per-message framing. An estimate for reservations, not a bill.
 * @example estimatePromptTokens({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }) // 8
 */
export function estimatePromptTokens(req: Pick<ChatRequest, 'messages' | 'tools'>): number {
  const c = new CappedCounter();
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
  if (Array.isArray(req.tools) && req.tools.length > 0) c.add(JSON.stringify(req.tools));
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
