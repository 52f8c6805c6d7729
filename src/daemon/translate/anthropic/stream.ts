/**
 * @module Streaming between Anthropic Messages SSE and Chat Completions chunks, as two explicit state
 * machines (state types first). Pure: the caller parses and writes SSE frames and passes ids in.
 * (A) `createAnthropicToChatStream`: an `anthropic` upstream's events → Chat chunks for a Chat client.
 * (B) `createChatToAnthropicStream`: an OpenAI-compatible upstream's chunks → Messages SSE text for a
 *     `/v1/messages` client (Claude Code, @anthropic-ai/sdk).
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 * @see https://platform.openai.com/docs/api-reference/chat-streaming
 */
import { GatewayError } from '../../errors.js';
import type { ChatChunk, ChatChunkChoice, ChatToolCallDelta, ChatUsage } from '../chat/types.js';
import { reasoningText } from './from-chat.js';
import {
  knownResponseBlock,
  STREAM_EVENT_TYPES,
  StreamEventSchema,
  type BlockDelta,
  type MessagesUsage,
  type ResponseBlock,
} from './schema.js';
import { stopReasonFor, stopReasonToFinish, type StopReason } from './stop-reason.js';
import {
  anthropicUsageToChat,
  chatUsageToAnthropic,
  plainUsage,
  type AnthropicUsageOut,
} from './usage.js';

// ---------- state ----------

type Phase = 'idle' | 'streaming' | 'done';

/** (A) What one Anthropic content block became on the Chat side. */
type UpstreamBlock =
  | { kind: 'text' }
  | { kind: 'thinking' }
  | { kind: 'tool'; toolIndex: number; argsSent: boolean }
  /** redacted thinking, server tools and their results: nothing a Chat client can use. */
  | { kind: 'ignored' };

/** (A) Anthropic events → Chat chunks. */
interface AnthropicToChatState {
  phase: Phase;
  /** Latest counts: message_start, then the cumulative message_delta values. */
  usage: MessagesUsage;
  /** Anthropic content block index → its Chat-side meaning. */
  blocks: Map<number, UpstreamBlock>;
  /** Next Chat `tool_calls[].index` (counts tool_use blocks only). */
  nextToolIndex: number;
  stopReason: string | null;
}

/** (B) The one Messages content block open at a time. */
type OpenBlock = { kind: 'text' | 'thinking' | 'tool'; index: number };

/** (B) Chat chunks → Messages SSE. */
interface ChatToAnthropicState {
  phase: Phase;
  open: OpenBlock | null;
  /** Next Messages content block index (strictly increasing). */
  nextIndex: number;
  /** Chat tool-call index → the tool_use block it opened. */
  tools: Map<number, { id: string; blockIndex: number }>;
  toolCount: number;
  finishReason: string | null;
  usage: ChatUsage | null;
  /** Characters streamed, for an output estimate when the upstream sends no usage. */
  outputChars: number;
}

// ---------- (A) Anthropic events → Chat chunks ----------

export interface AnthropicToChatOptions {
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model name the client asked for. */
  model: string;
}

export interface AnthropicToChatStream {
  /**
   * One parsed SSE `data` object. Unknown event types return []. An `error` event throws the
   * `GatewayError` of `anthropicStreamError`; a malformed known event throws `upstream_error`.
   */
  push(event: { type: string; [k: string]: unknown }): ChatChunk[];
  /**
   * End of the upstream body. After `message_stop` this returns []. If the upstream ended early it
   * closes the stream anyway (finish_reason from the last message_delta, else `stop`); the caller decides
   * whether a truncated upstream is an error.
   */
  finish(): ChatChunk[];
}

/**
 * Emits: a role chunk on message_start; content / reasoning_content / tool_calls deltas (tool id and
 * name first, then argument fragments; `{}` for a tool with no arguments); on message_stop a chunk with
 * `finish_reason`, then a usage-only chunk `{choices: [], usage}` (the caller drops it when the client
 * did not ask for `stream_options.include_usage`).
 */
export function createAnthropicToChatStream(opts: AnthropicToChatOptions): AnthropicToChatStream {
  const s: AnthropicToChatState = {
    phase: 'idle',
    usage: {},
    blocks: new Map(),
    nextToolIndex: 0,
    stopReason: null,
  };

  const chunk = (choices: ChatChunkChoice[], usage?: ChatUsage): ChatChunk => ({
    id: opts.id,
    object: 'chat.completion.chunk',
    created: opts.created,
    model: opts.model,
    choices,
    ...(usage ? { usage } : {}),
  });
  const delta = (d: ChatChunkChoice['delta'], finish: ChatChunkChoice['finish_reason'] = null): ChatChunk =>
    chunk([{ index: 0, delta: d, finish_reason: finish }]);
  /** Every emitted delta goes through here, so the role chunk always comes first. */
  const emit = (d: ChatChunkChoice['delta'] | null): ChatChunk[] => {
    const out: ChatChunk[] = [];
    if (s.phase === 'idle') {
      s.phase = 'streaming';
      out.push(delta({ role: 'assistant', content: '' }));
    }
    if (d) out.push(delta(d));
    return out;
  };
  const mergeUsage = (u: MessagesUsage | null | undefined) => {
    for (const [k, v] of Object.entries(u ?? {})) if (v !== null && v !== undefined) s.usage[k] = v;
  };
  const close = (): ChatChunk[] => {
    const out = emit(null);
    s.phase = 'done';
    out.push(delta({}, stopReasonToFinish(s.stopReason) ?? 'stop'), chunk([], anthropicUsageToChat(s.usage)));
    return out;
  };

  const startBlock = (index: number, raw: ResponseBlock): ChatChunk[] => {
    const b = knownResponseBlock(raw);
    switch (b?.type) {
      case 'text':
        s.blocks.set(index, { kind: 'text' });
        return emit(b.text ? { content: b.text } : null);
      case 'thinking':
        s.blocks.set(index, { kind: 'thinking' });
        return emit(b.thinking ? { reasoning_content: b.thinking } : null);
      case 'tool_use': {
        const toolIndex = s.nextToolIndex++;
        const hasInput = b.input !== null && typeof b.input === 'object' && Object.keys(b.input).length > 0;
        s.blocks.set(index, { kind: 'tool', toolIndex, argsSent: hasInput });
        const call: ChatToolCallDelta = {
          index: toolIndex,
          id: b.id,
          type: 'function',
          function: { name: b.name, arguments: hasInput ? JSON.stringify(b.input) : '' },
        };
        return emit({ tool_calls: [call] });
      }
      default:
        s.blocks.set(index, { kind: 'ignored' });
        return [];
    }
  };

  const blockDelta = (index: number, d: BlockDelta): ChatChunk[] => {
    const b = s.blocks.get(index);
    if (b?.kind === 'text' && d.type === 'text_delta' && d.text) return emit({ content: d.text });
    if (b?.kind === 'thinking' && d.type === 'thinking_delta' && d.thinking) {
      return emit({ reasoning_content: d.thinking });
    }
    if (b?.kind === 'tool' && d.type === 'input_json_delta' && d.partial_json) {
      b.argsSent = true;
      return emit({ tool_calls: [{ index: b.toolIndex, function: { arguments: d.partial_json } }] });
    }
    return []; // signature_delta, citations_delta, deltas of ignored blocks, empty fragments
  };

  const stopBlock = (index: number): ChatChunk[] => {
    const b = s.blocks.get(index);
    // A tool without arguments streams no fragment; Chat clients JSON.parse the arguments, so send '{}'.
    if (b?.kind === 'tool' && !b.argsSent) {
      b.argsSent = true;
      return emit({ tool_calls: [{ index: b.toolIndex, function: { arguments: '{}' } }] });
    }
    return [];
  };

  return {
    push(raw) {
      if (s.phase === 'done' || !STREAM_EVENT_TYPES.has(raw.type)) return [];
      const parsed = StreamEventSchema.safeParse(raw);
      if (!parsed.success) {
        throw new GatewayError('upstream_error', `The upstream sent a malformed ${raw.type} event.`, {
          cause: parsed.error,
        });
      }
      const e = parsed.data;
      switch (e.type) {
        case 'message_start':
          mergeUsage(e.message.usage);
          return emit(null);
        case 'content_block_start':
          return startBlock(e.index, e.content_block);
        case 'content_block_delta':
          return blockDelta(e.index, e.delta);
        case 'content_block_stop':
          return stopBlock(e.index);
        case 'message_delta':
          s.stopReason = e.delta.stop_reason ?? s.stopReason;
          mergeUsage(e.usage);
          return [];
        case 'message_stop':
          return close();
        case 'error':
          throw anthropicStreamError(e.error);
        case 'ping':
        default:
          return [];
      }
    },
    finish() {
      return s.phase === 'streaming' ? close() : [];
    },
  };
}

/**
 * An Anthropic `error` event → the GatewayError the caller renders in the client's format.
 * `overloaded_error` keeps Anthropic's 529 so an Anthropic-shaped surface reports it as overloaded.
 * @see https://docs.anthropic.com/en/api/errors
 */
export function anthropicStreamError(err: { type: string; message: string }): GatewayError {
  const message = `Upstream stream error (${err.type}): ${err.message}`;
  switch (err.type) {
    case 'rate_limit_error':
      return new GatewayError('rate_limit_exceeded', message);
    case 'overloaded_error':
      return new GatewayError('upstream_error', message, { status: 529 });
    case 'invalid_request_error':
      return new GatewayError('invalid_request', message);
    case 'timeout_error':
      return new GatewayError('upstream_timeout', message);
    default:
      return new GatewayError('upstream_error', message);
  }
}

// ---------- (B) Chat chunks → Messages SSE ----------

export interface ChatToAnthropicOptions {
  /** Messages id (`msg_…`); also seeds ids for tool calls that arrive without one. */
  id: string;
  /** The model name the client asked for. */
  model: string;
  /** Prompt size from the tokenizer, reported in message_start before the real count is known. */
  estimatedInputTokens: number;
}

export interface ChatToAnthropicStream {
  /** One upstream chunk → zero or more SSE frames (`event: <type>\ndata: <json>\n\n`). */
  push(chunk: ChatChunk): string;
  /** Upstream done: closes the open block, then message_delta (stop_reason, usage) and message_stop. */
  finish(): string;
  /** Upstream failed mid-stream: one `error` event; later calls return ''. */
  fail(err: { type: string; message: string }): string;
}

/** One SSE frame, in the `event:` + `data:` form the Messages API uses. */
export function sseFrame(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * message_start (input_tokens = the estimate, output_tokens 1), then one content block at a time with
 * increasing indices: thinking (from reasoning_content), text, tool_use (input_json_delta fragments),
 * then message_delta with the stop reason and real usage (from the usage chunk) and message_stop.
 */
export function createChatToAnthropicStream(opts: ChatToAnthropicOptions): ChatToAnthropicStream {
  const s: ChatToAnthropicState = {
    phase: 'idle',
    open: null,
    nextIndex: 0,
    tools: new Map(),
    toolCount: 0,
    finishReason: null,
    usage: null,
    outputChars: 0,
  };
  const estimate = Math.max(1, Math.round(opts.estimatedInputTokens));

  const start = (): string => {
    if (s.phase !== 'idle') return '';
    s.phase = 'streaming';
    const message = {
      id: opts.id,
      type: 'message',
      role: 'assistant',
      model: opts.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: plainUsage(estimate, 1),
    };
    return sseFrame('message_start', { message });
  };
  const closeBlock = (): string => {
    if (!s.open) return '';
    const { index } = s.open;
    s.open = null;
    return sseFrame('content_block_stop', { index });
  };
  const openBlock = (open: OpenBlock, contentBlock: Record<string, unknown>): string => {
    const out = closeBlock();
    s.open = open;
    s.nextIndex = open.index + 1;
    return out + sseFrame('content_block_start', { index: open.index, content_block: contentBlock });
  };

  const textDelta = (kind: 'text' | 'thinking', text: string): string => {
    let out = '';
    if (s.open?.kind !== kind) {
      const block = kind === 'text' ? { text: '' } : { thinking: '', signature: '' };
      out += openBlock({ kind, index: s.nextIndex }, { type: kind, ...block });
    }
    s.outputChars += text.length;
    const delta = kind === 'text' ? { type: 'text_delta', text } : { type: 'thinking_delta', thinking: text };
    return out + sseFrame('content_block_delta', { index: s.open?.index, delta });
  };

  const toolDelta = (tc: ChatToolCallDelta): string => {
    let out = '';
    const key = tc.index ?? 0;
    let tool = s.tools.get(key);
    // A new index, or a new id at a known index (upstreams that number every call 0), starts a tool_use.
    if (!tool || (tc.id && tc.id !== tool.id)) {
      tool = { id: tc.id || `toolu_${opts.id}_${s.toolCount}`, blockIndex: s.nextIndex };
      s.tools.set(key, tool);
      s.toolCount++;
      const block = { type: 'tool_use', id: tool.id, name: tc.function?.name ?? '', input: {} };
      out += openBlock({ kind: 'tool', index: tool.blockIndex }, block);
    }
    const args = tc.function?.arguments;
    // Fragments for a tool block already closed (an upstream interleaving parallel calls) cannot be sent.
    if (args && s.open?.kind === 'tool' && s.open.index === tool.blockIndex) {
      s.outputChars += args.length;
      out += sseFrame('content_block_delta', {
        index: tool.blockIndex,
        delta: { type: 'input_json_delta', partial_json: args },
      });
    }
    return out;
  };

  const finalUsage = (): AnthropicUsageOut => {
    if (!s.usage) return plainUsage(estimate, Math.max(1, Math.ceil(s.outputChars / 4)));
    const usage = chatUsageToAnthropic(s.usage);
    // Some upstreams report prompt_tokens 0; keep the estimate rather than tell the client "0".
    if (!s.usage.prompt_tokens) usage.input_tokens = estimate;
    return usage;
  };

  return {
    push(chunk) {
      if (s.phase === 'done') return '';
      let out = start();
      if (chunk.usage) s.usage = chunk.usage;
      const choice = (chunk.choices ?? []).find((c) => (c.index ?? 0) === 0);
      if (!choice) return out;
      const d = choice.delta ?? {};
      const reasoning = reasoningText(d);
      if (reasoning) out += textDelta('thinking', reasoning);
      if (typeof d.content === 'string' && d.content) out += textDelta('text', d.content);
      for (const tc of d.tool_calls ?? []) out += toolDelta(tc);
      if (choice.finish_reason) s.finishReason = choice.finish_reason;
      return out;
    },
    finish() {
      if (s.phase === 'done') return '';
      const out = start() + closeBlock();
      s.phase = 'done';
      const stopReason: StopReason = stopReasonFor(s.finishReason, s.toolCount > 0);
      const delta = { stop_reason: stopReason, stop_sequence: null };
      return out + sseFrame('message_delta', { delta, usage: finalUsage() }) + sseFrame('message_stop', {});
    },
    fail(err) {
      if (s.phase === 'done') return '';
      s.phase = 'done';
      return sseFrame('error', { error: { type: err.type, message: err.message } });
    },
  };
}
