/**
 * @module `encoding_format: "base64"` for embeddings: the vector as little-endian float32 bytes in base64,
 * exactly what OpenAI returns (its SDKs decode it as a Float32Array). Used when an upstream lacks base64.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Encodes a vector as OpenAI's base64 embedding (each value rounded to float32).
 * @example floatsToBase64([1, -2]) // 'AACAPwAAAMA='
 */
export function floatsToBase64(values: ArrayLike<number>): string {
  const floats = Float32Array.from(values);
  if (!LITTLE_ENDIAN) {
    const view = new DataView(floats.buffer);
    for (let i = 0; i < floats.length; i++) view.setFloat32(i * 4, floats[i]!, true);
  }
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

/**
 * Decodes an OpenAI base64 embedding back to numbers.
 * @throws RangeError when the text is not base64 of a whole number of float32 values.
 * @example base64ToFloats('AACAPwAAAMA=') // [1, -2]
 */
export function base64ToFloats(encoded: string): number[] {
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
    throw new RangeError('not a base64 string (RFC 4648, padded)');
  }
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length % 4 !== 0) {
    throw new RangeError(`${bytes.length} bytes is not a whole number of float32 values`);
  }
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
