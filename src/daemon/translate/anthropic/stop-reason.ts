/**
 * @module Anthropic `stop_reason` ⇄ Chat Completions `finish_reason`, as exhaustive switches.
 * @see https://docs.anthropic.com/en/api/handling-stop-reasons
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
 */
import type { ChatFinishReason } from '../chat/types.js';

/** Every `stop_reason` the Messages API documents. Unknown future values still parse (as strings). */
export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

/**
 * Anthropic → Chat. `pause_turn` (a server tool paused a long turn) has no Chat equivalent and ends
 * as `stop`; an unknown value also maps to `stop`. `null` (still generating) stays `null`.
 * @see https://docs.anthropic.com/en/api/handling-stop-reasons
 */
export function stopReasonToFinish(
  reason: StopReason | (string & {}) | null | undefined,
): ChatFinishReason | null {
  switch (reason) {
    case null:
    case undefined:
      return null;
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * Chat → Anthropic. A `null` finish (an upstream that ended without saying why) counts as `end_turn`,
 * and so does an unknown value (vLLM `abort`, Ollama quirks). The caller upgrades `end_turn` to
 * `tool_use` when tool calls were emitted, because some upstreams report `stop` with tool calls.
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
 */
export function finishToStopReason(
  finish: ChatFinishReason | (string & {}) | null | undefined,
): StopReason {
  switch (finish) {
    case 'stop':
    case null:
    case undefined:
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** The stop reason to report, given what the Chat side said and whether tool calls were emitted. */
export function stopReasonFor(
  finish: ChatFinishReason | (string & {}) | null | undefined,
  hadToolCalls: boolean,
): StopReason {
  const reason = finishToStopReason(finish);
  return hadToolCalls && reason === 'end_turn' ? 'tool_use' : reason;
}
