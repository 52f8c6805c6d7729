import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../src/daemon/translate/chat/types.js';
import { messagesRequestText } from '../../../src/daemon/translate/anthropic/request-text.js';
import {
  MessagesRequestSchema,
  MessagesResponseSchema,
} from '../../../src/daemon/translate/anthropic/schema.js';
import { messagesResponseToChat, messagesToChat } from '../../../src/daemon/translate/anthropic/to-chat.js';
import { fixtureText, messagesRequest, messagesResponse } from './anthropic-fixtures.js';

/** A minimal valid Messages request with the given messages and extra fields. */
function req(messages: unknown[], extra: Record<string, unknown> = {}) {
  return MessagesRequestSchema.parse({ model: 'claude-x', max_tokens: 256, messages, ...extra });
}

describe('messagesToChat (inbound /v1/messages → OpenAI-compatible upstream)', () => {
  it('translates a Claude Code turn: system blocks, tools, parallel tool_use, results, images', () => {
    const out = messagesToChat(messagesRequest('claude-code-tools'), 'gpt-4.1');
    const expected: ChatRequest = {
      model: 'gpt-4.1',
      max_tokens: 32000,
      temperature: 1,
      stream: true,
      stream_options: { include_usage: true },
      user: 'user_2f1c9a_account__session_7d0e4b8a-1111-4c2d-9e3f-0a1b2c3d4e5f',
      tools: [
        {
          type: 'function',
          function: {
            name: 'Bash',
            description: 'Executes a given bash command in a persistent shell session.',
            parameters: {
              type: 'object',
              properties: { command: { type: 'string', description: 'The command to execute' } },
              required: ['command'],
              additionalProperties: false,
              $schema: 'http://json-schema.org/draft-07/schema#',
            },
          },
        },
        {
          type: 'function',
          function: {
            name: 'Read',
            description: 'Reads a file from the local filesystem.',
            parameters: {
              type: 'object',
              properties: { file_path: { type: 'string' } },
              required: ['file_path'],
              additionalProperties: false,
              $schema: 'http://json-schema.org/draft-07/schema#',
            },
          },
        },
      ],
      tool_choice: 'auto',
      messages: [
        {
          role: 'system',
          content:
            "You are Claude Code, Anthropic's official CLI for Claude.\n\n" +
            'You are an interactive CLI tool that helps users with software engineering tasks.',
        },
        {
          role: 'user',
          content:
            '<system-reminder>\nThis is a reminder that your todo list is currently empty.\n' +
            '</system-reminder>\n\n' +
            'Why does the build fail? Check package.json and run the tests.',
        },
        {
          role: 'assistant',
          content: "I'll look at the package file and run the tests.",
          tool_calls: [
            {
              id: 'toolu_01A09q90qw90lq917835lq9',
              type: 'function',
              function: { name: 'Read', arguments: '{"file_path":"/repo/package.json"}' },
            },
            {
              id: 'toolu_01B7s8d9f0g1h2j3k4l5m6n',
              type: 'function',
              function: { name: 'Bash', arguments: '{"command":"npm test"}' },
            },
          ],
        },
        {
          role: 'tool',
          tool_call_id: 'toolu_01A09q90qw90lq917835lq9',
          content: '{\n  "name": "demo",\n  "scripts": { "test": "vitest run" }\n}',
        },
        {
          role: 'tool',
          tool_call_id: 'toolu_01B7s8d9f0g1h2j3k4l5m6n',
          content: 'Error: sh: vitest: command not found',
        },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'text', text: 'Also, what does this screenshot show?' },
            { type: 'image_url', image_url: { url: 'https://example.com/screenshot.png' } },
          ],
        },
        { role: 'assistant', content: 'vitest is not installed. The screenshot shows a terminal.' },
        { role: 'user', content: 'notes.txt\n\nTODO: add vitest\n\nFix it.' },
      ],
    };
    expect(out).toEqual(expected);
  });

  it('translates a plain multi-turn request; top_k dropped, stop sequences capped at 4', () => {
    expect(messagesToChat(messagesRequest('plain'), 'gpt-4o-mini')).toEqual({
      model: 'gpt-4o-mini',
      max_tokens: 1024,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['\n\nHuman:', 'END', 'STOP', '###'],
      messages: [
        { role: 'system', content: 'You are a terse assistant.' },
        { role: 'user', content: 'Name three primary colours.' },
        { role: 'assistant', content: 'Red, yellow, blue.' },
        { role: 'user', content: 'And secondary?' },
      ],
    });
  });

  const weather = { name: 'get_weather', input_schema: { type: 'object', properties: {} } };
  const webSearch = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };
  const hi = [{ role: 'user', content: 'hi' }];

  it.each([
    [{ type: 'auto' }, { tool_choice: 'auto' }],
    [{ type: 'any' }, { tool_choice: 'required' }],
    [{ type: 'none' }, { tool_choice: 'none' }],
    [
      { type: 'tool', name: 'get_weather' },
      { tool_choice: { type: 'function', function: { name: 'get_weather' } } },
    ],
    [
      { type: 'any', disable_parallel_tool_use: true },
      { tool_choice: 'required', parallel_tool_calls: false },
    ],
    // forcing a server tool we dropped would make the upstream reject the request
    [{ type: 'tool', name: 'web_search' }, {}],
  ])('tool_choice %j → %j', (choice, fields) => {
    const out = messagesToChat(req(hi, { tools: [weather, webSearch], tool_choice: choice }), 'm');
    expect(out.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', parameters: weather.input_schema } },
    ]);
    expect({ tool_choice: out.tool_choice, parallel_tool_calls: out.parallel_tool_calls }).toEqual({
      tool_choice: undefined,
      parallel_tool_calls: undefined,
      ...fields,
    });
  });

  it('sends neither tools nor tool_choice when only server tools were declared', () => {
    const out = messagesToChat(req(hi, { tools: [webSearch], tool_choice: { type: 'any' } }), 'm');
    expect(out).toEqual({ model: 'm', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('caps max_tokens at the upstream limit when one is given', () => {
    const cap = { maxTokensCap: 16384 };
    expect(messagesToChat(req(hi, { max_tokens: 32000 }), 'gpt-4o', cap).max_tokens).toBe(16384);
    expect(messagesToChat(req(hi, { max_tokens: 1000 }), 'gpt-4o', cap).max_tokens).toBe(1000);
  });

  it('handles edge blocks: empty error result, PDF, thinking-only assistant, file image, system role', () => {
    const out = messagesToChat(
      req([
        { role: 'user', content: [{ type: 'text', text: 'run it' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'run', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', is_error: true },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
            { type: 'image', source: { type: 'file', file_id: 'file_011' } },
            { type: 'search_result', source: 'https://x', title: 't', content: [] },
          ],
        },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }] },
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'ok' },
      ]),
      'm',
    );
    expect(out.messages).toEqual([
      { role: 'user', content: 'run it' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'run', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Error' },
      {
        role: 'user',
        content: [
          {
            type: 'file',
            file: { filename: 'document.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
          },
        ],
      },
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'ok' },
    ]);
  });

  it('rejects a known block with the wrong shape instead of passing it through as unknown', () => {
    const messages = [{ role: 'user', content: [{ type: 'text', text: 'ok' }] }];
    expect(MessagesRequestSchema.safeParse({ model: 'm', max_tokens: 5, messages }).success).toBe(true);
    const bad = [{ role: 'user', content: [{ type: 'text', text: 5 }] }];
    expect(MessagesRequestSchema.safeParse({ model: 'm', max_tokens: 5, messages: bad }).success).toBe(false);
    expect(MessagesRequestSchema.safeParse({ model: 'm', messages }).success).toBe(false);
  });
});

describe('messagesResponseToChat (anthropic upstream → Chat client)', () => {
  it('maps thinking, text and parallel tool_use, drops redacted and server-tool blocks, counts cache', () => {
    const resp = messagesResponse('thinking-tools');
    const out = messagesResponseToChat(resp, { created: 1700000000, model: 'claude-sonnet' });
    expect(out).toEqual({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      created: 1700000000,
      model: 'claude-sonnet',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: 'Let me check both cities.',
            reasoning_content:
              'The user wants the weather in two cities. I can call the tool for both at once.',
            tool_calls: [
              {
                id: 'toolu_01A09q90qw90lq917835lq9',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
              },
              {
                id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Tokyo, Japan","unit":"celsius"}' },
              },
            ],
          },
        },
      ],
      usage: {
        prompt_tokens: 21992,
        completion_tokens: 310,
        total_tokens: 22302,
        prompt_tokens_details: { cached_tokens: 20480, cache_write_tokens: 1500 },
      },
    });
  });

  it('maps a plain text answer with the given id', () => {
    const opts = { id: 'chatcmpl-1', created: 1, model: 'haiku' };
    const out = messagesResponseToChat(messagesResponse('text'), opts);
    expect(out).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'haiku',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          message: { role: 'assistant', content: 'Orange, green and purple.' },
        },
      ],
      usage: {
        prompt_tokens: 31,
        completion_tokens: 9,
        total_tokens: 40,
        prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      },
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    ['model_context_window_exceeded', 'length'],
  ])('stop_reason %s → finish_reason %s', (stopReason, finish) => {
    const resp = MessagesResponseSchema.parse({
      ...(JSON.parse(fixtureText('text.messages-response.json')) as object),
      stop_reason: stopReason,
      content: [],
    });
    const out = messagesResponseToChat(resp, { created: 1, model: 'm' });
    expect(out.choices[0]?.finish_reason).toBe(finish);
    expect(out.choices[0]?.message.content).toBe('');
  });
});

describe('messagesRequestText (count_tokens input)', () => {
  it('collects system, message, tool and tool-definition text and leaves images out', () => {
    const r = messagesRequest('claude-code-tools');
    const schema = (i: number) => JSON.stringify((r.tools?.[i] as { input_schema: unknown }).input_schema);
    expect(messagesRequestText(r)).toBe(
      [
        "You are Claude Code, Anthropic's official CLI for Claude.",
        'You are an interactive CLI tool that helps users with software engineering tasks.',
        '<system-reminder>\nThis is a reminder that your todo list is currently empty.\n</system-reminder>',
        'Why does the build fail? Check package.json and run the tests.',
        'I should read package.json and run the tests in parallel.',
        "I'll look at the package file and run the tests.",
        'Read',
        '{"file_path":"/repo/package.json"}',
        'Bash',
        '{"command":"npm test"}',
        '{\n  "name": "demo",\n  "scripts": { "test": "vitest run" }\n}',
        'sh: vitest: command not found',
        'Also, what does this screenshot show?',
        'vitest is not installed. ',
        'The screenshot shows a terminal.',
        'notes.txt',
        'TODO: add vitest',
        'Fix it.',
        'Bash',
        'Executes a given bash command in a persistent shell session.',
        schema(0),
        'Read',
        'Reads a file from the local filesystem.',
        schema(1),
        'web_search',
      ].join('\n'),
    );
  });
});
