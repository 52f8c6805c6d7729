/**
 * @module OpenAI-compatible upstreams for Chat Completions: the passthrough exchange (client speaks
 * chat, upstream speaks chat: bytes relayed, only usage frames looked at) and the upstream codec used
 * when the client speaks another format.
 */
import { GatewayError } from '../errors.js';
import { redact } from '../../lib/log.js';
import type { Exchange, StreamRelay } from '../pipeline/exchange.js';
import type { ChunkDecoder, UpstreamCodec } from '../pipeline/translated.js';
import { ChunkTally } from '../pipeline/translated.js';
import { parseFrame, SSE_DONE, sseData } from '../http/sse.js';
import { renderOpenAIError } from '../errors.js';
import { chatCompletionText, usageFromChat, type ChatChunk, type ChatRequest, type ChatResponse, type ChatUsage, type TokenUsage } from '../translate/chat/types.js';
import type { RawJsonObject } from './json-splice.js';
import { usageFromTail } from './json-usage.js';

const USAGE = Buffer.from('"usage"');
const DONE = Buffer.from('[DONE]');
/** Frames kept for estimating an aborted stream's tokens; past this, older text is parsed and dropped. */
const KEEP_FRAMES = 256;

/** The body sent upstream: the client's own, with the upstream model name and usage asked for on streams. */
export function upstreamChatBody(chat: ChatRequest, upstreamModel: string): string {
  const out: ChatRequest = { ...chat, model: upstreamModel };
  if (chat.stream) out.stream_options = { ...(chat.stream_options ?? {}), include_usage: true };
  return JSON.stringify(out);
}

/**
 * The passthrough's upstream body, equal to `upstreamChatBody` once parsed: the client's own bytes
 * with only `model` (and, on a stream that does not ask for usage, `stream_options`) spliced in when
 * `raw` holds them and the splice is provably equivalent; else `upstreamChatBody`.
 */
export function passthroughChatBody(chat: ChatRequest, upstreamModel: string, raw: RawJsonObject | null): Buffer | string {
  if (raw) {
    const edits: Record<string, string> = { model: JSON.stringify(upstreamModel) };
    if (chat.stream && chat.stream_options?.include_usage !== true) {
      edits['stream_options'] = JSON.stringify({ ...(chat.stream_options ?? {}), include_usage: true });
    }
    const spliced = raw.with(edits);
    if (spliced) return spliced;
  }
  return upstreamChatBody(chat, upstreamModel);
}

/** An OpenAI-style in-stream error frame (what Zed and the SDKs parse). */
export function chatErrorFrame(err: GatewayError): string {
  return sseData(renderOpenAIError(err));
}

function parseChunk(frame: Buffer): ChatChunk | null {
  const ev = parseFrame(frame);
  if (!ev || ev.data === '[DONE]') return null;
  try {
    return JSON.parse(ev.data) as ChatChunk;
  } catch {
    return null;
  }
}

class PassthroughChatRelay implements StreamRelay {
  private usageSeen: TokenUsage | null = null;
  private done = false;
  private kept: Buffer[] = [];
  private readonly tally = new ChunkTally();

  constructor(private readonly clientWantsUsage: boolean) {}

  frame(frame: Buffer): Buffer | string | null {
    if (frame.indexOf(DONE) !== -1 && parseFrame(frame)?.data === '[DONE]') {
      this.done = true;
      return frame;
    }
    if (frame.indexOf(USAGE) !== -1) {
      const chunk = parseChunk(frame);
      if (chunk?.usage) {
        this.usageSeen = usageFromChat(chunk.usage);
        const hasChoices = Array.isArray(chunk.choices) && chunk.choices.length > 0;
        if (!this.clientWantsUsage) {
          if (!hasChoices) return null;
          this.keep(frame);
          delete chunk.usage;
          return sseData(chunk);
        }
        if (!Array.isArray(chunk.choices)) {
          chunk.choices = [];
          return sseData(chunk);
        }
        return frame;
      }
    }
    this.keep(frame);
    return frame;
  }

  private keep(frame: Buffer): void {
    this.kept.push(frame);
    if (this.kept.length >= KEEP_FRAMES) this.drainKept();
  }

  private drainKept(): void {
    for (const f of this.kept) {
      const c = parseChunk(f);
      if (c) this.tally.see(c);
    }
    this.kept = [];
  }

  end(): string | null {
    return this.done ? null : SSE_DONE;
  }
  fail(err: GatewayError): string | null {
    return chatErrorFrame(err);
  }
  usage(): TokenUsage | null {
    return this.usageSeen;
  }
  streamedText(): string {
    this.drainKept();
    return this.tally.text();
  }
}

/** Client chat → OpenAI-compatible chat upstream, bytes relayed as they come (`clientBody`: the client's bytes). */
export function chatPassthrough(chat: ChatRequest, upstreamModel: string, clientBody: RawJsonObject | null = null): Exchange {
  const clientWantsUsage = chat.stream_options?.include_usage === true;
  return {
    path: '/chat/completions',
    body: passthroughChatBody(chat, upstreamModel, clientBody),
    json(raw) {
      const parse = (): ChatResponse | null => {
        try {
          return JSON.parse(raw.toString('utf8')) as ChatResponse;
        } catch {
          return null;
        }
      };
      // the bytes go to the client as they are: only the usage is read, from the tail when possible
      const tail = usageFromTail(raw);
      if (tail !== undefined) return { body: raw, usage: usageFromChat(tail as ChatUsage | null), completionText: () => chatCompletionText(parse()) };
      const resp = parse();
      return { body: raw, usage: usageFromChat(resp?.usage), completionText: () => chatCompletionText(resp) };
    },
    stream: () => new PassthroughChatRelay(clientWantsUsage),
  };
}

/** OpenAI-compatible chat as the upstream side of a translated exchange. */
export function openaiChatCodec(upstreamModel: string): UpstreamCodec {
  return {
    path: '/chat/completions',
    body: (chat) => upstreamChatBody(chat, upstreamModel),
    response: (raw) => JSON.parse(raw.toString('utf8')) as ChatResponse,
    decoder(): ChunkDecoder {
      return {
        event(ev) {
          if (ev.data === '[DONE]') return [];
          let c: ChatChunk & { error?: { message?: string } };
          try {
            c = JSON.parse(ev.data) as typeof c;
          } catch {
            return [];
          }
          if (c.error) {
            throw new GatewayError('upstream_error', `The upstream reported an error mid-stream: ${redact(String(c.error.message ?? 'unknown'))}`);
          }
          return Array.isArray(c.choices) || c.usage ? [{ ...c, choices: c.choices ?? [] }] : [];
        },
        end: () => [],
      };
    },
  };
}
