import { describe, expect, it } from 'vitest';
import { responsesRequestSchema } from '../../../src/daemon/translate/responses/schema.js';
import { chatToolName, responsesToChat } from '../../../src/daemon/translate/responses/to-chat.js';
import { UPSTREAM_MODEL, fixtureJson, requestFixture } from './responses-fixtures.js';

/** Translates an inline request after validating it, exactly as the route will. */
function translate(body: Record<string, unknown>) {
  return responsesToChat(responsesRequestSchema.parse({ model: 'coder', ...body }), UPSTREAM_MODEL);
}

const RESPONSES_ONLY = [
  'input',
  'instructions',
  'store',
  'include',
  'prompt_cache_key',
  'client_metadata',
  'reasoning',
  'text',
  'metadata',
  'previous_response_id',
  'max_output_tokens',
];

describe('responsesToChat: codex fixtures (exact upstream body)', () => {
  it('translates a real codex first turn', () => {
    const { chat, ctx } = responsesToChat(requestFixture('codex-first-turn'), UPSTREAM_MODEL);
    expect(chat).toEqual(fixtureJson('codex-first-turn.chat-request.json'));
    // The mapping back to the tools codex declared.
    const namespace = 'multi_agent_v1';
    expect([...ctx.tools]).toEqual([
      ['apply_patch', { kind: 'custom', name: 'apply_patch' }],
      ['multi_agent_v1__close_agent', { kind: 'function', name: 'close_agent', namespace }],
      ['multi_agent_v1__resume_agent', { kind: 'function', name: 'resume_agent', namespace }],
    ]);
    expect(ctx.echo).toMatchObject({ reasoning: { effort: null, summary: 'auto' }, store: false });
  });

  it('translates a follow-up turn with tool calls, outputs, reasoning and unknown items', () => {
    const { chat } = responsesToChat(requestFixture('codex-follow-up'), UPSTREAM_MODEL);
    expect(chat).toEqual(fixtureJson('codex-follow-up.chat-request.json'));
    const roles = chat.messages.map((m) => m.role);
    expect(roles).toEqual(['system', 'user', 'user', 'assistant', 'tool', 'tool', 'tool', 'user']);
  });

  it('never forwards Responses-only fields, and drops hosted tools', () => {
    const { chat } = responsesToChat(requestFixture('codex-first-turn'), UPSTREAM_MODEL);
    for (const key of RESPONSES_ONLY) expect(chat).not.toHaveProperty(key);
    const names = chat.tools?.map((t) => t.function.name);
    expect(names).not.toContain('tool_search');
    expect(names).not.toContain('web_search');
    expect(chat.tools).toHaveLength(7);
  });
});

describe('responsesToChat: field mapping', () => {
  it('turns instructions into a system message and a string input into a user message', () => {
    const { chat } = translate({ instructions: 'Be brief.', input: 'hello' });
    expect(chat).toEqual({
      model: UPSTREAM_MODEL,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello' },
      ],
    });
  });

  it('maps sampling, limits, reasoning effort, user and streaming', () => {
    const { chat } = translate({
      input: 'x',
      stream: true,
      max_output_tokens: 256,
      temperature: 0.2,
      top_p: 0.9,
      reasoning: { effort: 'high', summary: 'auto' },
      user: 'u-1',
      metadata: { a: 'b' },
      previous_response_id: 'resp_old',
    });
    expect(chat).toEqual({
      model: UPSTREAM_MODEL,
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 256,
      temperature: 0.2,
      top_p: 0.9,
      reasoning_effort: 'high',
      user: 'u-1',
    });
  });

  it('maps text.format to response_format', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const format = { type: 'json_schema', name: 'answer', schema, strict: true };
    expect(translate({ input: 'x', text: { format } }).chat.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'answer', schema, strict: true },
    });
    const jsonObject = translate({ input: 'x', text: { format: { type: 'json_object' } } }).chat;
    expect(jsonObject.response_format).toEqual({ type: 'json_object' });
    const plain = translate({ input: 'x', text: { format: { type: 'text' }, verbosity: 'low' } }).chat;
    expect(plain).not.toHaveProperty('response_format');
  });

  it('keeps images in user messages as parts and flattens other messages to text', () => {
    const { chat } = translate({
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
            { type: 'input_file', file_id: 'file_1' },
          ],
        },
        {
          type: 'message',
          role: 'assistant',
          content: [
            { type: 'output_text', text: 'A' },
            { type: 'refusal', refusal: 'B' },
          ],
        },
        {
          role: 'system',
          content: [
            { type: 'input_image', image_url: 'https://x/y.png' },
            { type: 'input_text', text: 'S' },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
        ],
      },
      { role: 'assistant', content: 'A\nB' },
      { role: 'system', content: 'S' },
    ]);
  });

  it('joins adjacent system messages only', () => {
    const { chat } = translate({
      instructions: 'I',
      input: [
        { role: 'developer', content: 'D1' },
        { role: 'user', content: 'U' },
        { role: 'developer', content: 'D2' },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'I\n\nD1' },
      { role: 'user', content: 'U' },
      { role: 'system', content: 'D2' },
    ]);
  });

  it('keeps sequential tool rounds apart and tolerates outputs given as parts', () => {
    const { chat } = translate({
      input: [
        { role: 'user', content: 'go' },
        { type: 'function_call', call_id: 'c1', name: 'a', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'one' }] },
        { type: 'function_call', call_id: 'c2', name: 'b', arguments: '{"x":1}' },
        { type: 'function_call_output', call_id: 'c2', output: 'two' },
      ],
    });
    const call = (id: string, name: string, args: string) => ({
      id,
      type: 'function',
      function: { name, arguments: args },
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: [call('c1', 'a', '{}')] },
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'assistant', content: null, tool_calls: [call('c2', 'b', '{"x":1}')] },
      { role: 'tool', tool_call_id: 'c2', content: 'two' },
    ]);
  });
});

describe('responsesToChat: tools and tool_choice', () => {
  const fn = (name: string, extra: Record<string, unknown> = {}) => ({
    type: 'function',
    name,
    parameters: { type: 'object', properties: {} },
    ...extra,
  });

  const TEXT = { type: 'text' };

  it('keeps strict only when boolean and flattens namespaces (MCP-style and plain)', () => {
    const { chat, ctx } = translate({
      input: 'x',
      tools: [
        fn('a', { strict: true }),
        fn('b', { strict: 'yes', description: 'B' }),
        { type: 'namespace', name: 'mcp__docs__', description: 'Docs', tools: [fn('search')] },
        { type: 'namespace', name: 'kit', tools: [{ type: 'custom', name: 'edit', format: TEXT }] },
      ],
    });
    expect(chat.tools?.map((t) => t.function)).toEqual([
      { name: 'a', parameters: { type: 'object', properties: {} }, strict: true },
      { name: 'b', description: 'B', parameters: { type: 'object', properties: {} } },
      { name: 'mcp__docs__search', parameters: { type: 'object', properties: {} } },
      {
        name: 'kit__edit',
        description: '',
        parameters: {
          type: 'object',
          properties: { input: { type: 'string', description: 'The raw tool input, verbatim.' } },
          required: ['input'],
          additionalProperties: false,
        },
      },
    ]);
    const search = { kind: 'function', name: 'search', namespace: 'mcp__docs__' };
    expect(ctx.tools.get('mcp__docs__search')).toEqual(search);
    expect(ctx.tools.get('kit__edit')).toEqual({ kind: 'custom', name: 'edit', namespace: 'kit' });
    expect(ctx.tools.has('a')).toBe(false);
  });

  it('names namespaced history calls the way the tools were flattened', () => {
    expect(chatToolName('spawn_agent', 'multi_agent_v1')).toBe('multi_agent_v1__spawn_agent');
    expect(chatToolName('search', 'mcp__docs__')).toBe('mcp__docs__search');
    expect(chatToolName('exec_command', null)).toBe('exec_command');
  });

  it.each([
    ['auto', 'auto'],
    ['none', 'none'],
    ['required', 'required'],
    [{ type: 'function', name: 'a' }, { type: 'function', function: { name: 'a' } }],
    [{ type: 'custom', name: 'edit' }, { type: 'function', function: { name: 'edit' } }],
    [{ type: 'function', name: 'dropped' }, 'auto'],
    [{ type: 'allowed_tools', mode: 'required', tools: [] }, 'required'],
    [{ type: 'web_search' }, 'auto'],
  ])('maps tool_choice %j', (choice, expected) => {
    const tools = [fn('a'), { type: 'custom', name: 'edit' }];
    expect(translate({ input: 'x', tools, tool_choice: choice }).chat.tool_choice).toEqual(expected);
  });

  it('sends no tool fields when every tool was dropped', () => {
    const { chat } = translate({
      input: 'x',
      tools: [{ type: 'web_search' }, { type: 'tool_search', execution: 'client' }, { type: 'file_search' }],
      tool_choice: 'required',
      parallel_tool_calls: true,
    });
    for (const key of ['tools', 'tool_choice', 'parallel_tool_calls']) expect(chat).not.toHaveProperty(key);
  });
});

describe('responsesRequestSchema', () => {
  it('accepts unknown top-level fields, item types and tool types', () => {
    const body = {
      model: 'coder',
      input: [{ type: 'item_reference', id: 'x' }, { type: 'compaction', encrypted_content: 'e' }],
      tools: [{ type: 'computer_use_preview', display_width: 1 }],
      service_tier: 'auto',
      truncation: 'disabled',
    };
    const parsed = responsesRequestSchema.parse(body);
    expect(parsed).toEqual(body);
    expect(responsesToChat(parsed, UPSTREAM_MODEL).chat.messages).toEqual([]);
  });

  it.each([
    ['no model', { input: 'x' }],
    ['a non-string, non-array input', { model: 'm', input: 3 }],
    ['a function_call without call_id', { model: 'm', input: [{ type: 'function_call', name: 'a' }] }],
    ['a message with an unknown role', { model: 'm', input: [{ role: 'robot', content: 'x' }] }],
    ['a fractional max_output_tokens', { model: 'm', input: 'x', max_output_tokens: 1.5 }],
  ])('rejects %s', (_label, body) => {
    expect(responsesRequestSchema.safeParse(body).success).toBe(false);
  });
});
