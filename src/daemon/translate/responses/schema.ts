/**
 * @module Responses API wire schemas: the inbound request (lenient: unknown fields, item types and tool types
 * are accepted so codex never gets a 400 for something lw only needs to drop), the output items and response
 * object lw produces, and the stream events it emits.
 * What codex sends is in CLIENTS.md §1.4.
 * @see https://platform.openai.com/docs/api-reference/responses/create
 */
import { z } from 'zod';

/** A part of a message item's content: input_text, output_text, input_image, refusal, input_file… */
export const contentPartSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  image_url: z.string().nullish(),
  detail: z.string().nullish(),
  refusal: z.string().optional(),
});

export type ResponsesContentPart = z.infer<typeof contentPartSchema>;

/** The output of a tool call sent back by the client: a string or content parts. */
const toolOutputSchema = z.union([z.string(), z.array(contentPartSchema)]);

/** `type` is optional: the short form `{role, content}` (EasyInputMessage) is a message too. */
export const messageItemSchema = z.looseObject({
  type: z.literal('message').optional(),
  id: z.string().nullish(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(contentPartSchema)]),
});

export const functionCallItemSchema = z.looseObject({
  type: z.literal('function_call'),
  id: z.string().nullish(),
  call_id: z.string(),
  name: z.string(),
  /** Set when the function belongs to a `namespace` tool; codex routes on (namespace, name). */
  namespace: z.string().nullish(),
  arguments: z.string(),
});

export const functionCallOutputItemSchema = z.looseObject({
  type: z.literal('function_call_output'),
  id: z.string().nullish(),
  call_id: z.string(),
  output: toolOutputSchema,
});

export const customToolCallItemSchema = z.looseObject({
  type: z.literal('custom_tool_call'),
  id: z.string().nullish(),
  call_id: z.string(),
  name: z.string(),
  namespace: z.string().nullish(),
  input: z.string(),
});

export const customToolCallOutputItemSchema = z.looseObject({
  type: z.literal('custom_tool_call_output'),
  id: z.string().nullish(),
  call_id: z.string(),
  output: toolOutputSchema,
});

/** Codex echoes lw's reasoning items back with `content: null` and `encrypted_content`. */
export const reasoningItemSchema = z.looseObject({
  type: z.literal('reasoning'),
  id: z.string().nullish(),
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullish(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
});

const KNOWN_ITEM_TYPES: ReadonlySet<string> = new Set([
  'message',
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'reasoning',
]);

/** Any other item (local_shell_call, web_search_call, compaction, tool_search_call, item_reference…). */
const otherItemSchema = z.looseObject({
  type: z.string().refine((t) => !KNOWN_ITEM_TYPES.has(t), 'malformed item'),
});

const knownItemSchema = z.union([
  messageItemSchema,
  functionCallItemSchema,
  functionCallOutputItemSchema,
  customToolCallItemSchema,
  customToolCallOutputItemSchema,
  reasoningItemSchema,
]);

export const inputItemSchema = z.union([knownItemSchema, otherItemSchema]);

export type ResponsesKnownInputItem = z.infer<typeof knownItemSchema>;
export type ResponsesInputItem = z.infer<typeof inputItemSchema>;

/** Narrows an input item to the types lw translates; the rest are dropped by the translators. */
export function isKnownInputItem(item: ResponsesInputItem): item is ResponsesKnownInputItem {
  return item.type === undefined || KNOWN_ITEM_TYPES.has(item.type);
}

export const functionToolSchema = z.looseObject({
  type: z.literal('function'),
  name: z.string(),
  description: z.string().nullish(),
  parameters: z.unknown().optional(),
  strict: z.unknown().optional(),
});

/** A freeform tool (codex `apply_patch`): the model writes raw text, optionally constrained by a grammar. */
export const customToolSchema = z.looseObject({
  type: z.literal('custom'),
  name: z.string(),
  description: z.string().nullish(),
  format: z
    .looseObject({ type: z.string(), syntax: z.string().nullish(), definition: z.string().nullish() })
    .nullish(),
});

const otherToolSchema = z.looseObject({
  type: z.string().refine((t) => t !== 'function' && t !== 'custom' && t !== 'namespace', 'malformed tool'),
});

/** Groups function/custom tools; calls carry `namespace` + the inner `name`. */
export const namespaceToolSchema = z.looseObject({
  type: z.literal('namespace'),
  name: z.string(),
  description: z.string().nullish(),
  tools: z.array(z.union([functionToolSchema, customToolSchema, otherToolSchema])),
});

export const toolSchema = z.union([
  functionToolSchema,
  customToolSchema,
  namespaceToolSchema,
  otherToolSchema,
]);

export type ResponsesFunctionTool = z.infer<typeof functionToolSchema>;
export type ResponsesCustomTool = z.infer<typeof customToolSchema>;
export type ResponsesNamespaceTool = z.infer<typeof namespaceToolSchema>;
export type ResponsesKnownTool = ResponsesFunctionTool | ResponsesCustomTool | ResponsesNamespaceTool;
export type ResponsesTool = z.infer<typeof toolSchema>;
type NamespaceMember = ResponsesNamespaceTool['tools'][number];

/** Narrows a tool to the types lw translates; hosted tools (web_search, tool_search, …) are dropped. */
export function isKnownTool(tool: ResponsesTool | NamespaceMember): tool is ResponsesKnownTool {
  return tool.type === 'function' || tool.type === 'custom' || tool.type === 'namespace';
}

export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputItemSchema)]),
  instructions: z.string().nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: z
    .union([
      z.string(),
      z.looseObject({ type: z.string(), name: z.string().optional(), mode: z.string().optional() }),
    ])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish(), summary: z.string().nullish() }).nullish(),
  text: z
    .looseObject({
      format: z
        .looseObject({
          type: z.string(),
          name: z.string().optional(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullish(),
          description: z.string().optional(),
        })
        .nullish(),
      verbosity: z.string().nullish(),
    })
    .nullish(),
  store: z.boolean().nullish(),
  include: z.array(z.string()).nullish(),
  prompt_cache_key: z.string().nullish(),
  client_metadata: z.record(z.string(), z.unknown()).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  previous_response_id: z.string().nullish(),
  user: z.string().nullish(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

// ---------------------------------------------------------------------------------------------
// What lw sends back. Strict shapes: tests parse every produced object and event against these.

const itemStatusSchema = z.enum(['in_progress', 'completed', 'incomplete']);

export const outputTextSchema = z.object({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(z.unknown()),
});

export const outputMessageSchema = z.object({
  type: z.literal('message'),
  id: z.string(),
  role: z.literal('assistant'),
  status: itemStatusSchema,
  content: z.array(outputTextSchema),
});

export const outputFunctionCallSchema = z.object({
  type: z.literal('function_call'),
  id: z.string(),
  call_id: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
  arguments: z.string(),
  status: itemStatusSchema,
});

export const outputCustomToolCallSchema = z.object({
  type: z.literal('custom_tool_call'),
  id: z.string(),
  call_id: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
  input: z.string(),
  status: itemStatusSchema,
});

const summaryTextSchema = z.object({ type: z.literal('summary_text'), text: z.string() });

export const outputReasoningSchema = z.object({
  type: z.literal('reasoning'),
  id: z.string(),
  summary: z.array(summaryTextSchema),
  status: itemStatusSchema.optional(),
});

export const outputItemSchema = z.discriminatedUnion('type', [
  outputMessageSchema,
  outputFunctionCallSchema,
  outputCustomToolCallSchema,
  outputReasoningSchema,
]);

export type ResponsesOutputText = z.infer<typeof outputTextSchema>;
export type ResponsesOutputMessage = z.infer<typeof outputMessageSchema>;
export type ResponsesOutputFunctionCall = z.infer<typeof outputFunctionCallSchema>;
export type ResponsesOutputCustomToolCall = z.infer<typeof outputCustomToolCallSchema>;
export type ResponsesOutputReasoning = z.infer<typeof outputReasoningSchema>;
export type ResponsesOutputItem = z.infer<typeof outputItemSchema>;

export const usageSchema = z.object({
  input_tokens: z.number().int(),
  input_tokens_details: z.object({ cached_tokens: z.number().int() }),
  output_tokens: z.number().int(),
  output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
  total_tokens: z.number().int(),
});

export type ResponsesUsage = z.infer<typeof usageSchema>;

export const responseSchema = z.object({
  id: z.string(),
  object: z.literal('response'),
  created_at: z.number().int(),
  status: z.enum(['in_progress', 'completed', 'incomplete', 'failed']),
  model: z.string(),
  output: z.array(outputItemSchema),
  usage: usageSchema.nullable(),
  incomplete_details: z.object({ reason: z.enum(['max_output_tokens', 'content_filter']) }).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  // Request fields echoed back, as the OpenAI API does (tools and instructions are not echoed: codex
  // sends ~40 KB of them and reads neither).
  max_output_tokens: z.number().int().nullable(),
  parallel_tool_calls: z.boolean(),
  previous_response_id: z.string().nullable(),
  reasoning: z.object({ effort: z.string().nullable(), summary: z.string().nullable() }).nullable(),
  store: z.boolean(),
  temperature: z.number().nullable(),
  text: z.object({ format: z.looseObject({ type: z.string() }), verbosity: z.string().optional() }),
  tool_choice: z.unknown(),
  top_p: z.number().nullable(),
  user: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
});

export type ResponsesResponse = z.infer<typeof responseSchema>;

// ---------------------------------------------------------------------------------------------
// Stream events (`event: <type>\ndata: <json>`). Every event carries a strictly increasing sequence_number.

const seq = { sequence_number: z.number().int().nonnegative() };
const outputIndex = { output_index: z.number().int().nonnegative() };
const at = { ...seq, ...outputIndex, item_id: z.string() };
const contentIndex = { content_index: z.number().int() };
const summaryIndex = { summary_index: z.number().int() };
const logprobs = { logprobs: z.array(z.unknown()) };

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), ...shape });

export const streamEventSchema = z.discriminatedUnion('type', [
  event('response.created', { ...seq, response: responseSchema }),
  event('response.in_progress', { ...seq, response: responseSchema }),
  event('response.completed', { ...seq, response: responseSchema }),
  event('response.incomplete', { ...seq, response: responseSchema }),
  event('response.failed', { ...seq, response: responseSchema }),
  event('response.output_item.added', { ...seq, ...outputIndex, item: outputItemSchema }),
  event('response.output_item.done', { ...seq, ...outputIndex, item: outputItemSchema }),
  event('response.content_part.added', { ...at, ...contentIndex, part: outputTextSchema }),
  event('response.content_part.done', { ...at, ...contentIndex, part: outputTextSchema }),
  event('response.output_text.delta', { ...at, ...contentIndex, delta: z.string(), ...logprobs }),
  event('response.output_text.done', { ...at, ...contentIndex, text: z.string(), ...logprobs }),
  event('response.reasoning_summary_part.added', { ...at, ...summaryIndex, part: summaryTextSchema }),
  event('response.reasoning_summary_part.done', { ...at, ...summaryIndex, part: summaryTextSchema }),
  event('response.reasoning_summary_text.delta', { ...at, ...summaryIndex, delta: z.string() }),
  event('response.reasoning_summary_text.done', { ...at, ...summaryIndex, text: z.string() }),
  event('response.function_call_arguments.delta', { ...at, delta: z.string() }),
  event('response.function_call_arguments.done', { ...at, name: z.string(), arguments: z.string() }),
  event('response.custom_tool_call_input.done', { ...at, input: z.string() }),
]);

export type ResponsesStreamEvent = z.infer<typeof streamEventSchema>;
