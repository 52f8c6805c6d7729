/**
 * @module Chat Completions → Anthropic Messages.
 * - `chatToMessages`: a client's Chat body → the Messages body sent to an `anthropic` upstream.
 * - `chatResponseToMessages`: an OpenAI-compatible upstream's Chat response → the Messages response a
 *   `/v1/messages` client (Claude Code, @anthropic-ai/sdk) gets.
 * Pure: no I/O, no clock; ids come in through options.
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
import type {
  ChatContentPart,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ChatToolChoice,
} from '../chat/types.js';
import type {
  CustomTool,
  MessageParam,
  MessagesRequest,
  MessagesResponse,
  RequestBlock,
  ResponseBlock,
  TextBlock,
  ToolChoice,
} from './schema.js';
import { stopReasonFor } from './stop-reason.js';
import { chatUsageToAnthropic, plainUsage } from './usage.js';

export interface ChatToMessagesOptions {
  /** `max_tokens` is required by Anthropic; used when the Chat request sets neither limit. */
  defaultMaxTokens: number;
}

/**
 * `reasoning_effort` → extended-thinking budget. `none`/`minimal` and unknown values turn thinking off.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
 */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
  low: 1024,
  medium: 4096,
  high: 16384,
  xhigh: 32768,
};
/** Anthropic's smallest thinking budget, and the room left for the answer inside `max_tokens`. */
const MIN_THINKING_BUDGET = 1024;

type Role = 'user' | 'assistant';
interface Turn {
  role: Role;
  blocks: RequestBlock[];
}

/**
 * Chat request → Messages request. System and developer messages → `system`; consecutive same-role turns
 * merged (Anthropic requires alternation; tool messages become tool_result blocks in a user turn, first in
 * that turn); assistant `tool_calls` → tool_use; images → image blocks; `reasoning_content` in history is
 * dropped (it carries no signature, which Anthropic requires to replay thinking). Dropped fields:
 * n, logprobs, response_format, stream_options, seed, frequency/presence penalties.
 */
export function chatToMessages(
  req: ChatRequest,
  upstreamModel: string,
  opts: ChatToMessagesOptions,
): MessagesRequest {
  const system: TextBlock[] = [];
  const turns: Turn[] = [];
  const push = (role: Role, blocks: RequestBlock[]) => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last?.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };
  for (const m of req.messages) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...contentBlocks(m.content).filter((b): b is TextBlock => b.type === 'text'));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(m));
        break;
      case 'tool':
        push('user', [toolResult(m)]);
        break;
      case 'user':
      case 'function':
      default:
        push('user', contentBlocks(m.content));
        break;
    }
  }

  const maxTokens = req.max_completion_tokens ?? req.max_tokens ?? opts.defaultMaxTokens;
  const out: MessagesRequest = {
    model: upstreamModel,
    max_tokens: maxTokens,
    messages: turns.map(toMessageParam),
  };
  if (system.length > 0) {
    out.system = system.some((b) => b.cache_control) ? system : system.map((b) => b.text).join('\n\n');
  }
  const tools: CustomTool[] = [];
  for (const { type, function: fn } of req.tools ?? []) {
    if (type !== 'function' || !fn) continue; // the hub carries function tools only; be safe anyway
    tools.push({
      name: fn.name,
      ...(fn.description === undefined ? {} : { description: fn.description }),
      input_schema: fn.parameters ?? { type: 'object', properties: {} },
    });
  }
  if (tools.length > 0) {
    out.tools = tools;
    const choice = toolChoice(req.tool_choice, req.parallel_tool_calls === false);
    if (choice) out.tool_choice = choice;
  }

  const thinking = thinkingBudget(req, maxTokens);
  if (thinking !== undefined) {
    // Extended thinking allows neither temperature nor top_k changes, and top_p only in [0.95, 1].
    out.thinking = { type: 'enabled', budget_tokens: thinking };
    if (typeof req.top_p === 'number' && req.top_p >= 0.95) out.top_p = req.top_p;
  } else {
    if (typeof req.temperature === 'number') out.temperature = Math.min(1, Math.max(0, req.temperature));
    if (typeof req.top_p === 'number') out.top_p = req.top_p;
    if (typeof req.top_k === 'number') out.top_k = req.top_k;
  }
  const stop = typeof req.stop === 'string' ? [req.stop] : (req.stop ?? []);
  if (stop.length > 0) out.stop_sequences = stop;
  if (req.stream) out.stream = true;
  if (req.user) out.metadata = { user_id: req.user };
  return out;
}

/**
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-tool_choice
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use#forcing-tool-use
 */
function toolChoice(choice: ChatToolChoice | undefined, noParallel: boolean): ToolChoice | undefined {
  const parallel = noParallel ? { disable_parallel_tool_use: true } : {};
  switch (choice) {
    case undefined:
      return noParallel ? { type: 'auto', ...parallel } : undefined;
    case 'auto':
      return { type: 'auto', ...parallel };
    case 'required':
      return { type: 'any', ...parallel };
    case 'none':
      return { type: 'none' };
    default:
      return typeof choice === 'object' && choice.type === 'function'
        ? { type: 'tool', name: choice.function.name, ...parallel }
        : undefined;
  }
}

/**
 * The thinking budget for `reasoning_effort`, or undefined when thinking must stay off: no or unknown
 * effort, forced tool use (Anthropic rejects it with thinking), no room in `max_tokens`, or a pending
 * tool loop (the last assistant turn called tools: Anthropic then demands that turn's signed thinking
 * block, which a Chat client cannot send back).
 */
function thinkingBudget(req: ChatRequest, maxTokens: number): number | undefined {
  const effort = req.reasoning_effort;
  if (effort === undefined || !Object.hasOwn(THINKING_BUDGETS, effort)) return undefined;
  const wanted = THINKING_BUDGETS[effort] ?? 0;
  if (req.tool_choice === 'required' || typeof req.tool_choice === 'object') return undefined;
  const lastAssistant = req.messages.findLast((m) => m.role === 'assistant');
  if (lastAssistant?.tool_calls?.length) return undefined;
  const budget = Math.min(wanted, maxTokens - MIN_THINKING_BUDGET);
  return budget >= MIN_THINKING_BUDGET ? budget : undefined;
}

/** One text block whose only key is its text collapses to a string, the shape most clients send. */
function toMessageParam(t: Turn): MessageParam {
  const isResult = (b: RequestBlock) => b.type === 'tool_result';
  const blocks =
    t.role === 'user' ? [...t.blocks.filter(isResult), ...t.blocks.filter((b) => !isResult(b))] : t.blocks;
  const only = blocks.length === 1 ? blocks[0] : undefined;
  if (only?.type === 'text' && typeof only.text === 'string' && only.cache_control === undefined) {
    return { role: t.role, content: only.text };
  }
  return { role: t.role, content: blocks };
}

function assistantBlocks(m: ChatMessage): RequestBlock[] {
  const blocks = contentBlocks(m.content).filter((b) => b.type === 'text');
  for (const call of m.tool_calls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: toolUseId(call.id),
      name: call.function.name,
      input: parseToolArguments(call.function.arguments),
    });
  }
  return blocks;
}

function toolResult(m: ChatMessage): RequestBlock {
  const blocks = contentBlocks(m.content).filter((b) => b.type === 'text' || b.type === 'image');
  const block: RequestBlock = { type: 'tool_result', tool_use_id: toolUseId(m.tool_call_id ?? '') };
  const only = blocks.length === 1 ? blocks[0] : undefined;
  if (only?.type === 'text' && typeof only.text === 'string') block.content = only.text;
  else if (blocks.length > 0) block.content = blocks;
  return block;
}

/** Chat content (string or parts) → Anthropic blocks; empty text is dropped (Anthropic rejects it). */
function contentBlocks(content: ChatMessage['content']): RequestBlock[] {
  if (content === null || content === undefined || content === '') return [];
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const out: RequestBlock[] = [];
  for (const p of content) {
    const block = partBlock(p);
    if (block) out.push(block);
  }
  return out;
}

function partBlock(part: ChatContentPart): RequestBlock | null {
  // Parts are open-ended (`refusal`, `file`, extensions such as `cache_control`): read them as records.
  const p = part as { [k: string]: unknown };
  const cache =
    p.cache_control && typeof p.cache_control === 'object' ? { cache_control: p.cache_control } : {};
  switch (p.type) {
    case 'text':
    case 'refusal': {
      const text = p.type === 'text' ? p.text : p.refusal;
      return typeof text === 'string' && text !== '' ? { type: 'text', text, ...cache } : null;
    }
    case 'image_url': {
      const raw = p.image_url;
      const url =
        typeof raw === 'string' ? raw : raw && typeof raw === 'object' && 'url' in raw ? raw.url : null;
      if (typeof url !== 'string') return null;
      const data = parseDataUrl(url);
      if (data) {
        const type = data.mediaType.startsWith('image/') ? 'image' : 'document';
        return { type, source: { type: 'base64', media_type: data.mediaType, data: data.base64 }, ...cache };
      }
      return /^https?:\/\//i.test(url) ? { type: 'image', source: { type: 'url', url }, ...cache } : null;
    }
    case 'file': {
      const file = p.file;
      const fileData = file && typeof file === 'object' && 'file_data' in file ? file.file_data : null;
      const data = typeof fileData === 'string' ? parseDataUrl(fileData) : null;
      if (!data) return null;
      return { type: 'document', source: { type: 'base64', media_type: data.mediaType, data: data.base64 } };
    }
    default:
      return null; // input_audio, file ids and unknown parts have no Messages equivalent
  }
}

/** `data:<type>[;base64],<payload>` → media type + base64 payload (percent-encoded payloads re-encoded). */
export function parseDataUrl(url: string): { mediaType: string; base64: string } | null {
  const m = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!m) return null;
  const mediaType = m[1] || 'text/plain';
  const payload = m[3] ?? '';
  if (/;base64$/i.test(m[2] ?? '')) return { mediaType, base64: payload };
  return { mediaType, base64: Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64') };
}

/**
 * Tool-call `arguments` (a JSON string) → tool_use `input` (an object). Empty → `{}`. Anything that is
 * not a JSON object is kept, unparsed, as `{ _raw_arguments: "<text>" }` so the model sees what it sent
 * instead of a silently emptied call.
 */
export function parseToolArguments(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(raw);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: keep the raw text
  }
  return { _raw_arguments: raw };
}

/** Anthropic tool ids must match ^[a-zA-Z0-9_-]+$; other upstreams' ids (`functions.x:0`) are rewritten. */
export function toolUseId(id: string): string {
  const clean = id.replace(/[^a-zA-Z0-9_-]/g, '_');
  return clean === '' ? 'toolu_missing' : clean;
}

export interface ChatResponseToMessagesOptions {
  /** Messages id (`msg_…`). */
  id: string;
  /** The model name the client asked for. */
  model: string;
  /** Reported as input_tokens when the upstream sent no usage. */
  estimatedInputTokens?: number;
}

/**
 * Chat response → Messages response: a thinking block from `reasoning_content` (or `reasoning`), a text
 * block, then tool_use blocks; `stop` with tool calls reports `tool_use`. Thinking blocks carry an empty
 * signature: they can be shown, not replayed to Anthropic.
 */
export function chatResponseToMessages(
  resp: ChatResponse,
  opts: ChatResponseToMessagesOptions,
): MessagesResponse {
  const choice = resp.choices[0];
  const msg = choice?.message;
  const content: ResponseBlock[] = [];
  const reasoning = msg ? reasoningText(msg) : '';
  if (reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  const text = contentBlocks(msg?.content)
    .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
    .join('');
  if (text) content.push({ type: 'text', text });
  const calls = msg?.tool_calls ?? [];
  calls.forEach((call, i) => {
    content.push({
      type: 'tool_use',
      id: call.id || `toolu_${opts.id}_${i}`,
      name: call.function.name,
      input: parseToolArguments(call.function.arguments ?? ''),
    });
  });
  const usage = resp.usage ? chatUsageToAnthropic(resp.usage) : plainUsage(opts.estimatedInputTokens ?? 0, 0);
  return {
    id: opts.id,
    type: 'message',
    role: 'assistant',
    model: opts.model,
    content,
    stop_reason: stopReasonFor(choice?.finish_reason, calls.length > 0),
    stop_sequence: null,
    usage,
  };
}

/** `reasoning_content` (DeepSeek, vLLM) or `reasoning` (OpenRouter, newer vLLM). */
export function reasoningText(m: { reasoning_content?: unknown; reasoning?: unknown }): string {
  if (typeof m.reasoning_content === 'string') return m.reasoning_content;
  return typeof m.reasoning === 'string' ? m.reasoning : '';
}
