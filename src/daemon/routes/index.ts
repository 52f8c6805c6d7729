/** @module The inference routes served on the fast path, by exact path. */
import type { FastRoute } from '../http/listener.js';
import { chatRoute } from './chat.js';
import { responsesRoute } from './responses.js';
import { embeddingsRoute } from './embeddings.js';
import { countTokensRoute, messagesRoute } from './messages.js';

export const inferenceRoutes: Record<string, FastRoute> = {
  '/v1/chat/completions': chatRoute,
  '/chat/completions': chatRoute,
  '/v1/responses': responsesRoute,
  '/responses': responsesRoute,
  '/v1/embeddings': embeddingsRoute,
  '/embeddings': embeddingsRoute,
  '/v1/messages': messagesRoute,
  '/messages': messagesRoute,
  '/v1/messages/count_tokens': countTokensRoute,
  '/messages/count_tokens': countTokensRoute,
};
