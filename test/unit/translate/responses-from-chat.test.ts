import { describe, expect, it } from 'vitest';
import type { ChatFinishReason, ChatResponse } from '../../../src/daemon/translate/chat/types.js';
import {
  chatToResponses,
  customInput,
  usageToResponses,
} from '../../../src/daemon/translate/responses/from-chat.js';
import { responseSchema, responsesRequestSchema } from '../../../src/daemon/translate/responses/schema.js';
import { responsesToChat } from '../../../src/daemon/translate/responses/to-chat.js';
import { OPTS, UPSTREAM_MODEL, codexContext, fixtureJson, requestFixture } from './responses-fixtures.js';

const ctx = codexContext();

function translateFixture(scenario: string) {
  const out = chatToResponses(fixtureJson<ChatResponse>(`${scenario}.chat-response.json`), ctx, OPTS);
  // Everything lw returns must satisfy the strict output schema (not just equal a file written by lw).
  responseSchema.parse(out);
  return out;
}

function chatResponse(message: Record<string, unknown>, finish: ChatFinishReason = 'stop'): ChatResponse {
  return {
    id: 'chatcmpl-x',
    object: 'chat.completion',
    created: 1,
    model: UPSTREAM_MODEL,
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
  };
}

describe('chatToResponses: fixtures', () => {
  it('translates text with reasoning_content and usage', () => {
    const out = translateFixture('text');
    expect(out).toEqual(fixtureJson('text.response.json'));
    expect(out.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    expect(out.usage).toEqual({
      input_tokens: 2310,
      input_tokens_details: { cached_tokens: 2048 },
      output_tokens: 12,
      output_tokens_details: { reasoning_tokens: 9 },
      total_tokens: 2322,
    });
  });

  it('maps tool calls back to function_call, namespaced function_call and custom_tool_call', () => {
    const out = translateFixture('tool-calls');
    expect(out).toEqual(fixtureJson('tool-calls.response.json'));
    expect(out.output[1]).toMatchObject({
      type: 'custom_tool_call',
      call_id: 'call_Yq1',
      name: 'apply_patch',
      input: '*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n',
    });
    const namespaced = { type: 'function_call', name: 'close_agent', namespace: 'multi_agent_v1' };
    expect(out.output[2]).toMatchObject(namespaced);
    expect(out.output[3]).not.toHaveProperty('namespace');
  });

  it('reports finish_reason length as incomplete / max_output_tokens', () => {
    const out = translateFixture('length');
    expect(out).toEqual(fixtureJson('length.response.json'));
    expect(out.status).toBe('incomplete');
    expect(out.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(out.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
  });
});

describe('chatToResponses: edge cases', () => {
  it('round-trips: output items sent back as history produce the same chat tool calls', () => {
    const upstream = fixtureJson<ChatResponse>('tool-calls.chat-response.json');
    const out = chatToResponses(upstream, ctx, OPTS);
    const first = requestFixture('codex-first-turn');
    const input = [...(first.input as unknown[]), ...out.output];
    const next = responsesRequestSchema.parse({ ...first, input });
    const assistant = responsesToChat(next, UPSTREAM_MODEL).chat.messages.at(-1);
    const sent = upstream.choices[0]?.message;
    expect(assistant).toEqual({ role: 'assistant', content: sent?.content, tool_calls: sent?.tool_calls });
  });

  it('emits an empty message when the upstream returned nothing, and null usage when absent', () => {
    const out = chatToResponses({ ...chatResponse({ content: null }), choices: [] }, ctx, OPTS);
    expect(out.status).toBe('completed');
    expect(out.usage).toBeNull();
    expect(out.output).toEqual([
      {
        type: 'message',
        id: 'msg_0d9c41f2_0',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: '', annotations: [] }],
      },
    ]);
  });

  it('omits the message item for a tool-call-only answer and invents a call_id when missing', () => {
    const call = { id: '', type: 'function', function: { name: 'exec_command', arguments: '{}' } };
    const out = chatToResponses(chatResponse({ content: '', tool_calls: [call] }, 'tool_calls'), ctx, OPTS);
    expect(out.output).toEqual([
      {
        type: 'function_call',
        id: 'fc_0d9c41f2_0',
        call_id: 'call_0d9c41f2_0',
        name: 'exec_command',
        arguments: '{}',
        status: 'completed',
      },
    ]);
  });

  it('reads reasoning from `reasoning` when an upstream uses that name, and content parts', () => {
    const content = [
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
    ];
    const out = chatToResponses(chatResponse({ reasoning: 'thinking', content }), ctx, OPTS);
    expect(out.output).toMatchObject([
      { type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking' }] },
      { type: 'message', content: [{ type: 'output_text', text: 'ab' }] },
    ]);
  });

  it('maps content_filter to incomplete', () => {
    const out = chatToResponses(chatResponse({ content: '' }, 'content_filter'), ctx, OPTS);
    expect(out).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
  });
});

describe('customInput', () => {
  it.each([
    ['{"input":"*** Begin Patch\\n"}', '*** Begin Patch\n'],
    ['"raw as a JSON string"', 'raw as a JSON string'],
    ['{"patch":"only one string field"}', 'only one string field'],
    [
      '*** Begin Patch\n*** Add File: a\n+x\n*** End Patch',
      '*** Begin Patch\n*** Add File: a\n+x\n*** End Patch',
    ],
    ['{"input": "unterminated', '{"input": "unterminated'],
    ['{"a":"1","b":"2"}', '{"a":"1","b":"2"}'],
    ['[1,2]', '[1,2]'],
  ])('extracts the raw input from %j', (args, expected) => {
    expect(customInput(args)).toBe(expected);
  });
});

describe('usageToResponses', () => {
  it('maps normalised usage to the Responses shape with a computed total', () => {
    const counts = { cachedTokens: 4, cacheWriteTokens: 2, reasoningTokens: 3 };
    const usage = { promptTokens: 10, completionTokens: 5, ...counts };
    expect(usageToResponses(usage)).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 3 },
      total_tokens: 15,
    });
  });
});
