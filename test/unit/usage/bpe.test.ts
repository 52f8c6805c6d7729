/**
 * @module `bpe.ts` against gpt-tokenizer, count for count, on both encodings: tricky texts, texts whose count
 * depends on the merge's leftmost tie-break, long runs, seeded random texts from many scripts, the limit
 * contract of `countTokensWithin`, and the memory of a loaded o200k table (in child processes).
 */
import { createRequire } from 'node:module';
import { isWithinTokenLimit as cl100kWithin, countTokens as cl100kCount } from 'gpt-tokenizer/encoding/cl100k_base';
import { isWithinTokenLimit as o200kWithin, countTokens as o200kCount } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { countTokens, countTokensWithin, SPLIT_REGEX, type BpeEncoding } from '../../../src/daemon/usage/bpe.js';
import { runProcess } from '../../helpers/process.js';
import { ROOT } from '../../helpers/serve-process.js';

const ORDINARY = { disallowedSpecial: new Set<string>() };
const reference: Record<BpeEncoding, { count(text: string): number; within(text: string, limit: number): number | false }> = {
  o200k_base: { count: (t) => o200kCount(t, ORDINARY), within: (t, l) => o200kWithin(t, l, ORDINARY) },
  cl100k_base: { count: (t) => cl100kCount(t, ORDINARY), within: (t, l) => cl100kWithin(t, l, ORDINARY) },
};
const ENCODINGS: BpeEncoding[] = ['o200k_base', 'cl100k_base'];

const TRICKY: string[] = [
  '',
  ' ',
  '   ',
  '\t\t  \t',
  'a  b   c    d',
  'trailing spaces   ',
  '\n',
  '\r\n',
  '\r\n\r\n\n\r  \r\n\t\n',
  'line one\r\nline two\n\n  indented\r\n',
  "it's they'll we've I'm you'd she'S THEY'LL WE'VE 'RE 'Re 'd",
  "don't  'll 's x'ss",
  '1 12 123 1234 12345 123456 1234567',
  '3.14159 -42 1e10 0x1F 1,000,000 ١٢٣ ४५६',
  '漢字かなカナ한국어 中文文本，标点。',
  '你好世界'.repeat(20),
  '😀😂🤖🚀👍🏽❤️🇫🇷👨‍👩‍👧 𝔘𝕟𝕚𝕔𝕠𝕕𝕖 𐍈',
  'emoji😀in🚀words',
  '\uD800',
  'a\uD800b \uDFFF\uDFFF x\uD83D',
  '\uDC00\uD800',
  'e\u0301 n\u0303 a\u0308\u0308\u0308 \u0301\u0301',
  'function f(a, b) {\n\treturn a.map((x) => x * 2);\n}\n\t\t// done\n',
  'if (x) {\r\n\t\tconsole.log("<|endoftext|>");\r\n}',
  '<|endoftext|>',
  '<|endoftext|><|im_start|>user\nhi<|im_end|><|fim_prefix|>',
  'Привет, мир! Ça va? Grüße, naïve café.',
  '¡Hola! ¿Qué tal? «quotes» ©®°±µ¶·',
  'ALLCAPS CamelCase mixedCASE lowerUPPER ÀÉÎõü',
  '////path/to//file.ts\n\n',
  'a'.repeat(5000),
  ' ' + 'b'.repeat(999),
  '-'.repeat(200) + '\n',
  // pieces past the reused 2,048-byte buffer: sized by Buffer.byteLength, lone surrogates as U+FFFD's 3 bytes
  '?' + '\uDFFF'.repeat(700),
  ' ' + '😀'.repeat(600),
  // counts that change if the merge broke ties rightmost instead of leftmost (found by trying it)
  ' ::::::::.',
  ' _______,,',
  '-'.repeat(74) + '\n\n',
];

describe('the pre-tokenizers', () => {
  it("are gpt-tokenizer's split regexes", () => {
    const constants = createRequire(import.meta.url)('gpt-tokenizer/cjs/encodingParams/constants') as Record<string, RegExp>;
    expect(SPLIT_REGEX.o200k_base.source).toBe(constants['O200K_TOKEN_SPLIT_REGEX']!.source);
    expect(SPLIT_REGEX.cl100k_base.source).toBe(constants['CL100K_TOKEN_SPLIT_REGEX']!.source);
    expect(SPLIT_REGEX.o200k_base.flags).toBe(constants['O200K_TOKEN_SPLIT_REGEX']!.flags);
    expect(SPLIT_REGEX.cl100k_base.flags).toBe(constants['CL100K_TOKEN_SPLIT_REGEX']!.flags);
  });
});

describe.each(ENCODINGS)('%s', (encoding) => {
  const ref = reference[encoding];

  it.each(TRICKY.map((t, i) => [i, t] as const))('tricky text #%i counts as gpt-tokenizer does', (_i, text) => {
    const n = ref.count(text);
    expect(countTokens(encoding, text)).toBe(n);
    expect(countTokensWithin(encoding, text, n)).toBe(n);
    if (n > 0) expect(countTokensWithin(encoding, text, n - 1)).toBe(false);
  });

  it('a long run of one letter: 3,000 equal to gpt-tokenizer, 40,000 counted', () => {
    const short = 'x'.repeat(3000);
    expect(countTokens(encoding, short)).toBe(ref.count(short));
    const long = countTokens(encoding, 'x'.repeat(40_000));
    expect(long).toBeGreaterThan(40_000 / 128); // no token is longer than 128 bytes
    expect(long).toBeLessThan(40_000);
    expect(countTokens(encoding, '字'.repeat(40_000))).toBeGreaterThan(40_000 / 43); // 3 bytes a character
  });

  it('countTokensWithin: the count at the limit, false one token past it', () => {
    const text = ' hello'.repeat(100);
    expect(countTokens(encoding, text)).toBe(100);
    expect(countTokensWithin(encoding, text, 100)).toBe(100);
    expect(countTokensWithin(encoding, text, 99)).toBe(false);
    expect(countTokensWithin(encoding, text, 0)).toBe(false);
    expect(countTokensWithin(encoding, '', 0)).toBe(0);
    expect(countTokensWithin(encoding, 'x'.repeat(2_000_000), 10)).toBe(false);
  });

  it('U+FEFF is its own token (gpt-tokenizer miscounts it: its decoder strips a leading BOM)', () => {
    // tiktoken's vocabularies have the bytes EF BB BF as one token; gpt-tokenizer says 2 here, 4 for two of them
    expect(countTokens(encoding, '\uFEFF')).toBe(1);
    expect(countTokens(encoding, 'hello\uFEFF')).toBe(2);
  });
});

/** mulberry32: a small seeded generator, so a failing text can be reproduced from its index. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const chars = (s: string): string[] => [...s];
/** Character pools; U+FEFF is left out (see the test above). */
const POOLS: string[][] = [
  chars('abcdefghijklmnopqrstuvwxyz'),
  chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  chars('0123456789'),
  chars('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'),
  [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\r', '\n\n', ' \n'],
  chars('àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿÀÉÎÕÜß¡¿«»©®°±µ¶·'),
  ['\u0301', '\u0308', '\u0327', '\u200d', '\ufe0f'],
  chars('абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМН'),
  chars('的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对'),
  chars('ひらがなカタカナ한국어'),
  ['😀', '😂', '🤖', '🚀', '👍🏽', '❤️', '🇫🇷', '👨‍👩‍👧', '𝔘', '𝕏', '𐍈', '🦄'],
  ['\uD800', '\uDBFF', '\uDC00', '\uDFFF'],
];
const SPECIAL = ['<|endoftext|>', '<|im_start|>', "'s", "'LL", "'re", "'Ve", "'d", 'http://', '\t\t', '    '];

/** A text of words, numbers, runs of one character and punctuation from the pools above. */
function randomText(next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const parts: string[] = [];
  const segments = 1 + Math.floor(next() * 40);
  for (let s = 0; s < segments; s++) {
    const kind = next();
    if (kind < 0.35) {
      // a word from one or two pools
      const pools = [pick(POOLS), pick(POOLS)];
      const length = 1 + Math.floor(next() * 12);
      for (let i = 0; i < length; i++) parts.push(pick(next() < 0.8 ? pools[0]! : pools[1]!));
    } else if (kind < 0.5) {
      parts.push(pick(POOLS[4]!)); // whitespace
    } else if (kind < 0.6) {
      const digits = 1 + Math.floor(next() * 9);
      for (let i = 0; i < digits; i++) parts.push(pick(POOLS[2]!));
    } else if (kind < 0.75) {
      // a run of one character: ties between equal pairs
      const c = pick(pick(POOLS));
      parts.push(c.repeat(2 + Math.floor(next() * 80)));
    } else if (kind < 0.85) {
      parts.push(pick(SPECIAL));
    } else {
      const length = 1 + Math.floor(next() * 6);
      for (let i = 0; i < length; i++) parts.push(pick(POOLS[3]!));
    }
  }
  return parts.join('');
}

describe('seeded random texts', () => {
  const next = random(20_240_611);
  const texts = Array.from({ length: 600 }, () => randomText(next));

  it.each(ENCODINGS)('%s: 600 texts count as gpt-tokenizer counts, within limits alike', (encoding) => {
    const ref = reference[encoding];
    const limitOf = random(7);
    const mismatches: string[] = [];
    texts.forEach((text, i) => {
      const n = ref.count(text);
      const ours = countTokens(encoding, text);
      const limit = Math.floor(limitOf() * (n + 4));
      const within = countTokensWithin(encoding, text, limit);
      if (ours !== n || within !== ref.within(text, limit)) {
        mismatches.push(`#${i} ${JSON.stringify(text)}: ${ours} vs ${n} (within ${limit}: ${within})`);
      }
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(texts.join('').length).toBeGreaterThan(100_000);
  });
});

/** Runs in a fresh node (sources through tsx): memory grown by loading o200k and counting once. */
const MEMORY_CHILD = String.raw`
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const which = process.argv[1];
const snap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage(); };
const before = snap();
if (which === 'bpe') {
  const bpe = await import(pathToFileURL(process.cwd() + '/src/daemon/usage/bpe.ts').href);
  if (bpe.loadedEncodings().length !== 0) throw new Error('loaded at import');
  bpe.countTokens('o200k_base', 'Hello, world! It is a fine day.');
  if (bpe.loadedEncodings().join() !== 'o200k_base') throw new Error('not loaded');
} else {
  createRequire(process.cwd() + '/x.js')('gpt-tokenizer').countTokens('Hello, world! It is a fine day.', { disallowedSpecial: new Set() });
}
const after = snap();
const mb = (k) => Math.round(((after[k] - before[k]) / 1048576) * 10) / 10;
console.log(JSON.stringify({ which, rss: mb('rss'), heapUsed: mb('heapUsed'), arrayBuffers: mb('arrayBuffers') }));
`;

describe('memory of a loaded o200k table', () => {
  const measure = async (which: string): Promise<{ rss: number; heapUsed: number; arrayBuffers: number }> => {
    const args = ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', MEMORY_CHILD, which];
    const run = await runProcess(process.execPath, args, { cwd: ROOT });
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as { rss: number; heapUsed: number; arrayBuffers: number };
  };

  it('is a few MB of typed arrays, a fraction of gpt-tokenizer', async () => {
    const [ours, theirs] = await Promise.all([measure('bpe'), measure('gpt-tokenizer')]);
    console.log(`o200k loaded, MB grown (rss / heapUsed / arrayBuffers): bpe.ts ${ours.rss} / ${ours.heapUsed} / ${ours.arrayBuffers}, gpt-tokenizer ${theirs.rss} / ${theirs.heapUsed} / ${theirs.arrayBuffers}`);
    expect(ours.heapUsed + ours.arrayBuffers).toBeLessThan(12);
    expect(ours.heapUsed + ours.arrayBuffers).toBeLessThan((theirs.heapUsed + theirs.arrayBuffers) / 2);
  }, 60_000);
});
