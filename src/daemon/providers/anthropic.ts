/**
 * @module Anthropic (native Messages API) as an upstream: the codec that turns hub chat requests into
 * Messages requests and Messages answers (JSON and SSE) back into hub chat objects.
 */
import { GatewayError } from '../errors.js';
import type { UpstreamCodec } from '../pipeline/translated.js';
import type { ChatChunk, ChatResponse } from '../translate/chat/types.js';
import { chatToMessages } from '../translate/anthropic/from-chat.js';
import { messagesResponseToChat } from '../translate/anthropic/to-chat.js';
import { createAnthropicToChatStream } from '../translate/anthropic/stream.js';
import { MessagesResponseSchema } from '../translate/anthropic/schema.js';

const DEFAULT_MAX_TOKENS = 4096;

export function anthropicChatCodec(upstreamModel: string, requestId: string): UpstreamCodec {
  const id = `chatcmpl-${requestId}`;
  const created = Math.floor(Date.now() / 1000);
  return {
    path: '/messages',
    body: (chat) => JSON.stringify(chatToMessages(chat, upstreamModel, { defaultMaxTokens: DEFAULT_MAX_TOKENS })),
    response(raw): ChatResponse {
      const parsed = MessagesResponseSchema.safeParse(JSON.parse(raw.toString('utf8')));
      if (!parsed.success) throw new GatewayError('upstream_error', 'Anthropic returned a message the gateway could not read.');
      return messagesResponseToChat(parsed.data, { id, created, model: upstreamModel });
    },
    decoder() {
      const s = createAnthropicToChatStream({ id, created, model: upstreamModel });
      return {
        event(ev): ChatChunk[] {
          let parsed: unknown;
          try {
            parsed = JSON.parse(ev.data);
          } catch {
            return [];
          }
          // an `error` event throws a GatewayError with the mapped status (overloaded → 529, rate limit → 429)
          return s.push(parsed as Parameters<typeof s.push>[0]);
        },
        end: () => s.finish(),
      };
    },
  };
}
