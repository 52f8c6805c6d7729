import { describe, expect, it } from 'vitest';
import {
  finishToStopReason,
  stopReasonFor,
  stopReasonToFinish,
} from '../../../src/daemon/translate/anthropic/stop-reason.js';

describe('stopReasonToFinish (Anthropic → Chat)', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['some_future_reason', 'stop'],
    [null, null],
  ] as const)('%s → %s', (reason, finish) => {
    expect(stopReasonToFinish(reason)).toBe(finish);
  });
});

describe('finishToStopReason (Chat → Anthropic)', () => {
  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    ['abort', 'end_turn'],
    [null, 'end_turn'],
  ] as const)('%s → %s', (finish, reason) => {
    expect(finishToStopReason(finish)).toBe(reason);
  });

  it('reports tool_use when tool calls were emitted under a plain stop (Ollama, some vLLM parsers)', () => {
    expect(stopReasonFor('stop', true)).toBe('tool_use');
    expect(stopReasonFor(null, true)).toBe('tool_use');
    expect(stopReasonFor('length', true)).toBe('max_tokens');
    expect(stopReasonFor('stop', false)).toBe('end_turn');
  });
});
