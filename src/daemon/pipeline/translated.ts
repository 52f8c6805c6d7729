/**
 * @module Exchanges through the hub: a client codec (chat, responses, messages) and an upstream codec
 * (openai chat, anthropic messages) meet at Chat Completions objects. Used whenever the client's
 * format and the upstream's differ; same-format pairs use the passthrough exchanges instead.
 */
import type { GatewayError } from '../errors.js';
import { parseFrame, type SseEvent } from '../http/sse.js';
import { chatCompletionText, usageFromChat, type ChatChunk, type ChatRequest, type ChatResponse, type TokenUsage } from '../translate/chat/types.js';
import type { Exchange, StreamRelay } from './exchange.js';

export interface UpstreamCodec {
  path: string;
  body(chat: ChatRequest): string;
  headers?: Record<string, string>;
  response(raw: Buffer): ChatResponse;
  decoder(): ChunkDecoder;
}

/** Upstream SSE events → hub chunks. */
export interface ChunkDecoder {
  event(ev: SseEvent): ChatChunk[];
  end(): ChatChunk[];
}

/** Hub → client format. */
export interface ClientCodec {
  response(chat: ChatResponse): string;
  encoder(): ChunkEncoder;
}

export interface ChunkEncoder {
  chunk(c: ChatChunk): string;
  end(): string;
  fail(err: GatewayError): string;
}

/** Collects usage and streamed text from hub chunks, whatever the formats on either side. */
export class ChunkTally {
  private usageSeen: TokenUsage | null = null;
  private readonly parts: string[] = [];

  see(c: ChatChunk): void {
    if (c.usage) this.usageSeen = usageFromChat(c.usage);
    for (const ch of c.choices) {
      const d = ch.delta;
      if (d.content) this.parts.push(d.content);
      if (d.reasoning_content) this.parts.push(d.reasoning_content);
      if (d.tool_calls) for (const t of d.tool_calls) if (t.function?.arguments) this.parts.push(t.function.arguments);
    }
  }
  usage(): TokenUsage | null {
    return this.usageSeen;
  }
  text(): string {
    return this.parts.join('');
  }
}

export function translatedExchange(chat: ChatRequest, upstream: UpstreamCodec, client: ClientCodec): Exchange {
  return {
    path: upstream.path,
    body: upstream.body(chat),
    ...(upstream.headers ? { headers: upstream.headers } : {}),
    json(raw) {
      const resp = upstream.response(raw);
      return { body: client.response(resp), usage: usageFromChat(resp.usage), completionText: () => chatCompletionText(resp) };
    },
    stream(): StreamRelay {
      const decoder = upstream.decoder();
      const encoder = client.encoder();
      const tally = new ChunkTally();
      const emit = (chunks: ChatChunk[]): string | null => {
        let out = '';
        for (const c of chunks) {
          tally.see(c);
          out += encoder.chunk(c);
        }
        return out || null;
      };
      return {
        frame(frame) {
          const ev = parseFrame(frame);
          return ev ? emit(decoder.event(ev)) : null;
        },
        end() {
          return (emit(decoder.end()) ?? '') + encoder.end() || null;
        },
        fail(err) {
          return encoder.fail(err) || null;
        },
        usage: () => tally.usage(),
        streamedText: () => tally.text(),
      };
    },
  };
}
