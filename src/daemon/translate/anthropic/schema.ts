/**
 * @module Anthropic Messages API wire schemas (request, response, stream events) and their inferred types.
 * Lenient by design: every object keeps unknown fields (`z.looseObject`), and content blocks, tools and
 * stream events of types this gateway does not translate (server tools, citations, containers, …) parse
 * as an "other" member instead of failing. A block whose `type` is known but whose shape is wrong fails.
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
import { z } from 'zod';

const cacheControl = z.looseObject({ type: z.string() }).nullish();

/** A type tag that is none of `known` (so a malformed known block is rejected, not swallowed). */
function otherOf(known: readonly string[]) {
  const set = new Set(known);
  return z.looseObject({
    type: z.string().refine((t) => !set.has(t), { message: 'malformed content block' }),
  });
}

// ---------- content blocks (request side) ----------

/** Image or document source: base64 (`media_type` + `data`), `url`, plain `text`, or `file` (file_id). */
export const SourceSchema = z.looseObject({
  type: z.string(),
  media_type: z.string().optional(),
  data: z.string().optional(),
  url: z.string().optional(),
});

export const TextBlockSchema = z.looseObject({
  type: z.literal('text'),
  text: z.string(),
  cache_control: cacheControl,
});
export const ImageBlockSchema = z.looseObject({
  type: z.literal('image'),
  source: SourceSchema,
  cache_control: cacheControl,
});
export const DocumentBlockSchema = z.looseObject({
  type: z.literal('document'),
  source: SourceSchema,
  title: z.string().nullish(),
  context: z.string().nullish(),
});
export const ToolUseBlockSchema = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
export const ThinkingBlockSchema = z.looseObject({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string().optional(),
});
export const RedactedThinkingBlockSchema = z.looseObject({
  type: z.literal('redacted_thinking'),
  data: z.string(),
});

const TOOL_RESULT_PART_TYPES = ['text', 'image'] as const;
export const ToolResultPartSchema = z.union([
  TextBlockSchema,
  ImageBlockSchema,
  otherOf(TOOL_RESULT_PART_TYPES),
]);
export const ToolResultBlockSchema = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(ToolResultPartSchema)]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});

export const REQUEST_BLOCK_TYPES = [
  'text',
  'image',
  'document',
  'tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
] as const;
export const RequestBlockSchema = z.union([
  TextBlockSchema,
  ImageBlockSchema,
  DocumentBlockSchema,
  ToolUseBlockSchema,
  ToolResultBlockSchema,
  ThinkingBlockSchema,
  RedactedThinkingBlockSchema,
  otherOf(REQUEST_BLOCK_TYPES),
]);

export const MessageParamSchema = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(RequestBlockSchema)]),
});

// ---------- tools ----------

/** A client tool. Server tools (`web_search_20250305`, `bash_20250124`, …) carry a versioned `type`. */
export const CustomToolSchema = z.looseObject({
  type: z.literal('custom').optional(),
  name: z.string(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
});
export const ServerToolSchema = z.looseObject({
  type: z.string().refine((t) => t !== 'custom', { message: 'custom tool needs input_schema' }),
  name: z.string().optional(),
});
export const ToolSchema = z.union([CustomToolSchema, ServerToolSchema]);

const noParallel = z.boolean().optional();
export const ToolChoiceSchema = z.union([
  z.looseObject({ type: z.enum(['auto', 'any']), disable_parallel_tool_use: noParallel }),
  z.looseObject({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: noParallel }),
  z.looseObject({ type: z.literal('none') }),
]);

export const ThinkingConfigSchema = z.union([
  z.looseObject({ type: z.literal('enabled'), budget_tokens: z.number().int() }),
  z.looseObject({ type: z.string() }),
]);

// ---------- request ----------

export const MessagesRequestSchema = z.looseObject({
  model: z.string(),
  max_tokens: z.number().int().positive(),
  messages: z.array(MessageParamSchema),
  system: z.union([z.string(), z.array(TextBlockSchema)]).optional(),
  tools: z.array(ToolSchema).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().optional(),
  stream: z.boolean().optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  thinking: ThinkingConfigSchema.optional(),
});

// ---------- response ----------

export const UsageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  output_tokens_details: z.looseObject({ thinking_tokens: z.number().optional() }).nullish(),
});

export const RESPONSE_BLOCK_TYPES = ['text', 'tool_use', 'thinking', 'redacted_thinking'] as const;
export const ResponseBlockSchema = z.union([
  TextBlockSchema,
  ToolUseBlockSchema,
  ThinkingBlockSchema,
  RedactedThinkingBlockSchema,
  otherOf(RESPONSE_BLOCK_TYPES),
]);

export const MessagesResponseSchema = z.looseObject({
  id: z.string(),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(ResponseBlockSchema),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  usage: UsageSchema,
});

// ---------- stream events ----------

/** One delta shape for every `content_block_delta` (text, input_json, thinking, signature, citations). */
export const BlockDeltaSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  partial_json: z.string().optional(),
  thinking: z.string().optional(),
  signature: z.string().optional(),
});

export const StreamEventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('message_start'),
    message: z.looseObject({
      id: z.string().optional(),
      model: z.string().optional(),
      usage: UsageSchema.optional(),
    }),
  }),
  z.looseObject({
    type: z.literal('content_block_start'),
    index: z.number(),
    content_block: ResponseBlockSchema,
  }),
  z.looseObject({ type: z.literal('content_block_delta'), index: z.number(), delta: BlockDeltaSchema }),
  z.looseObject({ type: z.literal('content_block_stop'), index: z.number() }),
  z.looseObject({
    type: z.literal('message_delta'),
    delta: z.looseObject({ stop_reason: z.string().nullish(), stop_sequence: z.string().nullish() }),
    usage: UsageSchema.nullish(),
  }),
  z.looseObject({ type: z.literal('message_stop') }),
  z.looseObject({ type: z.literal('ping') }),
  z.looseObject({
    type: z.literal('error'),
    error: z.looseObject({ type: z.string(), message: z.string() }),
  }),
]);
export const STREAM_EVENT_TYPES: ReadonlySet<string> = new Set(
  StreamEventSchema.options.map((o) => o.shape.type.value),
);

// ---------- inferred types ----------

export type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
export type MessageParam = z.infer<typeof MessageParamSchema>;
export type RequestBlock = z.infer<typeof RequestBlockSchema>;
export type TextBlock = z.infer<typeof TextBlockSchema>;
export type ImageBlock = z.infer<typeof ImageBlockSchema>;
export type DocumentBlock = z.infer<typeof DocumentBlockSchema>;
export type ToolUseBlock = z.infer<typeof ToolUseBlockSchema>;
export type ToolResultBlock = z.infer<typeof ToolResultBlockSchema>;
export type ToolResultPart = z.infer<typeof ToolResultPartSchema>;
export type ThinkingBlock = z.infer<typeof ThinkingBlockSchema>;
export type RedactedThinkingBlock = z.infer<typeof RedactedThinkingBlockSchema>;
export type Source = z.infer<typeof SourceSchema>;
export type Tool = z.infer<typeof ToolSchema>;
export type CustomTool = z.infer<typeof CustomToolSchema>;
export type ToolChoice = z.infer<typeof ToolChoiceSchema>;
export type MessagesUsage = z.infer<typeof UsageSchema>;
export type ResponseBlock = z.infer<typeof ResponseBlockSchema>;
export type MessagesResponse = z.infer<typeof MessagesResponseSchema>;
export type StreamEvent = z.infer<typeof StreamEventSchema>;
export type BlockDelta = z.infer<typeof BlockDeltaSchema>;

/** The known request blocks (everything but the "other" member). */
export type KnownRequestBlock =
  | TextBlock
  | ImageBlock
  | DocumentBlock
  | ToolUseBlock
  | ToolResultBlock
  | ThinkingBlock
  | RedactedThinkingBlock;
export type KnownResponseBlock = TextBlock | ToolUseBlock | ThinkingBlock | RedactedThinkingBlock;
export type KnownToolResultPart = TextBlock | ImageBlock;

const REQUEST_SET: ReadonlySet<string> = new Set(REQUEST_BLOCK_TYPES);
const RESPONSE_SET: ReadonlySet<string> = new Set(RESPONSE_BLOCK_TYPES);
const TOOL_RESULT_SET: ReadonlySet<string> = new Set(TOOL_RESULT_PART_TYPES);

// The "other" members refuse known type tags at parse time, so a known tag implies the known shape.
/** Narrows a parsed request block to a known block, or null for a block type we do not translate. */
export function knownRequestBlock(b: RequestBlock): KnownRequestBlock | null {
  return REQUEST_SET.has(b.type) ? (b as KnownRequestBlock) : null;
}
/** Narrows a parsed response block to a known block, or null (server tool blocks, citations, …). */
export function knownResponseBlock(b: ResponseBlock): KnownResponseBlock | null {
  return RESPONSE_SET.has(b.type) ? (b as KnownResponseBlock) : null;
}
export function knownToolResultPart(b: ToolResultPart): KnownToolResultPart | null {
  return TOOL_RESULT_SET.has(b.type) ? (b as KnownToolResultPart) : null;
}
/** A client tool with an input schema; server tools (`web_search_20250305`, …) return null. */
export function customTool(t: Tool): CustomTool | null {
  return t.type === undefined || t.type === 'custom' ? (t as CustomTool) : null;
}
