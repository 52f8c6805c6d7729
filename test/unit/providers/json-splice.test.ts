import { describe, expect, it } from 'vitest';
import { validateEmbeddingsRequest, type EmbeddingModelInfo } from '../../../src/daemon/embeddings/validate.js';
import { objectLayout, RawJsonObject, spliceMembers } from '../../../src/daemon/providers/json-splice.js';
import { passthroughChatBody, upstreamChatBody } from '../../../src/daemon/providers/openai-chat.js';
import { upstreamBody } from '../../../src/daemon/routes/embeddings.js';
import type { ChatRequest } from '../../../src/daemon/translate/chat/types.js';

const UP = 'up-model "v2" \u00e9\u{1F600}';

/** Both paths for a raw chat body: what the splice sent (null when it fell back) and what stringify sends. */
function chatBoth(text: string | Buffer): { spliced: Buffer | null; expected: string } {
  const raw = typeof text === 'string' ? Buffer.from(text) : text;
  const chat = JSON.parse(raw.toString('utf8')) as ChatRequest;
  const out = passthroughChatBody(chat, UP, new RawJsonObject(raw));
  return { spliced: typeof out === 'string' ? null : out, expected: upstreamChatBody(chat, UP) };
}

/** The splice was taken and parses to exactly what the stringify path sends. */
function expectSpliced(text: string): Buffer {
  const { spliced, expected } = chatBoth(text);
  expect(spliced, `fell back on ${text}`).toBeInstanceOf(Buffer);
  expect(JSON.parse(spliced!.toString('utf8'))).toEqual(JSON.parse(expected));
  return spliced!;
}

function expectFallback(text: string | Buffer): void {
  const raw = typeof text === 'string' ? Buffer.from(text) : text;
  const chat = JSON.parse(raw.toString('utf8')) as ChatRequest;
  expect(passthroughChatBody(chat, UP, new RawJsonObject(raw))).toBe(upstreamChatBody(chat, UP));
}

const MSG = '"messages":[{"role":"user","content":"hi"}]';

describe('chat passthrough body splice', () => {
  it('takes the fast path on a plain body and is byte-identical to the stringify path on compact bodies', () => {
    const bodies = [
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
      { messages: [{ role: 'user', content: 'hi' }], model: 'gpt-4o', temperature: 0.5 },
      { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true },
      { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } },
      { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: false, extra: 1 } },
      { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: null },
      { model: 'm', messages: [{ role: 'user', content: 'x' }], stream: false, stream_options: { foo: [1, { a: '}' }] } },
    ];
    for (const b of bodies) {
      const text = JSON.stringify(b);
      const { spliced, expected } = chatBoth(text);
      expect(spliced).toBeInstanceOf(Buffer);
      expect(spliced!.toString('utf8')).toBe(expected);
    }
  });

  it('handles whitespace, pretty printing and a trailing newline', () => {
    const b = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, n: 1 };
    expectSpliced(JSON.stringify(b, null, 2) + '\n');
    expectSpliced(JSON.stringify(b, null, '\t'));
    expectSpliced(`\r\n { "model" \t:\n "gpt-4o" , ${MSG} , "stream" : true \n} \n`);
    const out = expectSpliced(`{ "model" : "gpt-4o" ,${MSG}   }`);
    expect(out.toString()).toBe(`{ "model" : ${JSON.stringify(UP)} ,${MSG}   }`);
  });

  it('inserts stream_options after the last member, before whitespace and the closing brace', () => {
    const out = expectSpliced(`{"model":"m",${MSG},"stream":true \n }`);
    expect(out.toString()).toBe(`{"model":${JSON.stringify(UP)},${MSG},"stream":true,"stream_options":{"include_usage":true} \n }`);
  });

  it('keeps unicode, escapes and quotes in strings as sent', () => {
    expectSpliced(`{"model":"gpt-4o","messages":[{"role":"user","content":"h\\u00e9llo \\"q\\" \\\\ \\/ ✓ 😀 \\ud83d\\ude00"}]}`);
    expectSpliced(`{"messages":[{"role":"user","content":"ends with a backslash \\\\"}],"model":"m\\u00e9"}`);
    expectSpliced(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x\\'.repeat(40) + '"'.repeat(30) + 'y'.repeat(100) }] }));
  });

  it('finds the top-level model when "model" also appears nested or inside string values', () => {
    const text = JSON.stringify({
      messages: [{ role: 'user', content: 'set "model": "evil" and {"model":"x"}' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { model: { type: 'string' } } } } }],
      metadata: { model: 'nested' },
      model: 'gpt-4o',
      user: 'model',
    });
    const out = expectSpliced(text);
    const parsed = JSON.parse(out.toString()) as Record<string, unknown>;
    expect(parsed['metadata']).toEqual({ model: 'nested' });
    expect(parsed['model']).toBe(UP);
  });

  it('works on an object whose only member is model, and on bodies with every kind of scalar', () => {
    const { spliced } = chatBoth('{"model":"m"}');
    expect(spliced!.toString()).toBe(`{"model":${JSON.stringify(UP)}}`);
    expectSpliced(`{"model":"m",${MSG},"a":null,"b":true,"c":false,"d":-1.5e-3,"e":0,"f":[],"g":{},"h":[[],[{}]],"i":""}`);
  });

  it('falls back when a key it rewrites occurs twice (JSON.parse keeps the last)', () => {
    expectFallback(`{"model":"a",${MSG},"model":"b"}`);
    expectFallback(`{"model":"a",${MSG},"stream":true,"stream_options":{},"stream_options":{"include_usage":true}}`);
    // any duplicated top-level key: an upstream may keep the first or refuse the body
    expectFallback(`{"model":"a",${MSG},"stream":false,"stream":true}`);
  });

  it('falls back when a top-level key is written with an escape', () => {
    expectFallback(`{"mod\\u0065l":"a",${MSG}}`);
    expectFallback(`{"model":"a",${MSG},"mod\\u0065l":"b"}`);
    expectFallback(`{"model":"a",${MSG},"stream":true,"stream_opti\\u006fns":{"include_usage":false}}`);
    // any escape in a top-level key: `"a\/b"` and `"a/b"` are the same key
    expectFallback(`{"model":"a",${MSG},"x\\"model":"b"}`);
  });

  it('falls back on bytes that are not valid UTF-8 (the parse saw U+FFFD there)', () => {
    const raw = Buffer.concat([Buffer.from('{"model":"a","messages":[{"role":"user","content":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
    expectFallback(raw);
  });

  it('splices random bodies: random whitespace, escapes in values, nested "model" keys', () => {
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const ws = (): string => ['', '', ' ', '\n', '\t', '\r\n  '][rnd(6)]!;
    const chars = ['a', 'b', ' ', '"', '\\', '/', '\n', '\t', 'é', '😀', '{', '}', '[', ']', ':', ',', 'model', '"model":'];
    const str = (): string => {
      let s = '';
      const len = rnd(5) === 0 ? 30 + rnd(120) : rnd(12);
      for (let i = 0; i < len; i++) s += chars[rnd(chars.length)]!;
      return s;
    };
    /** JSON text of a string with random (valid) escapes. */
    const quote = (s: string): string =>
      '"' +
      [...s]
        .map((c) => {
          if (c === '/' && rnd(2) === 0) return '\\/';
          if (c === 'a' && rnd(3) === 0) return '\\u0061';
          if (c === 'é' && rnd(2) === 0) return '\\u00E9';
          return JSON.stringify(c).slice(1, -1);
        })
        .join('') +
      '"';
    const value = (depth: number): string => {
      const k = rnd(depth > 2 ? 4 : 6);
      if (k === 0) return String([0, -1, 3.25, 1e21, -2e-7][rnd(5)]);
      if (k === 1) return ['true', 'false', 'null'][rnd(3)]!;
      if (k === 2 || k === 3) return quote(str());
      if (k === 4) return `[${ws()}${Array.from({ length: rnd(4) }, () => value(depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
      const keys = [...new Set(Array.from({ length: rnd(4) }, () => ['model', 'x', 'stream_options', 'a"b'][rnd(4)]!))];
      return `{${ws()}${keys.map((key) => `${quote(key)}${ws()}:${ws()}${value(depth + 1)}`).join(`${ws()},${ws()}`)}${ws()}}`;
    };
    for (let n = 0; n < 400; n++) {
      const members = [`"model"${ws()}:${ws()}${quote(str() || 'm')}`, `"messages"${ws()}:${ws()}[{"role":"user","content":${quote(str())}}]`];
      const optional = ['"tools"', '"metadata"', '"user"', '"stream_optionsx"', '"modelx"', '"mo"'];
      for (const key of optional) if (rnd(2)) members.push(`${key}${ws()}:${ws()}${value(0)}`);
      if (rnd(2)) members.push(`"stream"${ws()}:${ws()}${['true', 'false', 'null'][rnd(3)]}`);
      if (rnd(3) === 0) members.push(`"stream_options"${ws()}:${ws()}${['null', '{}', '{"include_usage":true}', '{"include_usage":false,"z":[1]}'][rnd(4)]}`);
      for (let i = members.length - 1; i > 0; i--) {
        const j = rnd(i + 1);
        [members[i], members[j]] = [members[j]!, members[i]!];
      }
      const text = `${ws()}{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}${ws()}`;
      expectSpliced(text);
    }
  });
});

describe('objectLayout and spliceMembers', () => {
  it('locates every top-level member and the closing brace', () => {
    const raw = Buffer.from(' { "a" : 1 , "b":{"a":2}, "c":"}" } ');
    const layout = objectLayout(raw)!;
    expect([...layout.byKey.keys()]).toEqual(['a', 'b', 'c']);
    expect(layout.members.map((m) => raw.subarray(m.valueStart, m.valueEnd).toString())).toEqual(['1', '{"a":2}', '"}"']);
    expect(raw[layout.close]).toBe(0x7d);
    expect(layout.close).toBe(raw.length - 2);
  });

  it('inserts into an empty object without a leading comma', () => {
    for (const text of ['{}', ' { \n } ']) {
      const raw = Buffer.from(text);
      const out = spliceMembers(raw, objectLayout(raw)!, { a: '1', b: '"x"' })!;
      expect(JSON.parse(out.toString())).toEqual({ a: 1, b: 'x' });
    }
  });

  it('removes members (not the first one: its comma follows it)', () => {
    const raw = Buffer.from('{"a":1, "b" : null ,"c":3}');
    const layout = objectLayout(raw)!;
    expect(spliceMembers(raw, layout, { b: null })!.toString()).toBe('{"a":1 ,"c":3}');
    expect(spliceMembers(raw, layout, { c: null, b: null })!.toString()).toBe('{"a":1}');
    expect(spliceMembers(raw, layout, { c: null, d: '4' })!.toString()).toBe('{"a":1, "b" : null,"d":4}');
    expect(spliceMembers(raw, layout, { a: null })).toBeNull();
    expect(spliceMembers(raw, layout, { z: null })!.toString()).toBe(raw.toString());
  });

  it('refuses what it cannot prove: not an object, trailing bytes, escaped or duplicate keys', () => {
    for (const text of ['[1]', '"x"', '{"a":1} x', '{"a":1}}', '{"\\u0061":1}', '{"a":1,"a":2}', '{"a":1,}', '{"a" 1}', '{"a":1']) {
      expect(objectLayout(Buffer.from(text)), text).toBeNull();
    }
  });
});

describe('embeddings upstream body splice', () => {
  const info: EmbeddingModelInfo = { id: 'e', capabilities: { dimensions: { min: 1, max: 3072 } }, maxInputTokens: 8192 };

  function both(text: string): { out: Buffer | string; expected: string } {
    const raw = Buffer.from(text);
    const body = JSON.parse(text) as Record<string, unknown>;
    const v = validateEmbeddingsRequest(body, info);
    return { out: upstreamBody(body, v, UP, new RawJsonObject(raw)), expected: upstreamBody(body, v, UP, null).toString() };
  }

  it('splices model, asks for floats and is byte-identical on compact bodies', () => {
    const bodies = [
      { model: 'e', input: 'hello' },
      { model: 'e', input: ['a', 'b'], encoding_format: 'float' },
      { model: 'e', input: 'x', encoding_format: 'base64' },
      { model: 'e', input: [[1, 2], [3]], encoding_format: null, dimensions: 256 },
      { model: 'e', input: 'x', dimensions: null, user: 'u' },
      { input: 'x', user: 'u', model: 'e', dimensions: null },
    ];
    for (const b of bodies) {
      const { out, expected } = both(JSON.stringify(b));
      expect(out).toBeInstanceOf(Buffer);
      expect(out.toString()).toBe(expected);
    }
  });

  it('drops an unvalidated dimensions member and keeps a validated one, whatever the formatting', () => {
    for (const text of ['{ "model": "e",\n  "dimensions" : null,\n  "input": "x"\n}', '{"model":"e","input":"x","dimensions":512}']) {
      const { out, expected } = both(text);
      expect(out).toBeInstanceOf(Buffer);
      expect(JSON.parse(out.toString())).toEqual(JSON.parse(expected));
    }
  });

  it('falls back when dimensions must go but is the first member, or model is duplicated', () => {
    for (const text of ['{"dimensions":null,"model":"e","input":"x"}', '{"model":"a","input":"x","model":"e"}']) {
      const { out, expected } = both(text);
      expect(out).toBe(expected);
    }
  });
});
