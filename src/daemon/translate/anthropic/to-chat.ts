/**
 * @module Anthropic Messages → Chat Completions.
 * - `messagesToChat`: a client's `POST /v1/messages` body (Claude Code, @anthropic-ai/sdk) → the Chat body
 *   sent to an OpenAI-compatible upstream.
 * - `messagesResponseToChat`: an `anthropic` upstream's Messages response → the Chat response a client gets.
 * Pure: no I/O, no clock; ids and timestamps come in through options.
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
import type {
  ChatContentPart,
  ChatFunctionTool,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ChatToolCall,
  ChatToolChoice,
} from '../chat/types.js';
import {
  customTool,
  knownRequestBlock,
  knownResponseBlock,
  knownToolResultPart,
  type DocumentBlock,
  type MessageParam,
  type MessagesRequest,
  type MessagesResponse,
  type Source,
  type ToolResultBlock,
  type ToolUseBlock,
} from './schema.js';
import { stopReasonToFinish } from './stop-reason.js';
import { anthropicUsageToChat } from './usage.js';

/** OpenAI rejects more than 4 stop sequences; the rest are dropped (Anthropic allows more). */
export const MAX_CHAT_STOP_SEQUENCES = 4;
/** Separator between text blocks of one user or system turn. Assistant blocks are joined with ''. */
const BLOCK_SEPARATOR = '\n\n';

export interface MessagesToChatOptions {
  /** Upper bound for `max_tokens` (the upstream model's output limit, when the catalog knows it). */
  maxTokensCap?: number;
}

/**
 * Messages request → Chat request. System → one system message; tool_result blocks → `tool` messages
 * placed before the rest of their user turn; tool_use → assistant `tool_calls`; thinking and server-tool
 * blocks dropped; server tools dropped; `top_k` and `thinking` dropped (no portable Chat equivalent).
 */
export function messagesToChat(
  req: MessagesRequest,
  upstreamModel: string,
  opts: MessagesToChatOptions = {},
): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(req.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const m of req.messages) messages.push(...convertMessage(m));

  const out: ChatRequest = {
    model: upstreamModel,
    messages,
    max_tokens: Math.min(req.max_tokens, opts.maxTokensCap ?? Infinity),
  };
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.stop_sequences?.length) out.stop = req.stop_sequences.slice(0, MAX_CHAT_STOP_SEQUENCES);

  const tools: ChatFunctionTool[] = [];
  for (const t of req.tools ?? []) {
    const tool = customTool(t);
    if (!tool) continue;
    tools.push({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.input_schema,
      },
    });
  }
  if (tools.length > 0) {
    out.tools = tools;
    const choice = req.tool_choice;
    if (choice) {
      const mapped = toolChoice(choice, tools);
      if (mapped !== undefined) out.tool_choice = mapped;
      if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) {
        out.parallel_tool_calls = false;
      }
    }
  }

  if (req.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  const user = req.metadata?.user_id;
  if (user) out.user = user;
  return out;
}

/**
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use#forcing-tool-use
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-tool_choice
 */
function toolChoice(choice: NonNullable<MessagesRequest['tool_choice']>, tools: ChatFunctionTool[]) {
  switch (choice.type) {
    case 'auto':
      return 'auto' satisfies ChatToolChoice;
    case 'any':
      return 'required' satisfies ChatToolChoice;
    case 'none':
      return 'none' satisfies ChatToolChoice;
    case 'tool': {
      const name = 'name' in choice ? choice.name : '';
      // A forced server tool was dropped with its definition; forcing an unknown function would 400.
      if (!tools.some((t) => t.function.name === name)) return undefined;
      return { type: 'function', function: { name } } satisfies ChatToolChoice;
    }
    default:
      return undefined;
  }
}

function systemText(system: MessagesRequest['system']): string {
  if (system === undefined) return '';
  if (typeof system === 'string') return system;
  return system.map((b) => b.text).join(BLOCK_SEPARATOR);
}

function convertMessage(m: MessageParam): ChatMessage[] {
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  if (m.role === 'assistant') return convertAssistant(m.content);
  const tools: ChatMessage[] = [];
  const parts: ChatContentPart[] = [];
  for (const raw of m.content) {
    const b = knownRequestBlock(raw);
    switch (b?.type) {
      case 'text':
        parts.push({ type: 'text', text: b.text });
        break;
      case 'image': {
        const url = imageUrl(b.source);
        if (url) parts.push({ type: 'image_url', image_url: { url } });
        break;
      }
      case 'document': {
        const part = documentPart(b);
        if (part) parts.push(part);
        break;
      }
      case 'tool_result': {
        const { message, images } = convertToolResult(b);
        tools.push(message);
        parts.push(...images);
        break;
      }
      default:
        // thinking, redacted_thinking, tool_use in a user turn, server-tool blocks: nothing to send.
        break;
    }
  }
  const out = [...tools];
  if (parts.length > 0) out.push({ role: m.role, content: collapseText(parts) });
  return out;
}

function convertAssistant(blocks: Exclude<MessageParam['content'], string>): ChatMessage[] {
  const texts: string[] = [];
  const calls: ChatToolCall[] = [];
  for (const raw of blocks) {
    const b = knownRequestBlock(raw);
    if (b?.type === 'text') texts.push(b.text);
    else if (b?.type === 'tool_use') calls.push(toolCall(b));
  }
  if (texts.length === 0 && calls.length === 0) return [];
  const msg: ChatMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('') : null };
  if (calls.length > 0) msg.tool_calls = calls;
  return [msg];
}

function toolCall(b: ToolUseBlock): ChatToolCall {
  return { id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } };
}

/** A tool_result → a `tool` message. Chat tool messages carry text only, so images move to the user turn. */
function convertToolResult(b: ToolResultBlock): { message: ChatMessage; images: ChatContentPart[] } {
  const texts: string[] = [];
  const images: ChatContentPart[] = [];
  if (typeof b.content === 'string') texts.push(b.content);
  else {
    for (const raw of b.content ?? []) {
      const p = knownToolResultPart(raw);
      if (p?.type === 'text') texts.push(p.text);
      else if (p?.type === 'image') {
        const url = imageUrl(p.source);
        if (url) images.push({ type: 'image_url', image_url: { url } });
      }
    }
  }
  let text = texts.join(BLOCK_SEPARATOR);
  if (b.is_error) text = text ? `Error: ${text}` : 'Error';
  return { message: { role: 'tool', tool_call_id: b.tool_use_id, content: text }, images };
}

/** base64 → data URL; url → as is; `file` sources (Files API ids) cannot be sent upstream. */
function imageUrl(source: Source): string | null {
  if (source.type === 'base64' && source.data !== undefined) {
    return `data:${source.media_type ?? 'image/png'};base64,${source.data}`;
  }
  if (source.type === 'url' && source.url !== undefined) return source.url;
  return null;
}

/** Plain-text documents → text; base64 PDFs → a Chat `file` part; URL and file-id documents are dropped. */
function documentPart(b: DocumentBlock): ChatContentPart | null {
  const { source } = b;
  if (source.type === 'text' && source.data !== undefined) {
    return { type: 'text', text: b.title ? `${b.title}\n\n${source.data}` : source.data };
  }
  if (source.type === 'base64' && source.data !== undefined) {
    const mediaType = source.media_type ?? 'application/pdf';
    return {
      type: 'file',
      file: { filename: b.title ?? 'document.pdf', file_data: `data:${mediaType};base64,${source.data}` },
    };
  }
  return null;
}

/** Text-only content becomes one string: the widest-supported Chat shape. */
function collapseText(parts: ChatContentPart[]): string | ChatContentPart[] {
  const texts: string[] = [];
  for (const p of parts) {
    if (p.type !== 'text' || typeof p.text !== 'string') return parts;
    texts.push(p.text);
  }
  return texts.join(BLOCK_SEPARATOR);
}

export interface MessagesResponseToChatOptions {
  /** Chat completion id; defaults to the Messages id. */
  id?: string;
  /** Unix seconds. */
  created: number;
  /** The model name the client asked for. */
  model: string;
}

/**
 * Messages response → Chat response: text blocks concatenated into `content`, tool_use → `tool_calls`,
 * thinking → `reasoning_content`; redacted thinking and server-tool blocks dropped.
 */
export function messagesResponseToChat(
  resp: MessagesResponse,
  opts: MessagesResponseToChatOptions,
): ChatResponse {
  const texts: string[] = [];
  const thinking: string[] = [];
  const calls: ChatToolCall[] = [];
  for (const raw of resp.content) {
    const b = knownResponseBlock(raw);
    switch (b?.type) {
      case 'text':
        texts.push(b.text);
        break;
      case 'thinking':
        thinking.push(b.thinking);
        break;
      case 'tool_use':
        calls.push(toolCall(b));
        break;
      default:
        break;
    }
  }
  const message: ChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : calls.length > 0 ? null : '',
  };
  if (thinking.length > 0) message.reasoning_content = thinking.join('');
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: opts.id ?? resp.id,
    object: 'chat.completion',
    created: opts.created,
    model: opts.model,
    choices: [{ index: 0, message, finish_reason: stopReasonToFinish(resp.stop_reason) }],
    usage: anthropicUsageToChat(resp.usage),
  };
}
