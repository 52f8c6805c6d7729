/**
 * @module Token usage between the two wires. Anthropic splits the prompt into `input_tokens` (uncached),
 * `cache_read_input_tokens` and `cache_creation_input_tokens`; Chat reports one `prompt_tokens` total
 * with the cached and cache-written parts as details. The two functions are inverses.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
import type { ChatUsage } from '../chat/types.js';
import type { MessagesUsage } from './schema.js';

/** Anthropic usage → Chat usage: prompt_tokens = input + cache read + cache write. */
export function anthropicUsageToChat(u: MessagesUsage): ChatUsage {
  const input = u.input_tokens ?? 0;
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  const output = u.output_tokens ?? 0;
  const prompt = input + cacheRead + cacheWrite;
  const usage: ChatUsage = {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_write_tokens: cacheWrite },
  };
  const thinking = u.output_tokens_details?.thinking_tokens;
  if (thinking !== undefined) usage.completion_tokens_details = { reasoning_tokens: thinking };
  return usage;
}

// A type alias, not an interface, so it stays assignable to the loose (index-signature) schema types.
export type AnthropicUsageOut = {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
};

/** Usage with no cache activity (estimates, and upstreams that report no usage). */
export function plainUsage(input: number, output: number): AnthropicUsageOut {
  return {
    input_tokens: input,
    output_tokens: output,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
  };
}

/** Chat usage → Anthropic usage: input_tokens is the uncached remainder (never negative). */
export function chatUsageToAnthropic(u: ChatUsage): AnthropicUsageOut {
  const cacheRead = u.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheWrite = u.prompt_tokens_details?.cache_write_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (u.prompt_tokens ?? 0) - cacheRead - cacheWrite),
    output_tokens: u.completion_tokens ?? 0,
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheWrite,
  };
}
