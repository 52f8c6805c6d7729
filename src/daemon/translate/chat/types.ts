/**
 * @module The hub format: OpenAI Chat Completions request, response and stream chunk types.
 * Every translator converts to or from these. Unknown fields are carried through (index signatures),
 * so a passthrough never loses what a client sent.
 * @see https://platform.openai.com/docs/api-reference/chat
 */

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';

export interface ChatTextPart {
  type: 'text';
  text: string;
}
export interface ChatImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export type ChatContentPart = ChatTextPart | ChatImagePart | { type: string; [k: string]: unknown };

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: ChatRole;
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  /** Reasoning text some upstreams (DeepSeek, vLLM, OpenRouter) return and accept back. */
  reasoning_content?: string | null;
  [k: string]: unknown;
}

export interface ChatFunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

export type ChatToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  tools?: ChatFunctionTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: { type: string; [k: string]: unknown };
  reasoning_effort?: string;
  user?: string;
  [k: string]: unknown;
}

export type ChatFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number; [k: string]: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown } | null;
  [k: string]: unknown;
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: ChatMessage & { role: 'assistant' };
    finish_reason: ChatFinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: ChatUsage;
  system_fingerprint?: string | null;
  [k: string]: unknown;
}

export interface ChatToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatChunkChoice {
  index: number;
  delta: {
    role?: 'assistant';
    content?: string | null;
    reasoning_content?: string | null;
    tool_calls?: ChatToolCallDelta[];
    [k: string]: unknown;
  };
  finish_reason: ChatFinishReason | null;
  logprobs?: unknown;
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatChunkChoice[];
  usage?: ChatUsage | null;
  [k: string]: unknown;
}

/** Normalised token counts every surface reports and every usage event stores. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the provider's cache (billed at the cached price when set). */
  cachedTokens: number;
  /** Prompt tokens written to the provider's cache (Anthropic cache_creation). */
  cacheWriteTokens: number;
  reasoningTokens: number;
}

export function usageFromChat(u: ChatUsage | null | undefined): TokenUsage | null {
  if (!u) return null;
  return {
    promptTokens: u.prompt_tokens ?? 0,
    completionTokens: u.completion_tokens ?? 0,
    cachedTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: u.prompt_tokens_details?.cache_write_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/** Everything a chat answer generated (content, reasoning, tool arguments): what estimates count. */
export function chatCompletionText(resp: Partial<ChatResponse> | null | undefined): string {
  let out = '';
  for (const c of resp?.choices ?? []) {
    const m = c.message;
    if (typeof m?.content === 'string') out += m.content;
    if (typeof m?.reasoning_content === 'string') out += m.reasoning_content;
    for (const t of m?.tool_calls ?? []) out += t.function?.arguments ?? '';
  }
  return out;
}
