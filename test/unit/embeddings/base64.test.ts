/** @module base64 embeddings are OpenAI's encoding: little-endian float32 bytes, base64 with padding. */
import { describe, expect, it } from 'vitest';
import { base64ToFloats, floatsToBase64 } from '../../../src/daemon/embeddings/base64.js';

/** The expected encoding built byte by byte, independently of the code under test. */
function referenceEncoding(values: number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

describe('floatsToBase64', () => {
  it('encodes 1 and -2 as the bytes 00 00 80 3f, 00 00 00 c0', () => {
    expect(Buffer.from(floatsToBase64([1, -2]), 'base64')).toEqual(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]));
    expect(floatsToBase64([1, -2])).toBe('AACAPwAAAMA=');
  });

  it("matches the byte-by-byte encoding of seed 002's example vector", () => {
    const vector = [0.0023064255, -0.009327292, 0.015462338];
    expect(floatsToBase64(vector)).toBe(referenceEncoding(vector));
  });

  it('encodes an empty vector as an empty string', () => {
    expect(floatsToBase64([])).toBe('');
  });
});

describe('base64ToFloats', () => {
  it('round-trips a 1,536-dimension vector at float32 precision', () => {
    const vector = Array.from({ length: 1536 }, (_, i) => Math.sin(i * 0.37) / 7);
    const encoded = floatsToBase64(vector);
    expect(encoded).toBe(referenceEncoding(vector));
    expect(encoded).toHaveLength(Math.ceil((1536 * 4) / 3) * 4);
    expect(base64ToFloats(encoded)).toEqual(vector.map((v) => Math.fround(v)));
  });

  it('decodes what OpenAI sends', () => {
    expect(base64ToFloats('AACAPwAAAMA=')).toEqual([1, -2]);
    expect(base64ToFloats('')).toEqual([]);
  });

  it.each(['abc', 'AAA=', 'AA!A', 'AACAPwAAAMA'])('rejects %j', (text) => {
    expect(() => base64ToFloats(text)).toThrow(RangeError);
  });
});
