/**
 * @module POST /v1/chat/completions (inbound format: chat, the hub). OpenAI-compatible upstreams get
 * a byte passthrough; Anthropic upstreams go through the Messages translators.
 */
import type { RouteRequest } from '../pipeline/exchange.js';
import type { InferenceRoute } from '../pipeline/handle.js';
import { translatedExchange, type ClientCodec } from '../pipeline/translated.js';
import { chatErrorFrame, chatPassthrough } from '../providers/openai-chat.js';
import { upstreamCodecFor } from '../providers/codecs.js';
import { RawJsonObject } from '../providers/json-splice.js';
import { SSE_DONE, sseData } from '../http/sse.js';
import type { ChatChunk, ChatRequest } from '../translate/chat/types.js';
import { estimatePromptTokens, quickPromptTokens } from '../usage/estimate.js';
import { validateChatRequest } from './chat-validate.js';

/** Chat as the client side of a translated exchange (upstream is not OpenAI-compatible). */
export function chatClientCodec(chat: ChatRequest): ClientCodec {
  const wantsUsage = chat.stream_options?.include_usage === true;
  return {
    response: (resp) => JSON.stringify(resp),
    encoder: () => ({
      chunk(c: ChatChunk) {
        if (c.usage && c.choices.length === 0 && !wantsUsage) return '';
        if (c.usage && !wantsUsage) {
          const { usage: _drop, ...rest } = c;
          return sseData(rest);
        }
        return sseData(c);
      },
      end: () => SSE_DONE,
      fail: (err) => chatErrorFrame(err),
    }),
  };
}

export const chatRoute: InferenceRoute = {
  endpoint: 'chat',
  surface: 'openai',
  kind: 'chat',
  parse(body, _headers, raw): RouteRequest {
    const chat = validateChatRequest(body);
    const rawBody = raw ? new RawJsonObject(raw) : null;
    let prompt: number | null = null;
    let reserve: number | null = null;
    const promptTokens = (): number => (prompt ??= estimatePromptTokens(chat));
    return {
      model: chat.model,
      stream: chat.stream === true,
      maxOutputTokens: chat.max_completion_tokens ?? chat.max_tokens ?? null,
      promptTokens,
      reserveTokens: () => (reserve ??= quickPromptTokens(chat)),
      exchange(d, _model, requestId) {
        if (d.provider.kind === 'openai') return chatPassthrough(chat, d.upstreamModel, rawBody);
        return translatedExchange(chat, upstreamCodecFor(d, requestId), chatClientCodec(chat));
      },
    };
  },
};
