import { describe, expect, it } from 'vitest';
import { topLevelValue, usageFromTail } from '../../../src/daemon/providers/json-usage.js';

const tail = (s: string) => usageFromTail(Buffer.from(s));

describe('usageFromTail', () => {
  it('reads the top-level usage of a compact OpenAI answer', () => {
    const body = JSON.stringify({
      id: 'chatcmpl-1',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 2 } },
      system_fingerprint: 'fp_1',
    });
    expect(tail(body)).toEqual({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 2 } });
  });

  it('reads pretty-printed answers and usage as the last key', () => {
    const body = JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 5, completion_tokens: 1 } }, null, 2) + '\n';
    expect(tail(body)).toEqual({ prompt_tokens: 5, completion_tokens: 1 });
  });

  it('returns null for "usage": null', () => {
    expect(tail('{"id":"x","usage" : null}')).toBeNull();
  });

  it('ignores "usage" inside string content (quotes there are escaped)', () => {
    const body = JSON.stringify({ choices: [{ message: { content: 'the "usage": {"prompt_tokens": 999} key' } }], usage: { prompt_tokens: 7 } });
    expect(tail(body)).toEqual({ prompt_tokens: 7 });
    expect(tail(JSON.stringify({ choices: [{ message: { content: '"usage": {"prompt_tokens": 1}}' } }] }))).toBeUndefined();
  });

  it('gives up (undefined) when the last usage is nested, so the caller parses everything', () => {
    expect(tail('{"usage":{"prompt_tokens":1},"x_groq":{"usage":{"prompt_tokens":2}}}')).toBeUndefined();
    expect(tail('{"a":[{"usage":{"prompt_tokens":2}}]}')).toBeUndefined();
    expect(tail('{"a":{"usage":{"prompt_tokens":2}},"b":1}')).toBeUndefined();
  });

  it('gives up on answers without usage, truncated or malformed bytes and non-object usage', () => {
    expect(tail('{"id":"x","choices":[]}')).toBeUndefined();
    expect(tail('{"id":"x","usage":{"prompt_tokens":1}')).toBeUndefined();
    expect(tail('{"id":"x","usage":{"prompt_tokens":1}}}')).toBeUndefined();
    expect(tail('{"id":"x","usage":{"prompt_tokens":1}} trailing')).toBeUndefined();
    expect(tail('{"usage":[1,2]}')).toBeUndefined();
    expect(tail('{"usage":"many"}')).toBeUndefined();
    expect(tail('{"usage":{"a":"unterminated}}')).toBeUndefined();
    expect(tail('')).toBeUndefined();
  });

  it('agrees with JSON.parse on usage-bearing answers with escapes and unicode', () => {
    const answers = [
      { id: 'a\\"b', choices: [{ message: { content: 'ünïcødé \\ "quoted" {braces} [brackets]' } }], usage: { prompt_tokens: 1, completion_tokens: 2 } },
      { usage: { prompt_tokens: 0, completion_tokens: 0, completion_tokens_details: { reasoning_tokens: 4 } }, id: 'z' },
    ];
    for (const a of answers) expect(tail(JSON.stringify(a))).toEqual(a.usage);
  });

  it('topLevelValue locates top-level string values (the embeddings model) and refuses nested ones', () => {
    const raw = Buffer.from('{"object":"list","data":[{"object":"embedding","embedding":[0.1]}],"model":"up-model","usage":{"prompt_tokens":1}}');
    const span = topLevelValue(raw, Buffer.from('"model"'))!;
    expect(raw.subarray(span.start, span.end).toString()).toBe('"up-model"');
    expect(topLevelValue(Buffer.from('{"a":{"model":"x"},"b":1}'), Buffer.from('"model"'))).toBeUndefined();
    expect(topLevelValue(Buffer.from('{"model":"a\\"b"}'), Buffer.from('"model"'))).toEqual({ start: 9, end: 15 });
  });

  it('topLevelValue refuses a match whose opening quote is an escaped one (a key like x"model)', () => {
    const raw = Buffer.from(JSON.stringify({ model: 'up-model', 'x"model': 'other' }));
    expect(raw.toString()).toContain('"x\\"model":"other"');
    expect(topLevelValue(raw, Buffer.from('"model"'))).toBeUndefined();
  });
});
