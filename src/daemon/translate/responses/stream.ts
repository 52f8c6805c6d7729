/**
 * @module Chat Completions stream chunks → Responses API SSE events, as an explicit state machine.
 * Event order follows CLIENTS.md §1.5/§5: codex acts on `response.output_item.done` and needs
 * `response.completed` with an id; everything else is for display.
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */
import type { ChatChunk, ChatFinishReason, ChatToolCallDelta, TokenUsage } from '../chat/types.js';
import { usageFromChat } from '../chat/types.js';
import {
  envelope,
  itemId,
  itemStatusOf,
  messageItem,
  outcomeOf,
  reasoningItem,
  reasoningText,
  toolCallItem,
  usageToResponses,
} from './from-chat.js';
import type { ItemStatus, ResponseOpts } from './from-chat.js';
import type { ResponsesOutputItem, ResponsesResponse, ResponsesStreamEvent } from './schema.js';
import type { ResponsesContext } from './to-chat.js';

/** The reasoning or message item being streamed. At most one is open: a delta of the other kind closes it. */
interface TextItem {
  kind: 'reasoning' | 'message';
  outputIndex: number;
  id: string;
  text: string;
}

/**
 * A tool call, keyed by its chat delta index. It is announced (`output_item.added`) once its name is known
 * and stays open until the choice finishes, because upstreams may interleave the arguments of parallel calls.
 */
interface ToolSlot {
  /** Set when announced, with the item id and whether it is a custom tool call. */
  outputIndex: number | null;
  itemId: string;
  custom: boolean;
  callId: string | null;
  name: string;
  args: string;
}

export interface ResponsesStreamState {
  /** `idle`: nothing written; `open`: response.created written; `closed`: a terminal event written. */
  phase: 'idle' | 'open' | 'closed';
  /** The next event's sequence_number. */
  seq: number;
  /** The next item's output_index. */
  nextIndex: number;
  text: TextItem | null;
  tools: Map<number, ToolSlot>;
  /** Finished items, by output_index. */
  output: Array<ResponsesOutputItem | undefined>;
  finishReason: ChatFinishReason | null;
  usage: TokenUsage | null;
}

type WithoutSeq<E> = E extends unknown ? Omit<E, 'sequence_number'> : never;
/** An event as built here; `emit` numbers it. */
type EventBody = WithoutSeq<ResponsesStreamEvent>;

export interface ResponsesStreamEncoder {
  /** Translates one upstream chunk; returns the SSE text to write (possibly ''). Never throws. */
  push(chunk: ChatChunk): string;
  /** Closes open items; writes `response.completed`, or `response.incomplete` after finish_reason length. */
  finish(): string;
  /** Writes `response.failed`; nothing is written after it. */
  fail(error: { code: string; message: string }): string;
  /** Usage reported by the upstream so far (from the final `include_usage` chunk). */
  usage(): TokenUsage | null;
}

/**
 * @example
 * const enc = createResponsesStreamEncoder(ctx, { id: 'resp_1', createdAt: 1700000000, model: 'coder' });
 * for await (const chunk of upstreamChunks) res.write(enc.push(chunk));
 * res.end(enc.finish());
 */
export function createResponsesStreamEncoder(
  ctx: ResponsesContext,
  opts: ResponseOpts,
): ResponsesStreamEncoder {
  const s: ResponsesStreamState = {
    phase: 'idle',
    seq: 0,
    nextIndex: 0,
    text: null,
    tools: new Map(),
    output: [],
    finishReason: null,
    usage: null,
  };
  let out = '';

  const emit = (event: EventBody): void => {
    const { type, ...rest } = event;
    out += `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: s.seq++, ...rest })}\n\n`;
  };
  const flush = (): string => {
    const text = out;
    out = '';
    return text;
  };
  const finished = (): ResponsesOutputItem[] => s.output.filter((i) => i !== undefined);
  const usage = (): ResponsesResponse['usage'] => (s.usage ? usageToResponses(s.usage) : null);

  const start = (): void => {
    if (s.phase !== 'idle') return;
    s.phase = 'open';
    const base = envelope(ctx, opts, { status: 'in_progress', incomplete_details: null });
    const response = { ...base, output: [], usage: null };
    emit({ type: 'response.created', response });
    emit({ type: 'response.in_progress', response });
  };

  const openText = (kind: TextItem['kind']): TextItem => {
    const outputIndex = s.nextIndex++;
    const id = itemId(kind === 'message' ? 'msg' : 'rs', opts.id, outputIndex);
    const item: TextItem = { kind, outputIndex, id, text: '' };
    const at = { item_id: id, output_index: outputIndex };
    if (kind === 'message') {
      const added = messageItem(id, '', 'in_progress');
      emit({ type: 'response.output_item.added', output_index: outputIndex, item: added });
      const part = { type: 'output_text' as const, text: '', annotations: [] };
      emit({ type: 'response.content_part.added', ...at, content_index: 0, part });
    } else {
      emit({ type: 'response.output_item.added', output_index: outputIndex, item: reasoningItem(id, '') });
      const part = { type: 'summary_text' as const, text: '' };
      emit({ type: 'response.reasoning_summary_part.added', ...at, summary_index: 0, part });
    }
    s.text = item;
    return item;
  };

  const appendText = (kind: TextItem['kind'], delta: string): void => {
    if (s.text?.kind !== kind) closeText('completed');
    const item = s.text ?? openText(kind);
    item.text += delta;
    const at = { item_id: item.id, output_index: item.outputIndex };
    if (kind === 'message') {
      emit({ type: 'response.output_text.delta', ...at, content_index: 0, delta, logprobs: [] });
    } else {
      emit({ type: 'response.reasoning_summary_text.delta', ...at, summary_index: 0, delta });
    }
  };

  const closeText = (status: ItemStatus): void => {
    const item = s.text;
    if (!item) return;
    s.text = null;
    const { text, outputIndex } = item;
    const at = { item_id: item.id, output_index: outputIndex };
    let done: ResponsesOutputItem;
    if (item.kind === 'message') {
      emit({ type: 'response.output_text.done', ...at, content_index: 0, text, logprobs: [] });
      const part = { type: 'output_text' as const, text, annotations: [] };
      emit({ type: 'response.content_part.done', ...at, content_index: 0, part });
      done = messageItem(item.id, text, status);
    } else {
      emit({ type: 'response.reasoning_summary_text.done', ...at, summary_index: 0, text });
      const part = { type: 'summary_text' as const, text };
      emit({ type: 'response.reasoning_summary_part.done', ...at, summary_index: 0, part });
      done = reasoningItem(item.id, text);
    }
    emit({ type: 'response.output_item.done', output_index: outputIndex, item: done });
    s.output[outputIndex] = done;
  };

  /** Gives the call its output_index and writes `output_item.added`, then buffered arguments as one delta. */
  const announce = (slot: ToolSlot): void => {
    closeText('completed');
    const outputIndex = s.nextIndex++;
    slot.callId ||= itemId('call', opts.id, outputIndex);
    const item = toolCallItem(ctx, opts.id, outputIndex, { ...slot, status: 'in_progress' });
    Object.assign(slot, { outputIndex, itemId: item.id, custom: item.type === 'custom_tool_call' });
    emit({ type: 'response.output_item.added', output_index: outputIndex, item });
    if (slot.args) argumentsDelta(slot, slot.args);
  };

  const argumentsDelta = (slot: ToolSlot, delta: string): void => {
    // A custom tool's input arrives JSON-wrapped ({"input": "…"}); it is sent whole with the done event.
    if (slot.custom || slot.outputIndex === null) return;
    const at = { item_id: slot.itemId, output_index: slot.outputIndex };
    emit({ type: 'response.function_call_arguments.delta', ...at, delta });
  };

  const appendTool = (delta: ChatToolCallDelta): void => {
    const key = typeof delta.index === 'number' ? delta.index : 0;
    let slot = s.tools.get(key);
    if (!slot) {
      slot = { outputIndex: null, itemId: '', custom: false, callId: null, name: '', args: '' };
      s.tools.set(key, slot);
    }
    if (delta.id && !slot.callId) slot.callId = delta.id;
    // Some upstreams repeat the name on every delta: the first one wins.
    if (delta.function?.name && !slot.name) slot.name = delta.function.name;
    const args = typeof delta.function?.arguments === 'string' ? delta.function.arguments : '';
    slot.args += args;
    if (slot.outputIndex === null) {
      if (slot.name) announce(slot);
    } else if (args) {
      argumentsDelta(slot, args);
    }
  };

  const closeTools = (status: ItemStatus): void => {
    for (const slot of s.tools.values()) if (slot.outputIndex === null) announce(slot);
    const slots = [...s.tools.values()].sort((a, b) => (a.outputIndex ?? 0) - (b.outputIndex ?? 0));
    s.tools.clear();
    for (const slot of slots) {
      const outputIndex = slot.outputIndex ?? 0;
      const item = toolCallItem(ctx, opts.id, outputIndex, { ...slot, status });
      const at = { item_id: item.id, output_index: outputIndex };
      if (item.type === 'custom_tool_call') {
        emit({ type: 'response.custom_tool_call_input.done', ...at, input: item.input });
      } else if (item.type === 'function_call') {
        const { name, arguments: args } = item;
        emit({ type: 'response.function_call_arguments.done', ...at, name, arguments: args });
      }
      emit({ type: 'response.output_item.done', output_index: outputIndex, item });
      s.output[outputIndex] = item;
    }
  };

  const closeAll = (status: ItemStatus): void => {
    closeText(status);
    closeTools(status);
  };

  return {
    push(chunk) {
      if (s.phase === 'closed') return '';
      start();
      if (chunk?.usage) s.usage = usageFromChat(chunk.usage);
      const choices = Array.isArray(chunk?.choices) ? chunk.choices : [];
      const choice = choices.find((c) => c?.index === 0) ?? choices[0];
      if (!choice) return flush();
      const delta = choice.delta ?? {};
      const reasoning = reasoningText(delta);
      if (reasoning) appendText('reasoning', reasoning);
      if (typeof delta.content === 'string' && delta.content) appendText('message', delta.content);
      if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls) if (call) appendTool(call);
      if (choice.finish_reason) {
        // Close items now: codex can start a tool while the usage chunk is still on its way.
        s.finishReason = choice.finish_reason;
        closeAll(itemStatusOf(outcomeOf(s.finishReason)));
      }
      return flush();
    },

    finish() {
      if (s.phase === 'closed') return '';
      start();
      const outcome = outcomeOf(s.finishReason);
      closeAll(itemStatusOf(outcome));
      const response = { ...envelope(ctx, opts, outcome), output: finished(), usage: usage() };
      const type = outcome.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
      emit({ type, response });
      s.phase = 'closed';
      return flush();
    },

    fail(error) {
      if (s.phase === 'closed') return '';
      start();
      const base = envelope(ctx, opts, { status: 'failed', incomplete_details: null });
      const failure = { code: error.code, message: error.message };
      const response = { ...base, error: failure, output: finished(), usage: usage() };
      emit({ type: 'response.failed', response });
      s.phase = 'closed';
      return flush();
    },

    usage: () => s.usage,
  };
}
