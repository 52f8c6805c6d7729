/**
 * @module Responses request → Chat Completions request, for upstreams that only speak Chat.
 * Follows CLIENTS.md §1.4/§5: developer → system, namespace tools flattened, custom tools as one-string
 * functions, hosted tools and unknown items dropped, Responses-only fields never forwarded.
 */
import type {
  ChatContentPart,
  ChatFunctionTool,
  ChatMessage,
  ChatRequest,
  ChatToolCall,
  ChatToolChoice,
} from '../chat/types.js';
import { isKnownInputItem, isKnownTool } from './schema.js';
import type {
  ResponsesContentPart as ContentPart,
  ResponsesCustomTool,
  ResponsesFunctionTool,
  ResponsesKnownInputItem,
  ResponsesNamespaceTool,
  ResponsesRequest,
  ResponsesResponse,
  ResponsesTool,
} from './schema.js';

/** How the client declared the tool behind a chat function name. */
export interface ToolOrigin {
  kind: 'function' | 'custom';
  /** The name the client knows (the inner name for namespaced tools). */
  name: string;
  namespace?: string;
}

/** Request fields the Responses object echoes back. */
export type ResponseEcho = Pick<
  ResponsesResponse,
  | 'max_output_tokens'
  | 'parallel_tool_calls'
  | 'previous_response_id'
  | 'reasoning'
  | 'store'
  | 'temperature'
  | 'text'
  | 'tool_choice'
  | 'top_p'
  | 'user'
  | 'metadata'
>;

/** What the response direction needs to know about the request. */
export interface ResponsesContext {
  /** Chat function name → client tool, for names that are not a plain top-level function. */
  tools: ReadonlyMap<string, ToolOrigin>;
  echo: ResponseEcho;
}

/**
 * @example
 * const { chat, ctx } = responsesToChat(body, 'qwen/qwen3-coder');
 * // send `chat` upstream; hand `ctx` to chatToResponses / createResponsesStreamEncoder
 */
export function responsesToChat(
  req: ResponsesRequest,
  upstreamModel: string,
): { chat: ChatRequest; ctx: ResponsesContext } {
  const origins = new Map<string, ToolOrigin>();
  const tools = convertTools(req.tools ?? [], origins);
  const chat: ChatRequest = { model: upstreamModel, messages: convertInput(req) };

  if (req.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  if (req.max_output_tokens != null) chat.max_tokens = req.max_output_tokens;
  if (req.temperature != null) chat.temperature = req.temperature;
  if (req.top_p != null) chat.top_p = req.top_p;
  if (tools.length > 0) {
    // Chat upstreams reject tool_choice / parallel_tool_calls without tools, so they travel together.
    chat.tools = tools;
    const choice = convertToolChoice(req.tool_choice, tools);
    if (choice !== undefined) chat.tool_choice = choice;
    if (req.parallel_tool_calls != null) chat.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (req.reasoning?.effort) chat.reasoning_effort = req.reasoning.effort;
  const responseFormat = convertTextFormat(req.text?.format);
  if (responseFormat) chat.response_format = responseFormat;
  if (req.user) chat.user = req.user;

  return { chat, ctx: { tools: origins, echo: echoOf(req) } };
}

/**
 * The chat function name of a namespaced tool. Codex namespaces either end in `__` (MCP servers:
 * `mcp__docs__` + `search`) or not (`multi_agent_v1` + `spawn_agent` → `multi_agent_v1__spawn_agent`).
 */
export function chatToolName(name: string, namespace?: string | null): string {
  if (!namespace) return name;
  return namespace.endsWith('__') ? `${namespace}${name}` : `${namespace}__${name}`;
}

function convertInput(req: ResponsesRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  if (typeof req.input === 'string') {
    messages.push({ role: 'user', content: req.input });
    return messages;
  }
  for (const item of req.input) {
    if (isKnownInputItem(item)) convertItem(item, messages);
  }
  return messages;
}

/** @see https://platform.openai.com/docs/api-reference/responses/create#responses-create-input */
function convertItem(item: ResponsesKnownInputItem, messages: ChatMessage[]): void {
  switch (item.type) {
    case undefined:
    case 'message':
      pushMessage(messages, convertMessage(item.role, item.content));
      return;
    case 'function_call':
      pushToolCall(messages, chatToolName(item.name, item.namespace), item.call_id, item.arguments);
      return;
    case 'custom_tool_call':
      pushToolCall(
        messages,
        chatToolName(item.name, item.namespace),
        item.call_id,
        JSON.stringify({ input: item.input }),
      );
      return;
    case 'function_call_output':
    case 'custom_tool_call_output':
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: toolOutputText(item.output) });
      return;
    case 'reasoning':
      // Chat upstreams cannot take reasoning back (and codex's copy is a summary, not the chain).
      return;
    default: {
      const never: never = item;
      return never;
    }
  }
}

/**
 * Codex opens every conversation with two developer messages. Adjacent system messages are joined, since
 * several open-weight chat templates accept a single leading system message only.
 */
function pushMessage(messages: ChatMessage[], message: ChatMessage): void {
  const last = messages.at(-1);
  if (message.role === 'system' && last?.role === 'system') {
    if (typeof last.content === 'string' && typeof message.content === 'string') {
      last.content = `${last.content}\n\n${message.content}`;
      return;
    }
  }
  messages.push(message);
}

function convertMessage(
  role: 'user' | 'assistant' | 'system' | 'developer',
  content: string | ContentPart[],
): ChatMessage {
  const chatRole = role === 'developer' ? 'system' : role;
  if (typeof content === 'string') return { role: chatRole, content };
  const texts: string[] = [];
  const parts: ChatContentPart[] = [];
  let hasImage = false;
  for (const part of content) {
    const text = partText(part);
    if (text !== null) {
      texts.push(text);
      parts.push({ type: 'text', text });
    } else if (part.type === 'input_image' && part.image_url) {
      hasImage = true;
      const url = part.image_url;
      const detail = part.detail;
      const known = detail === 'low' || detail === 'high' || detail === 'auto';
      parts.push({ type: 'image_url', image_url: known ? { url, detail } : { url } });
    }
  }
  // Only user messages may carry images in Chat; everything else is plain text for the widest support.
  if (hasImage && chatRole === 'user') return { role: chatRole, content: parts };
  return { role: chatRole, content: texts.join('\n') };
}

function partText(part: ContentPart): string | null {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return part.text ?? '';
    case 'refusal':
      return part.refusal ?? '';
    default:
      return null;
  }
}

/** Images in tool output have no place in a Chat `tool` message; the text parts are kept. */
function toolOutputText(output: string | ContentPart[]): string {
  if (typeof output === 'string') return output;
  const texts: string[] = [];
  for (const part of output) {
    const text = partText(part);
    if (text !== null) texts.push(text);
  }
  return texts.join('\n');
}

/** Consecutive calls and the assistant text before them form one assistant message, as Chat emits it. */
function pushToolCall(messages: ChatMessage[], name: string, id: string, args: string): void {
  const call: ChatToolCall = { id, type: 'function', function: { name, arguments: args } };
  const last = messages.at(-1);
  if (last?.role === 'assistant') {
    last.tool_calls = [...(last.tool_calls ?? []), call];
    return;
  }
  messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

/** @see https://platform.openai.com/docs/api-reference/responses/create#responses-create-tools */
function convertTools(tools: ResponsesTool[], origins: Map<string, ToolOrigin>): ChatFunctionTool[] {
  const out: ChatFunctionTool[] = [];
  const add = (tool: ResponsesTool | ResponsesNamespaceTool['tools'][number], namespace?: string): void => {
    // Hosted tools (web_search, tool_search, file_search, computer_use_preview, mcp…) cannot run behind Chat.
    if (!isKnownTool(tool)) return;
    switch (tool.type) {
      case 'function': {
        const name = chatToolName(tool.name, namespace);
        if (namespace) origins.set(name, { kind: 'function', name: tool.name, namespace });
        out.push(functionTool(tool, name));
        return;
      }
      case 'custom': {
        const name = chatToolName(tool.name, namespace);
        const origin: ToolOrigin = namespace
          ? { kind: 'custom', name: tool.name, namespace }
          : { kind: 'custom', name };
        origins.set(name, origin);
        out.push(customTool(tool, name));
        return;
      }
      case 'namespace':
        for (const member of tool.tools) add(member, tool.name);
        return;
      default: {
        const never: never = tool;
        return never;
      }
    }
  };
  for (const tool of tools) add(tool);
  return out;
}

function functionTool(tool: ResponsesFunctionTool, name: string): ChatFunctionTool {
  const fn: ChatFunctionTool['function'] = { name };
  if (tool.description) fn.description = tool.description;
  if (isRecord(tool.parameters)) fn.parameters = tool.parameters;
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

/** A freeform tool becomes a function of one string argument `input`; its grammar goes in the description. */
function customTool(tool: ResponsesCustomTool, name: string): ChatFunctionTool {
  let description = tool.description ?? '';
  const format = tool.format;
  if (format?.type === 'grammar' && format.definition) {
    description +=
      `${description ? '\n\n' : ''}Pass the raw tool input (not JSON) as the \`input\` argument. ` +
      `It must match this ${format.syntax ?? ''} grammar:\n${format.definition}`;
  }
  return {
    type: 'function',
    function: {
      name,
      description,
      parameters: {
        type: 'object',
        properties: { input: { type: 'string', description: 'The raw tool input, verbatim.' } },
        required: ['input'],
        additionalProperties: false,
      },
    },
  };
}

/** @see https://platform.openai.com/docs/api-reference/responses/create#responses-create-tool_choice */
function convertToolChoice(
  choice: ResponsesRequest['tool_choice'],
  tools: ChatFunctionTool[],
): ChatToolChoice | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') {
    return choice === 'auto' || choice === 'none' || choice === 'required' ? choice : undefined;
  }
  switch (choice.type) {
    case 'function':
    case 'custom': {
      const name = choice.name ?? '';
      // A forced tool that did not survive translation would be an upstream 400; let the model choose.
      return tools.some((t) => t.function.name === name) ? { type: 'function', function: { name } } : 'auto';
    }
    case 'allowed_tools':
      return choice.mode === 'required' ? 'required' : 'auto';
    default:
      // Hosted tools (web_search, file_search, …) were dropped.
      return 'auto';
  }
}

type TextFormat = NonNullable<NonNullable<ResponsesRequest['text']>['format']>;

/** @see https://platform.openai.com/docs/api-reference/responses/create#responses-create-text */
function convertTextFormat(format: TextFormat | null | undefined): ChatRequest['response_format'] {
  switch (format?.type) {
    case 'json_schema': {
      const schema: Record<string, unknown> = {
        name: format.name ?? 'response',
        schema: format.schema ?? {},
      };
      if (typeof format.strict === 'boolean') schema['strict'] = format.strict;
      if (format.description) schema['description'] = format.description;
      return { type: 'json_schema', json_schema: schema };
    }
    case 'json_object':
      return { type: 'json_object' };
    default:
      return undefined;
  }
}

function echoOf(req: ResponsesRequest): ResponseEcho {
  const text: ResponseEcho['text'] = { format: req.text?.format ?? { type: 'text' } };
  if (req.text?.verbosity) text.verbosity = req.text.verbosity;
  return {
    max_output_tokens: req.max_output_tokens ?? null,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: req.reasoning
      ? { effort: req.reasoning.effort ?? null, summary: req.reasoning.summary ?? null }
      : null,
    // lw keeps no responses, whatever the client asked for.
    store: false,
    temperature: req.temperature ?? null,
    text,
    tool_choice: req.tool_choice ?? 'auto',
    top_p: req.top_p ?? null,
    user: req.user ?? null,
    metadata: req.metadata ?? {},
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
