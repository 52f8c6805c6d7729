/**
 * @module POST /v1/responses (inbound format: responses; what Codex speaks). Passed through to
 * upstreams that have the Responses API; translated to and from Chat Completions for every other
 * provider, so Codex works with any chat model.
 */
import { GatewayError } from '../errors.js';
import type { RouteRequest } from '../pipeline/exchange.js';
import type { InferenceRoute } from '../pipeline/handle.js';
import { translatedExchange, type ClientCodec } from '../pipeline/translated.js';
import { responsesPassthrough } from '../providers/openai-responses.js';
import type { ChatRequest } from '../translate/chat/types.js';
import { chatToResponses } from '../translate/responses/from-chat.js';
import { responsesRequestSchema, type ResponsesRequest } from '../translate/responses/schema.js';
import { createResponsesStreamEncoder } from '../translate/responses/stream.js';
import { responsesToChat, type ResponsesContext } from '../translate/responses/to-chat.js';
import { estimatePromptTokens, quickPromptTokens } from '../usage/estimate.js';
import { upstreamCodecFor } from '../providers/codecs.js';

export function responsesClientCodec(ctx: ResponsesContext, opts: { id: string; createdAt: number; model: string }): ClientCodec {
  return {
    response: (chat) => JSON.stringify(chatToResponses(chat, ctx, opts)),
    encoder() {
      const enc = createResponsesStreamEncoder(ctx, opts);
      return {
        chunk: (c) => enc.push(c),
        end: () => enc.finish(),
        fail: (err) => enc.fail({ code: err.code, message: err.message }),
      };
    },
  };
}

function parseResponsesRequest(body: Record<string, unknown>): ResponsesRequest {
  const parsed = responsesRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join('.') || null;
    throw new GatewayError('invalid_request', `Invalid Responses request${param ? ` at '${param}'` : ''}: ${issue.message}`, { param });
  }
  return parsed.data;
}

export const responsesRoute: InferenceRoute = {
  endpoint: 'responses',
  surface: 'openai',
  kind: 'chat',
  parse(body): RouteRequest {
    const req = parseResponsesRequest(body);
    let translated: { chat: ChatRequest; ctx: ResponsesContext } | null = null;
    const translate = () => (translated ??= responsesToChat(req, req.model));
    let prompt: number | null = null;
    let reserve: number | null = null;
    return {
      model: req.model,
      stream: req.stream === true,
      maxOutputTokens: req.max_output_tokens ?? null,
      promptTokens: () => (prompt ??= estimatePromptTokens(translate().chat)),
      reserveTokens: () => (reserve ??= quickPromptTokens(translate().chat)),
      exchange(d, _model, requestId) {
        const id = `resp_${requestId.slice(4)}`;
        if (d.provider.kind === 'openai' && d.provider.supportsResponses) return responsesPassthrough(body, d.upstreamModel, id);
        if (req.previous_response_id) {
          throw new GatewayError(
            'invalid_request',
            "previous_response_id is not supported for this model: lw stores no responses. Send the full history (Codex does with store:false).",
            { param: 'previous_response_id' },
          );
        }
        const { chat, ctx } = translate();
        const client = responsesClientCodec(ctx, { id, createdAt: Math.floor(Date.now() / 1000), model: req.model });
        return translatedExchange({ ...chat, model: d.upstreamModel }, upstreamCodecFor(d, requestId), client);
      },
    };
  },
};
