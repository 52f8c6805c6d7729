/** @module Every embeddings limit of seed 002 is a 400 naming the limit and the item; valid bodies are counted. */
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validateEmbeddingsRequest, type EmbeddingModelInfo } from '../../../src/daemon/embeddings/validate.js';
import { GatewayError } from '../../../src/daemon/errors.js';
import * as bpe from '../../../src/daemon/usage/bpe.js';

// validate.ts counts with bpe.ts's `countTokensWithin`: a pass-through spy sees every call it makes
vi.mock('../../../src/daemon/usage/bpe.js', async (importOriginal) => {
  const actual = await importOriginal<typeof bpe>();
  return { ...actual, countTokensWithin: vi.fn(actual.countTokensWithin) };
});

const SMALL: EmbeddingModelInfo = {
  id: 'text-embedding-3-small',
  capabilities: { dimensions: { min: 1, max: 1536, default: 1536 } },
  maxInputTokens: 8192,
};
const ADA: EmbeddingModelInfo = { id: 'text-embedding-ada-002', capabilities: {} };

/** ' hello' is one cl100k token, so this string has exactly `n` tokens. */
const hellos = (n: number): string => ' hello'.repeat(n);

function rejects(body: unknown, model: EmbeddingModelInfo = SMALL): GatewayError {
  try {
    validateEmbeddingsRequest(body, model);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as GatewayError;
    expect(e.status).toBe(400);
    expect(e.code).toBe('invalid_request');
    return e;
  }
  throw new Error(`expected ${JSON.stringify(body).slice(0, 80)} to be rejected`);
}

describe('valid requests', () => {
  it("counts seed 002's example like OpenAI (9 tokens) and defaults to float", () => {
    const r = validateEmbeddingsRequest(
      { model: 'text-embedding-3-small', input: 'The quick brown fox jumps over the lazy dog' },
      SMALL,
    );
    expect(r).toEqual({
      inputs: ['The quick brown fox jumps over the lazy dog'],
      totalTokens: 9,
      perItemTokens: [9],
      tokensEstimated: false,
      encodingFormat: 'float',
    });
  });

  it('accepts string[], number[] and number[][] with per-item counts', () => {
    expect(validateEmbeddingsRequest({ input: ['hello', hellos(3)] }, SMALL)).toMatchObject({
      inputs: ['hello', hellos(3)],
      perItemTokens: [1, 3],
      totalTokens: 4,
    });
    expect(validateEmbeddingsRequest({ input: [1, 2, 3] }, SMALL)).toMatchObject({
      inputs: [[1, 2, 3]],
      perItemTokens: [3],
      totalTokens: 3,
    });
    expect(validateEmbeddingsRequest({ input: [[1, 2], [0]] }, SMALL)).toMatchObject({
      inputs: [[1, 2], [0]],
      perItemTokens: [2, 1],
      totalTokens: 3,
    });
  });

  it('passes dimensions, base64 and user through', () => {
    expect(
      validateEmbeddingsRequest({ input: 'x', dimensions: 256, encoding_format: 'base64', user: 'u1' }, SMALL),
    ).toMatchObject({ dimensions: 256, encodingFormat: 'base64', user: 'u1' });
    expect(validateEmbeddingsRequest({ input: 'x', dimensions: 1 }, SMALL).dimensions).toBe(1);
    expect(validateEmbeddingsRequest({ input: 'x', dimensions: 1536 }, SMALL).dimensions).toBe(1536);
    expect(validateEmbeddingsRequest({ input: 'x', dimensions: null, encoding_format: null }, ADA)).not.toHaveProperty(
      'dimensions',
    );
  });

  it('counts special-token text as ordinary text instead of failing', () => {
    const r = validateEmbeddingsRequest({ input: 'a <|endoftext|> b' }, SMALL);
    expect(r.totalTokens).toBe(countTokens('a <|endoftext|> b', { disallowedSpecial: new Set() }));
  });

  it('accepts exactly the limits: 2,048 items, 8,192 tokens per item, 300,000 tokens in total', () => {
    expect(validateEmbeddingsRequest({ input: Array(2048).fill('hi') }, SMALL).inputs).toHaveLength(2048);
    expect(validateEmbeddingsRequest({ input: hellos(8192) }, SMALL).totalTokens).toBe(8192);
    const atTotal = [...Array<string>(37).fill(hellos(8000)), hellos(4000)];
    expect(validateEmbeddingsRequest({ input: atTotal }, SMALL).totalTokens).toBe(300_000);
  });
});

describe('limits (seed 002)', () => {
  it('2,048 items per request', () => {
    const e = rejects({ input: Array(2049).fill('hi') });
    expect(e.message).toBe(
      "'input' has 2,049 items; the maximum is 2,048 items per request. Split it into smaller batches.",
    );
    expect(e.param).toBe('input');
    expect(rejects({ input: Array(2049).fill([1]) }).message).toContain('2,048 items per request');
  });

  it('8,192 tokens per item, naming the item', () => {
    expect(rejects({ input: ['ok', hellos(8193)] }).message).toBe(
      'input[1] has more than 8,192 tokens; the maximum is 8,192 tokens per input for text-embedding-3-small.',
    );
    expect(rejects({ input: hellos(8193) }).message).toBe(
      "'input' has more than 8,192 tokens; the maximum is 8,192 tokens per input for text-embedding-3-small.",
    );
    expect(rejects({ input: [[1], Array(8193).fill(7)] }).message).toBe(
      'input[1] has 8,193 tokens; the maximum is 8,192 tokens per input for text-embedding-3-small.',
    );
    expect(rejects({ input: Array(8193).fill(7) }).message).toContain("'input' has 8,193 tokens");
  });

  it("uses the model's own input limit when it has one", () => {
    const tiny: EmbeddingModelInfo = { id: 'tiny-embed', capabilities: {}, maxInputTokens: 512 };
    expect(rejects({ input: ['a', 'b', hellos(513)] }, tiny).message).toBe(
      'input[2] has more than 512 tokens; the maximum is 512 tokens per input for tiny-embed.',
    );
    expect(validateEmbeddingsRequest({ input: hellos(512) }, tiny).totalTokens).toBe(512);
  });

  it('300,000 tokens per request, naming where it was passed', () => {
    const e = rejects({ input: Array<string>(38).fill(hellos(8000)) });
    expect(e.message).toBe(
      "'input' has more than 300,000 tokens in total (passed at input[37], 304,000 tokens so far); " +
        'the maximum is 300,000 tokens per request. Split it into smaller batches.',
    );
    expect(rejects({ input: Array<number[]>(37).fill(Array(8192).fill(1)) }).message).toContain(
      'passed at input[36], 303,104 tokens so far',
    );
  });

  it('reports the per-item limit before the total when one item breaks both', () => {
    const input = [...Array<string>(36).fill(hellos(8192)), hellos(9000)];
    expect(rejects({ input }).message).toMatch(/^input\[36\] has more than 8,192 tokens/);
  });
});

describe('dimensions and encoding_format', () => {
  it.each([
    [0, "'dimensions' is 0, out of range: text-embedding-3-small supports 1 to 1,536 dimensions."],
    [1537, "'dimensions' is 1,537, out of range: text-embedding-3-small supports 1 to 1,536 dimensions."],
    [-5, "'dimensions' is -5, out of range: text-embedding-3-small supports 1 to 1,536 dimensions."],
    [1.5, "'dimensions' must be an integer; got 1.5. text-embedding-3-small supports 1 to 1,536 dimensions."],
    ['512', "'dimensions' must be an integer; got a string. text-embedding-3-small supports 1 to 1,536 dimensions."],
  ])('dimensions %j → 400', (dimensions, message) => {
    const e = rejects({ input: 'x', dimensions });
    expect(e.message).toBe(message);
    expect(e.param).toBe('dimensions');
  });

  it('text-embedding-ada-002 does not support dimensions', () => {
    const e = rejects({ input: 'x', dimensions: 1536 }, ADA);
    expect(e.message).toBe(
      "The model text-embedding-ada-002 does not support the 'dimensions' parameter (its vectors have a fixed size); remove it.",
    );
    expect(e.param).toBe('dimensions');
  });

  it.each([
    ['int8', '"int8"'],
    ['FLOAT', '"FLOAT"'],
    [1, 'a number'],
  ])('encoding_format %j → 400', (encoding_format, got) => {
    const e = rejects({ input: 'x', encoding_format });
    expect(e.message).toBe(`'encoding_format' must be "float" or "base64"; got ${got}.`);
    expect(e.param).toBe('encoding_format');
  });

  it('checks parameters before counting any token', () => {
    expect(rejects({ input: Array(5000).fill('x'), encoding_format: 'int8' }).param).toBe('encoding_format');
  });

  it('user must be a string', () => {
    expect(rejects({ input: 'x', user: 5 })).toMatchObject({ message: "'user' must be a string; got a number.", param: 'user' });
  });
});

describe('input shapes', () => {
  const SHAPES = 'a string, an array of strings, an array of token ids or an array of token-id arrays';
  it.each([
    [{}, `'input' is required: ${SHAPES}.`],
    [{ input: null }, `'input' is required: ${SHAPES}.`],
    [{ input: 42 }, `'input' must be ${SHAPES}; got a number.`],
    [{ input: { text: 'x' } }, `'input' must be ${SHAPES}; got an object.`],
    [{ input: '' }, "'input' is an empty string; it needs at least one token."],
    [{ input: [] }, "'input' is an empty array; send at least one item."],
    [{ input: ['a', ''] }, 'input[1] is an empty string; every input needs at least one token.'],
    [{ input: [[1], []] }, 'input[1] is an empty token array; every input needs at least one token.'],
    [
      { input: ['a', 1] },
      'input[1] is a number but input[0] is a string; do not mix types: send all strings or all token arrays.',
    ],
    [
      { input: ['a', ['b']] },
      'input[1] is an array but input[0] is a string; do not mix types: send all strings or all token arrays.',
    ],
    [
      { input: [[1], 'a'] },
      'input[1] is a string but input[0] is a token array; do not mix types: send all strings or all token arrays.',
    ],
    [{ input: [1, 'a'] }, 'input[1] is not a valid token id (a string); token ids are non-negative integers.'],
    [{ input: [1, 2.5] }, 'input[1] is not a valid token id (2.5); token ids are non-negative integers.'],
    [{ input: [-1] }, 'input[0] is not a valid token id (-1); token ids are non-negative integers.'],
    [{ input: [[1, 2], [3, 1e20]] }, 'input[1][1] is not a valid token id (100000000000000000000); token ids are non-negative integers.'],
    [{ input: [[1, null]] }, 'input[0][1] is not a valid token id (null); token ids are non-negative integers.'],
    [{ input: [true] }, `input[0] is a boolean; 'input' must be ${SHAPES}.`],
    [{ input: [null, 'a'] }, `input[0] is null; 'input' must be ${SHAPES}.`],
  ])('%j → 400', (body, message) => {
    const e = rejects(body);
    expect(e.message).toBe(message);
    expect(e.param).toBe('input');
  });

  it.each([null, [], 'text', 3])('a body of %j is not an object', (body) => {
    expect(rejects(body)).toMatchObject({
      message: 'The request body must be a JSON object with at least "model" and "input".',
      param: null,
    });
  });
});

describe('the byte bound (tokens ≤ UTF-8 bytes): no tokenizer for inputs that cannot pass a limit', () => {
  const tokenizing = () => vi.mocked(bpe.countTokensWithin).mockClear();
  afterEach(() => vi.restoreAllMocks());
  /** ' hello' ×1365 + ' a': 8,192 bytes, 1,366 tokens. */
  const atLimit = hellos(1365) + ' a';

  it('an input of exactly the per-item limit in bytes passes without tokenizing; counts come exact when read', () => {
    expect(Buffer.byteLength(atLimit)).toBe(8192);
    const spy = tokenizing();
    const r = validateEmbeddingsRequest({ input: atLimit }, SMALL);
    const multibyte = validateEmbeddingsRequest({ input: ['é'.repeat(4096), '字'.repeat(2730)] }, SMALL); // 8,192 and 8,190 bytes
    expect(spy).not.toHaveBeenCalled();
    expect(r.totalTokens).toBe(countTokens(atLimit));
    expect(r).toMatchObject({ perItemTokens: [1366], tokensEstimated: false });
    expect(spy).toHaveBeenCalled();
    expect(multibyte.perItemTokens).toEqual([countTokens('é'.repeat(4096)), countTokens('字'.repeat(2730))]);
  });

  it('one byte more and the input is tokenized at validation, and still checked exactly', () => {
    const spy = tokenizing();
    const over = atLimit + 'b'; // 8,193 bytes, 1,366 tokens: within the limit
    const r = validateEmbeddingsRequest({ input: over }, SMALL);
    expect(spy).toHaveBeenCalled();
    expect(r.totalTokens).toBe(countTokens(over));
    spy.mockClear();
    const accents = validateEmbeddingsRequest({ input: 'é'.repeat(4097) }, SMALL); // 8,194 bytes
    expect(spy).toHaveBeenCalled();
    expect(accents.totalTokens).toBe(countTokens('é'.repeat(4097)));
    const tiny: EmbeddingModelInfo = { id: 'tiny-embed', capabilities: {}, maxInputTokens: 6 };
    spy.mockClear();
    const six = validateEmbeddingsRequest({ input: ' hello' }, tiny); // 6 bytes
    expect(spy).not.toHaveBeenCalled();
    expect(six.totalTokens).toBe(1);
    expect(rejects({ input: ['ab', hellos(7)] }, tiny).message).toBe(
      'input[1] has more than 6 tokens; the maximum is 6 tokens per input for tiny-embed.',
    );
    expect(validateEmbeddingsRequest({ input: hellos(6) }, tiny).totalTokens).toBe(6); // 36 bytes, 6 tokens
  });

  it('the total is bounded by bytes too: tokenized only when the bytes pass it', () => {
    const spy = tokenizing();
    const items = Array<string>(36).fill(atLimit); // 294,912 bytes ≤ 300,000
    expect(validateEmbeddingsRequest({ input: items }, SMALL).inputs).toHaveLength(36);
    expect(spy).not.toHaveBeenCalled();
    const many = Array<string>(37).fill(atLimit); // 303,104 bytes > 300,000 but 50,542 tokens
    const r = validateEmbeddingsRequest({ input: many }, SMALL);
    expect(spy).toHaveBeenCalled();
    expect(r.totalTokens).toBe(37 * 1366);
  });
});

describe("counting: 'estimate'", () => {
  it('skips the tokenizer when bytes prove every limit holds, and says the counts are estimates', () => {
    const r = validateEmbeddingsRequest({ input: ['abcdefgh', 'abc'] }, SMALL, { counting: 'estimate' });
    expect(r).toMatchObject({ perItemTokens: [2, 1], totalTokens: 3, tokensEstimated: true });
    const tokens = validateEmbeddingsRequest({ input: [[5, 6, 7]] }, SMALL, { counting: 'estimate' });
    expect(tokens).toMatchObject({ perItemTokens: [3], totalTokens: 3, tokensEstimated: false });
  });

  it('still enforces every limit exactly when the byte bound does not prove them', () => {
    const opts = { counting: 'estimate' } as const;
    expect(validateEmbeddingsRequest({ input: hellos(8192) }, SMALL, opts)).toMatchObject({
      totalTokens: 8192,
      tokensEstimated: false,
    });
    expect(() => validateEmbeddingsRequest({ input: hellos(8193) }, SMALL, opts)).toThrow(/more than 8,192 tokens/);
    expect(() => validateEmbeddingsRequest({ input: Array(38).fill(hellos(8000)) }, SMALL, opts)).toThrow(
      /more than 300,000 tokens in total/,
    );
  });
});
