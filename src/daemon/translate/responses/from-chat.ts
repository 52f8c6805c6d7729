/**
 * @module Chat Completions response → Responses object (non-streaming), plus the item and envelope builders
 * the stream encoder shares. Item ids derive from the response id, so output is deterministic.
 */
import type {
  ChatContentPart,
  ChatFinishReason,
  ChatMessage,
  ChatResponse,
  TokenUsage,
} from '../chat/types.js';
import { usageFromChat } from '../chat/types.js';
import type {
  ResponsesOutputItem,
  ResponsesOutputMessage,
  ResponsesOutputReasoning,
  ResponsesResponse,
  ResponsesUsage,
} from './schema.js';
import type { ResponsesContext, ToolOrigin } from './to-chat.js';

/** Identity of the response being produced; ids and timestamps come from the caller, never from here. */
export interface ResponseOpts {
  /** `resp_…`; item ids are derived from it. */
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The model name the client asked for (the alias, not the upstream model). */
  model: string;
}

export type ItemStatus = 'completed' | 'incomplete';
type Outcome = Pick<ResponsesResponse, 'status' | 'incomplete_details'>;

/**
 * @example
 * const out = chatToResponses(upstreamJson, ctx, { id: 'resp_1', createdAt: 1700000000, model: 'coder' });
 */
export function chatToResponses(
  resp: ChatResponse,
  ctx: ResponsesContext,
  opts: ResponseOpts,
): ResponsesResponse {
  const choice = Array.isArray(resp.choices) ? resp.choices[0] : undefined;
  const outcome = outcomeOf(choice?.finish_reason);
  const itemStatus = itemStatusOf(outcome);
  const output: ResponsesOutputItem[] = [];
  const message = choice?.message;

  const reasoning = message ? reasoningText(message) : '';
  if (reasoning) output.push(reasoningItem(itemId('rs', opts.id, output.length), reasoning));
  const text = message ? messageText(message) : '';
  const toolCalls = message?.tool_calls ?? [];
  if (text || toolCalls.length === 0) {
    output.push(messageItem(itemId('msg', opts.id, output.length), text, itemStatus));
  }
  for (const call of toolCalls) {
    const { name, arguments: args } = call.function;
    const status = itemStatus;
    output.push(toolCallItem(ctx, opts.id, output.length, { callId: call.id, name, args, status }));
  }

  const usage = usageFromChat(resp.usage);
  return {
    ...envelope(ctx, opts, outcome),
    output,
    usage: usage ? usageToResponses(usage) : null,
  };
}

/** @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage */
export function usageToResponses(u: TokenUsage): ResponsesUsage {
  return {
    input_tokens: u.promptTokens,
    input_tokens_details: { cached_tokens: u.cachedTokens },
    output_tokens: u.completionTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.promptTokens + u.completionTokens,
  };
}

/**
 * finish_reason → Responses status.
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-incomplete_details
 */
export function outcomeOf(reason: ChatFinishReason | null | undefined): Outcome {
  switch (reason) {
    case 'length':
      return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
    case 'content_filter':
      return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
    case 'stop':
    case 'tool_calls':
    case 'function_call':
    case null:
    case undefined:
      return { status: 'completed', incomplete_details: null };
    default:
      return { status: 'completed', incomplete_details: null };
  }
}

/** Items finished by an incomplete response are incomplete too. */
export function itemStatusOf(outcome: Outcome): ItemStatus {
  return outcome.status === 'incomplete' ? 'incomplete' : 'completed';
}

/** The response object minus output and usage, with the request's echoed fields. */
export function envelope(
  ctx: ResponsesContext,
  opts: ResponseOpts,
  outcome: Outcome,
): Omit<ResponsesResponse, 'output' | 'usage'> {
  return {
    id: opts.id,
    object: 'response',
    created_at: opts.createdAt,
    status: outcome.status,
    model: opts.model,
    incomplete_details: outcome.incomplete_details,
    error: null,
    ...ctx.echo,
  };
}

/** `msg_<stem>_<n>`, where `<stem>` is the response id without its `resp_` prefix. */
export function itemId(prefix: string, responseId: string, n: number): string {
  return `${prefix}_${responseId.startsWith('resp_') ? responseId.slice(5) : responseId}_${n}`;
}

export function messageItem(
  id: string,
  text: string,
  status: ItemStatus | 'in_progress',
): ResponsesOutputMessage {
  const content = status === 'in_progress' ? [] : [{ type: 'output_text' as const, text, annotations: [] }];
  return { type: 'message', id, role: 'assistant', status, content };
}

export function reasoningItem(id: string, text: string): ResponsesOutputReasoning {
  return { type: 'reasoning', id, summary: text ? [{ type: 'summary_text', text }] : [] };
}

/** The client's tool behind a chat function name (plain top-level functions are not recorded). */
export function toolOrigin(ctx: ResponsesContext, chatName: string): ToolOrigin {
  return ctx.tools.get(chatName) ?? { kind: 'function', name: chatName };
}

/**
 * A `function_call` or, for custom tools, a `custom_tool_call` carrying the raw `input`, at output index `n`.
 * An `in_progress` item is the `output_item.added` form: arguments and input still empty.
 */
export function toolCallItem(
  ctx: ResponsesContext,
  responseId: string,
  n: number,
  call: { callId?: string | null; name: string; args: string; status: ItemStatus | 'in_progress' },
): ResponsesOutputItem {
  const origin = toolOrigin(ctx, call.name);
  const done = call.status !== 'in_progress';
  const common = {
    call_id: call.callId || itemId('call', responseId, n),
    name: origin.name,
    ...(origin.namespace ? { namespace: origin.namespace } : {}),
    status: call.status,
  };
  if (origin.kind === 'custom') {
    const input = done ? customInput(call.args) : '';
    return { type: 'custom_tool_call', id: itemId('ctc', responseId, n), ...common, input };
  }
  const args = done ? call.args : '';
  return { type: 'function_call', id: itemId('fc', responseId, n), ...common, arguments: args };
}

/**
 * The raw input of a custom tool from the `{"input": "…"}` arguments the model produced. Tolerant: a model
 * that wrote the raw input itself, or a bare JSON string, still gets through.
 */
export function customInput(args: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return args;
  }
  if (typeof parsed === 'string') return parsed;
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const record = parsed as Record<string, unknown>;
    const input = record['input'];
    if (typeof input === 'string') return input;
    const strings = Object.values(record).filter((v): v is string => typeof v === 'string');
    if (strings.length === 1 && strings[0] !== undefined) return strings[0];
  }
  return args;
}

/** Some upstreams (OpenRouter, recent vLLM) name the field `reasoning` instead of `reasoning_content`. */
export function reasoningText(m: { reasoning_content?: string | null; [k: string]: unknown }): string {
  if (typeof m.reasoning_content === 'string') return m.reasoning_content;
  const alt = m['reasoning'];
  return typeof alt === 'string' ? alt : '';
}

/** Text of an assistant message; a refusal is shown as text. */
function messageText(m: ChatMessage): string {
  const refusal = typeof m['refusal'] === 'string' ? m['refusal'] : '';
  if (typeof m.content === 'string') return m.content + refusal;
  if (!Array.isArray(m.content)) return refusal;
  const text = (p: ChatContentPart): string =>
    p.type === 'text' && typeof p.text === 'string' ? p.text : '';
  return m.content.map(text).join('') + refusal;
}
