/**
 * @module POST /v1/messages (Anthropic Messages inbound: Claude Code, @anthropic-ai/sdk) and
 * POST /v1/messages/count_tokens. `anthropic` providers get a passthrough (the client's body with the
 * upstream model name, `anthropic-version` / `anthropic-beta` forwarded, bytes relayed, usage sniffed
 * from `message_start` / `message_delta`); OpenAI-compatible providers go through the hub
 * (`messagesToChat` → chat upstream → Messages JSON or SSE). Errors use the Anthropic shape.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { authenticate } from '../auth.js';
import { GatewayError, renderAnthropicError } from '../errors.js';
import { parseJsonObject, readBody, sendError, sendJson } from '../http/respond.js';
import type { LocalRoute } from '../http/listener.js';
import { parseFrame } from '../http/sse.js';
import type { Exchange, RouteRequest, StreamRelay } from '../pipeline/exchange.js';
import type { InferenceRoute } from '../pipeline/handle.js';
import { translatedExchange, type ClientCodec } from '../pipeline/translated.js';
import { upstreamCodecFor } from '../providers/codecs.js';
import { resolveModel } from '../resolve.js';
import { usageFromChat, type TokenUsage } from '../translate/chat/types.js';
import { chatResponseToMessages } from '../translate/anthropic/from-chat.js';
import { messagesRequestText } from '../translate/anthropic/request-text.js';
import { MessagesRequestSchema, type MessagesRequest, type MessagesUsage } from '../translate/anthropic/schema.js';
import { createChatToAnthropicStream } from '../translate/anthropic/stream.js';
import { messagesToChat } from '../translate/anthropic/to-chat.js';
import { anthropicUsageToChat } from '../translate/anthropic/usage.js';
import { estimateTextTokens, quickTextTokens } from '../usage/estimate.js';

/** Client headers an Anthropic upstream must see (API version, beta features). */
const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'] as const;

/** count_tokens takes a Messages body without `max_tokens`. */
const CountTokensSchema = MessagesRequestSchema.extend({ max_tokens: z.number().int().positive().optional() });

function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** Parses a Messages body or throws a 400 naming the first wrong field. */
function parseMessagesBody<S extends z.ZodType>(schema: S, body: Record<string, unknown>): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const param = issue ? issuePath(issue.path) : '';
  const what = param ? `'${param}'` : 'The request body';
  throw new GatewayError('invalid_request', `${what}: ${issue?.message ?? 'invalid Messages request'}.`, { param: param || null });
}

/**
 * Input tokens of a Messages request by the tokenizer: what count_tokens answers and what a translated
 * stream reports in `message_start` (at least 1, never 0).
 */
export function countMessagesTokens(req: MessagesRequest): number {
  return Math.max(1, estimateTextTokens(messagesRequestText(req)));
}

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of FORWARDED_HEADERS) {
    const v = headers[h];
    if (typeof v === 'string' && v) out[h] = v;
  }
  return out;
}

/** An Anthropic `event: error` frame for a failure after the stream started. */
export function messagesErrorFrame(err: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify(renderAnthropicError(err))}\n\n`;
}

const MESSAGE_START = Buffer.from('"message_start"');
const MESSAGE_DELTA = Buffer.from('"message_delta"');
const BLOCK_DELTA = Buffer.from('"content_block_delta"');
/** Delta frames kept for estimating an aborted stream's output; past this they are read and dropped. */
const KEEP_FRAMES = 256;

interface EventData {
  type?: unknown;
  message?: { usage?: MessagesUsage | null } | null;
  usage?: MessagesUsage | null;
  delta?: { text?: unknown; partial_json?: unknown; thinking?: unknown } | null;
}

function frameData(frame: Buffer): EventData | null {
  const ev = parseFrame(frame);
  if (!ev) return null;
  try {
    const v: unknown = JSON.parse(ev.data);
    return v && typeof v === 'object' ? (v as EventData) : null;
  } catch {
    return null;
  }
}

/** Anthropic SSE relayed byte for byte; only message_start / message_delta are parsed (for usage). */
class PassthroughMessagesRelay implements StreamRelay {
  private counts: MessagesUsage = {};
  private deltaSeen = false;
  private kept: Buffer[] = [];
  private readonly parts: string[] = [];

  frame(frame: Buffer): Buffer {
    if (frame.indexOf(MESSAGE_START) !== -1 || frame.indexOf(MESSAGE_DELTA) !== -1) {
      const data = frameData(frame);
      if (data?.type === 'message_start') this.merge(data.message?.usage);
      else if (data?.type === 'message_delta') {
        this.merge(data.usage);
        this.deltaSeen = true;
      } else if (data?.type === 'content_block_delta') this.keep(frame);
    } else if (frame.indexOf(BLOCK_DELTA) !== -1) this.keep(frame);
    return frame;
  }

  /** message_delta counts are cumulative: the latest value of each field wins. */
  private merge(u: MessagesUsage | null | undefined): void {
    if (!u) return;
    for (const [k, v] of Object.entries(u)) if (v !== null && v !== undefined) this.counts[k] = v;
  }

  private keep(frame: Buffer): void {
    this.kept.push(frame);
    if (this.kept.length >= KEEP_FRAMES) this.drainKept();
  }

  private drainKept(): void {
    for (const f of this.kept) {
      const d = frameData(f)?.delta;
      const text = d?.text ?? d?.partial_json ?? d?.thinking;
      if (typeof text === 'string') this.parts.push(text);
    }
    this.kept = [];
  }

  end(): null {
    return null;
  }
  fail(err: GatewayError): string {
    return messagesErrorFrame(err);
  }
  /** Real counts once message_delta came; before that (aborted, broken) the pipeline estimates. */
  usage(): TokenUsage | null {
    return this.deltaSeen ? usageFromChat(anthropicUsageToChat(this.counts)) : null;
  }
  streamedText(): string {
    this.drainKept();
    return this.parts.join('');
  }
}

/** Client Messages → `anthropic` upstream: the client's own body with the upstream model name. */
export function messagesPassthrough(body: Record<string, unknown>, upstreamModel: string, headers: Record<string, string>): Exchange {
  return {
    path: '/messages',
    body: JSON.stringify({ ...body, model: upstreamModel }),
    headers,
    json(raw) {
      let usage: TokenUsage | null = null;
      try {
        const u = (JSON.parse(raw.toString('utf8')) as { usage?: MessagesUsage | null }).usage;
        usage = u ? usageFromChat(anthropicUsageToChat(u)) : null;
      } catch {
        usage = null;
      }
      return { body: raw, usage, completionText: () => messageText(raw) };
    },
    stream: () => new PassthroughMessagesRelay(),
  };
}

/** Messages as the client side of a translated exchange (hub chat → Messages JSON / SSE). */
export function messagesClientCodec(id: string, model: string, estimatedInputTokens: () => number): ClientCodec {
  return {
    response: (chat) => JSON.stringify(chatResponseToMessages(chat, { id, model, estimatedInputTokens: estimatedInputTokens() })),
    encoder() {
      const s = createChatToAnthropicStream({ id, model, estimatedInputTokens: estimatedInputTokens() });
      return {
        chunk: (c) => s.push(c),
        end: () => s.finish(),
        fail: (err) => s.fail(renderAnthropicError(err).error),
      };
    },
  };
}

/** Everything an Anthropic message generated (text, thinking, tool input), for estimates. */
function messageText(raw: Buffer): string {
  let output = '';
  try {
    const msg = JSON.parse(raw.toString('utf8')) as { content?: Array<{ text?: unknown; thinking?: unknown; input?: unknown }> };
    for (const b of msg.content ?? []) {
      output += typeof b.text === 'string' ? b.text : typeof b.thinking === 'string' ? b.thinking : JSON.stringify(b.input ?? '');
    }
  } catch {
    output = '';
  }
  return output;
}

export const messagesRoute: InferenceRoute = {
  endpoint: 'messages',
  surface: 'anthropic',
  kind: 'chat',
  parse(body, headers): RouteRequest {
    const req = parseMessagesBody(MessagesRequestSchema, body);
    const forwarded = forwardedHeaders(headers);
    let prompt: number | null = null;
    let reserve: number | null = null;
    const promptTokens = (): number => (prompt ??= countMessagesTokens(req));
    return {
      model: req.model,
      stream: req.stream === true,
      maxOutputTokens: req.max_tokens,
      promptTokens,
      reserveTokens: () => (reserve ??= Math.max(1, quickTextTokens(messagesRequestText(req)))),
      exchange(d, model, requestId): Exchange {
        if (d.provider.kind === 'anthropic') return messagesPassthrough(body, d.upstreamModel, forwarded);
        const chat = messagesToChat(req, d.upstreamModel, model.maxOutput ? { maxTokensCap: model.maxOutput } : {});
        const id = `msg_${requestId.replace(/^req_/, '')}`;
        return translatedExchange(chat, upstreamCodecFor(d, requestId), messagesClientCodec(id, req.model, promptTokens));
      },
    };
  },
};

/** `POST /v1/messages/count_tokens`: `{input_tokens}` by the tokenizer; authenticated, no upstream. */
export const countTokensRoute: LocalRoute = {
  surface: 'anthropic',
  async local(deps, req, res, requestId, head) {
    const t0 = deps.now();
    let status = 200;
    let model: string | undefined;
    let tokens: number | undefined;
    try {
      const snap = deps.state.current;
      const key = authenticate(snap, req.headers, t0);
      const body = parseJsonObject(await readBody(req, deps.config.bodyLimit));
      const parsed = parseMessagesBody(CountTokensSchema, body);
      model = resolveModel(snap, key, parsed.model, 'chat').id;
      tokens = countMessagesTokens({ ...parsed, max_tokens: parsed.max_tokens ?? 1 });
      sendJson(res, 200, JSON.stringify({ input_tokens: tokens }), head);
    } catch (err) {
      status = sendError(res, err, 'anthropic', head).status;
    }
    const latency = deps.now() - t0;
    deps.metrics.requests.labels('count_tokens', String(status)).inc();
    deps.log.info('request', { request_id: requestId, endpoint: 'count_tokens', model, status, latency_ms: latency, prompt_tokens: tokens });
  },
};
