/** @module Bounded token counting: exact for ordinary text, windowed for pathological runs, early exit at the limit. */
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { countTokensUpTo } from '../../../src/daemon/embeddings/validate.js';

const exact = (text: string): number => countTokens(text, { disallowedSpecial: new Set() });

describe('countTokensUpTo', () => {
  it('is exact for ordinary text', () => {
    const text = 'Embeddings turn text into vectors. 123456 ünïcödé, 漢字, and emoji 😀 too.\n\tIndented.';
    expect(countTokensUpTo(text, 8192)).toEqual({ tokens: exact(text), approximate: false });
  });

  it('stays exact on long text cut into chunks (prose, code, minified JSON, numbers, many scripts)', () => {
    const text = [
      'The gateway counts tokens like OpenAI does, so limits hold to the token. '.repeat(60),
      'function f(a,b){return a.map((x)=>x*2).filter(Boolean);}\n\tconst y  =  f([1,2,3],null);\r\n'.repeat(40),
      JSON.stringify(Array.from({ length: 80 }, (_, i) => ({ id: `model-${i}`, ctx: 128000 + i, ok: i % 2 === 0 }))),
      Array.from({ length: 500 }, (_, i) => `${i * 7919}abc${i}.5e-3`).join(''),
      "it's DON'T they'll (x) [y] Привет мир, ça va? 你好 世界 こんにちは 세계 مرحبا ".repeat(40),
    ].join('\n\n');
    expect(text.length).toBeGreaterThan(20_000);
    const n = exact(text);
    expect(countTokensUpTo(text, 1_000_000)).toEqual({ tokens: n, approximate: false });
    expect(countTokensUpTo(text, n).tokens).toBe(n);
    expect(countTokensUpTo(text, n - 1).tokens).toBeNull();
  });

  it('returns null once the limit is passed, and the count at exactly the limit', () => {
    expect(countTokensUpTo(' hello'.repeat(100), 99).tokens).toBeNull();
    expect(countTokensUpTo(' hello'.repeat(100), 100).tokens).toBe(100);
  });

  it.each([
    ['a CJK run', '漢字'.repeat(700)],
    ['a letter run', 'x'.repeat(3000)],
    ['a whitespace run', 'a' + ' '.repeat(2000) + 'b'],
    ['a symbol run with surrogate pairs', '!' + '😀'.repeat(500) + ' done'],
  ])('counts %s in windows, within one token per window of the exact count', (_name, text) => {
    const result = countTokensUpTo(text, 1_000_000);
    expect(result.approximate).toBe(true);
    const windows = Math.ceil(text.length / 128) + 2;
    expect(Math.abs(result.tokens! - exact(text))).toBeLessThanOrEqual(windows);
  });

  it('gives up on a huge unbroken run as soon as the limit is passed', () => {
    expect(countTokensUpTo('a'.repeat(2_000_000), 8192)).toEqual({ tokens: null, approximate: true });
    expect(countTokensUpTo('ok ' + '字'.repeat(1_000_000), 8192).tokens).toBeNull();
  });
});
