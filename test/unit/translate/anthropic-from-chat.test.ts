import { describe, expect, it } from 'vitest';
import type { ChatRequest, ChatResponse } from '../../../src/daemon/translate/chat/types.js';
import {
  chatResponseToMessages,
  chatToMessages,
  parseDataUrl,
  parseToolArguments,
  toolUseId,
} from '../../../src/daemon/translate/anthropic/from-chat.js';
import {
  MessagesRequestSchema,
  MessagesResponseSchema,
} from '../../../src/daemon/translate/anthropic/schema.js';
import { chatRequest, chatResponse } from './anthropic-fixtures.js';

const opts = { defaultMaxTokens: 4096 };
const chat = (fields: Partial<ChatRequest>): ChatRequest => ({
  model: 'claude',
  messages: [{ role: 'user', content: 'hi' }],
  ...fields,
});

describe('chatToMessages (Chat client → anthropic upstream)', () => {
  it('translates a tool conversation: system + developer, merged turns, images, tool results', () => {
    const out = chatToMessages(chatRequest('tools'), 'claude-sonnet-4-5-20250929', opts);
    expect(out).toEqual({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 4096,
      system: 'You are a weather bot.\n\nAnswer in one sentence.',
      temperature: 1,
      stop_sequences: ['<END>'],
      stream: true,
      metadata: { user_id: 'user-42' },
      tools: [
        {
          name: 'get_weather',
          description: 'Get the current weather in a given location',
          input_schema: {
            type: 'object',
            properties: {
              location: { type: 'string' },
              unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
            },
            required: ['location'],
          },
        },
        { name: 'get_time', input_schema: { type: 'object', properties: {} } },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: "What's the weather in Paris and Tokyo?" },
            { type: 'text', text: 'Here is a photo from Paris and one from Tokyo.' },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/tokyo.png' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            {
              type: 'tool_use',
              id: 'call_abc123',
              name: 'get_weather',
              input: { location: 'Paris, France' },
            },
            {
              type: 'tool_use',
              id: 'functions_get_weather_1',
              name: 'get_weather',
              input: { _raw_arguments: '{"location":"Tokyo' },
            },
            { type: 'tool_use', id: 'call_time', name: 'get_time', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_abc123', content: '18°C, cloudy' },
            {
              type: 'tool_result',
              tool_use_id: 'functions_get_weather_1',
              content: [
                { type: 'text', text: '24°C' },
                { type: 'text', text: 'sunny' },
              ],
            },
            { type: 'tool_result', tool_use_id: 'call_time' },
            { type: 'text', text: 'Thanks. Which is warmer?' },
          ],
        },
      ],
    });
    expect(MessagesRequestSchema.safeParse(out).success).toBe(true);
  });

  it('translates a plain request with defaults and collapses single text turns to strings', () => {
    const out = chatToMessages(
      chat({
        messages: [
          { role: 'user', content: 'Name three primary colours.' },
          { role: 'assistant', content: 'Red, yellow, ' },
          { role: 'assistant', content: [{ type: 'text', text: 'blue.' }] },
          { role: 'user', content: 'And secondary?' },
        ],
        max_tokens: 300,
        max_completion_tokens: 500,
        top_p: 0.8,
        top_k: 20,
        stop: ['A', 'B'],
      }),
      'claude-haiku-4-5',
      opts,
    );
    expect(out).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 500,
      top_p: 0.8,
      top_k: 20,
      stop_sequences: ['A', 'B'],
      messages: [
        { role: 'user', content: 'Name three primary colours.' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Red, yellow, ' },
            { type: 'text', text: 'blue.' },
          ],
        },
        { role: 'user', content: 'And secondary?' },
      ],
    });
  });

  it('keeps cache_control on system and text parts (prompt caching through a Chat client)', () => {
    const cache = { type: 'ephemeral' };
    const out = chatToMessages(
      chat({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Long instructions', cache_control: cache }] },
          { role: 'user', content: [{ type: 'text', text: 'Long document', cache_control: cache }] },
        ],
      }),
      'claude',
      opts,
    );
    expect(out.system).toEqual([{ type: 'text', text: 'Long instructions', cache_control: cache }]);
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Long document', cache_control: cache }] },
    ]);
  });

  it.each([
    [{ tool_choice: 'auto' }, { type: 'auto' }],
    [{ tool_choice: 'none' }, { type: 'none' }],
    [{ tool_choice: { type: 'function', function: { name: 'f' } } }, { type: 'tool', name: 'f' }],
    [{ parallel_tool_calls: false }, { type: 'auto', disable_parallel_tool_use: true }],
    [{ tool_choice: 'none', parallel_tool_calls: false }, { type: 'none' }],
    [{}, undefined],
  ] as Array<[Partial<ChatRequest>, unknown]>)('tool_choice fields %j → %j', (fields, expected) => {
    const tools: ChatRequest['tools'] = [
      { type: 'function', function: { name: 'f', parameters: { type: 'object' } } },
    ];
    expect(chatToMessages(chat({ tools, ...fields }), 'c', opts).tool_choice).toEqual(expected);
  });

  it('drops tool_choice when no tools are sent', () => {
    expect(chatToMessages(chat({ tool_choice: 'required' }), 'c', opts).tool_choice).toBeUndefined();
  });

  it.each([
    // effort, max_tokens, expected budget (undefined = thinking off)
    ['high', 8000, 6976],
    ['medium', undefined, 3072],
    ['low', 20000, 1024],
    ['low', 1500, undefined],
    ['minimal', 20000, undefined],
    ['none', 20000, undefined],
    ['constructor', 20000, undefined],
  ] as const)('reasoning_effort %s with max_tokens %s → thinking budget %s', (effort, maxTokens, budget) => {
    const out = chatToMessages(
      chat({
        reasoning_effort: effort,
        temperature: 0.3,
        top_p: 0.5,
        ...(maxTokens ? { max_tokens: maxTokens } : {}),
      }),
      'c',
      opts,
    );
    if (budget === undefined) {
      expect(out.thinking).toBeUndefined();
      expect([out.temperature, out.top_p]).toEqual([0.3, 0.5]);
    } else {
      // thinking allows no temperature and only top_p >= 0.95
      expect(out.thinking).toEqual({ type: 'enabled', budget_tokens: budget });
      expect([out.temperature, out.top_p]).toEqual([undefined, undefined]);
    }
  });

  it('keeps thinking off in a pending tool loop and under forced tool use', () => {
    const loop = chat({
      reasoning_effort: 'high',
      max_tokens: 20000,
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
    });
    expect(chatToMessages(loop, 'c', opts).thinking).toBeUndefined();
    const forced = chat({ reasoning_effort: 'high', max_tokens: 20000, tool_choice: 'required' });
    expect(chatToMessages(forced, 'c', opts).thinking).toBeUndefined();
  });

  it('turns data URLs into base64 sources and PDFs into documents', () => {
    const out = chatToMessages(
      chat({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/svg+xml,%3Csvg%2F%3E' } },
              { type: 'image_url', image_url: { url: 'data:application/pdf;base64,JVBERi0=' } },
              {
                type: 'file',
                file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0x' },
              },
              { type: 'image_url', image_url: { url: 'ftp://nope/x.png' } },
              { type: 'input_audio', input_audio: { data: 'AAA=', format: 'wav' } },
            ],
          },
        ],
      }),
      'c',
      opts,
    );
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/svg+xml', data: 'PHN2Zy8+' } },
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' } },
        ],
      },
    ]);
  });

  it('parses tool arguments safely and rewrites ids Anthropic would reject', () => {
    expect(parseToolArguments('{"a":1}')).toEqual({ a: 1 });
    expect(parseToolArguments('  ')).toEqual({});
    expect(parseToolArguments('[1,2]')).toEqual({ _raw_arguments: '[1,2]' });
    expect(parseToolArguments('{"a":')).toEqual({ _raw_arguments: '{"a":' });
    expect(toolUseId('functions.get_weather:0')).toBe('functions_get_weather_0');
    expect(toolUseId('toolu_01A-b')).toBe('toolu_01A-b');
    expect(toolUseId('')).toBe('toolu_missing');
    expect(parseDataUrl('https://x')).toBeNull();
  });
});

describe('chatResponseToMessages (OpenAI-compatible upstream → /v1/messages client)', () => {
  it('builds thinking, text and tool_use blocks with cache-aware usage', () => {
    const out = chatResponseToMessages(chatResponse('tool-calls'), { id: 'msg_gw_01', model: 'claude-x' });
    expect(out).toEqual({
      id: 'msg_gw_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [
        { type: 'thinking', thinking: 'Two cities; call the weather tool twice.', signature: '' },
        { type: 'text', text: "I'll check both cities." },
        { type: 'tool_use', id: 'call_0_6d1e', name: 'get_weather', input: { location: 'Paris, France' } },
        { type: 'tool_use', id: 'call_1_98ab', name: 'get_weather', input: { location: 'Tokyo, Japan' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 128,
        output_tokens: 57,
        cache_read_input_tokens: 1920,
        cache_creation_input_tokens: 0,
      },
    });
    expect(MessagesResponseSchema.safeParse(out).success).toBe(true);
  });

  const response = (message: Record<string, unknown>, finish: string | null, usage?: object): ChatResponse =>
    ({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'up',
      choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
      ...(usage ? { usage } : {}),
    }) as ChatResponse;

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
    ['tool_calls', 'tool_use'],
    [null, 'end_turn'],
  ])('finish_reason %s → stop_reason %s', (finish, stop) => {
    const resp = response({ content: 'x' }, finish, { prompt_tokens: 5, completion_tokens: 1 });
    const out = chatResponseToMessages(resp, { id: 'msg_1', model: 'm' });
    expect(out.stop_reason).toBe(stop);
  });

  it('reports tool_use under "stop", fills missing ids, reads `reasoning`, estimates absent usage', () => {
    const out = chatResponseToMessages(
      response(
        {
          content: '',
          reasoning: 'thinking via OpenRouter field',
          tool_calls: [{ id: '', type: 'function', function: { name: 'ls', arguments: '{"path":"."}' } }],
        },
        'stop',
      ),
      { id: 'msg_9', model: 'm', estimatedInputTokens: 77 },
    );
    expect(out.content).toEqual([
      { type: 'thinking', thinking: 'thinking via OpenRouter field', signature: '' },
      { type: 'tool_use', id: 'toolu_msg_9_0', name: 'ls', input: { path: '.' } },
    ]);
    expect(out.stop_reason).toBe('tool_use');
    expect(out.usage).toEqual({
      input_tokens: 77,
      output_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
  });
});
