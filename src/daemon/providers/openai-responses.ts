/**
 * @module Native Responses passthrough: a client speaking the Responses API to an OpenAI upstream
 * that has it (provider flag `supports_responses`). Bytes are relayed; only `response.completed`
 * (usage) and text deltas (for estimates) are looked at.
 */
import type { GatewayError } from '../errors.js';
import { parseFrame, sseEvent } from '../http/sse.js';
import type { Exchange, StreamRelay } from '../pipeline/exchange.js';
import type { TokenUsage } from '../translate/chat/types.js';

interface ResponsesUsageWire {
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { cached_tokens?: number };
  output_tokens_details?: { reasoning_tokens?: number };
}

export function usageFromResponses(u: ResponsesUsageWire | null | undefined): TokenUsage | null {
  if (!u) return null;
  return {
    promptTokens: u.input_tokens ?? 0,
    completionTokens: u.output_tokens ?? 0,
    cachedTokens: u.input_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

const COMPLETED = Buffer.from('"response.completed"');
const INCOMPLETE = Buffer.from('"response.incomplete"');
const DELTA = Buffer.from('_text.delta"');

export function responsesFailedFrame(err: GatewayError, id: string, seq = 0): string {
  return sseEvent('response.failed', {
    type: 'response.failed',
    sequence_number: seq,
    response: { id, object: 'response', status: 'failed', error: { code: err.code, message: err.message }, output: [] },
  });
}

class ResponsesPassthroughRelay implements StreamRelay {
  private usageSeen: TokenUsage | null = null;
  private readonly text: string[] = [];
  constructor(private readonly responseId: string) {}

  frame(frame: Buffer): Buffer {
    if (frame.indexOf(COMPLETED) !== -1 || frame.indexOf(INCOMPLETE) !== -1) {
      const ev = parseFrame(frame);
      try {
        const j = JSON.parse(ev?.data ?? '') as { response?: { usage?: ResponsesUsageWire } };
        this.usageSeen = usageFromResponses(j.response?.usage) ?? this.usageSeen;
      } catch {
        // not JSON: relayed untouched
      }
    } else if (frame.indexOf(DELTA) !== -1) {
      const ev = parseFrame(frame);
      try {
        const j = JSON.parse(ev?.data ?? '') as { delta?: unknown };
        if (typeof j.delta === 'string') this.text.push(j.delta);
      } catch {
        // ignore
      }
    }
    return frame;
  }
  end(): null {
    return null;
  }
  fail(err: GatewayError): string {
    return responsesFailedFrame(err, this.responseId);
  }
  usage(): TokenUsage | null {
    return this.usageSeen;
  }
  streamedText(): string {
    return this.text.join('');
  }
}

export function responsesPassthrough(body: Record<string, unknown>, upstreamModel: string, responseId: string): Exchange {
  return {
    path: '/responses',
    body: JSON.stringify({ ...body, model: upstreamModel }),
    json(raw) {
      let usage: TokenUsage | null = null;
      try {
        usage = usageFromResponses((JSON.parse(raw.toString('utf8')) as { usage?: ResponsesUsageWire }).usage);
      } catch {
        usage = null;
      }
      return { body: raw, usage };
    },
    stream: () => new ResponsesPassthroughRelay(responseId),
  };
}
