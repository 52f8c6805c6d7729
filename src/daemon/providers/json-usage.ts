/**
 * @module Reading top-level values (`usage`, the embeddings `model`) out of a non-stream JSON answer without parsing the whole answer: the
 * passthrough relays the upstream's bytes untouched and only needs the token counts, which OpenAI
 * and compatible servers put near the end (`…,"usage":{…},"system_fingerprint":…}`). The tail is
 * scanned from the last `"usage":` key; when that key is provably the top-level one its object alone
 * is parsed. Anything unusual returns `undefined` and the caller parses the whole answer.
 */

import { BACKSLASH, CLOSE, CLOSE_ARRAY, COLON, containerEnd, OPEN, OPEN_ARRAY, QUOTE, skipSpace, stringEnd } from './json-scan.js';

const KEY = Buffer.from('"usage"');

/**
 * Scans from `i` to the end tracking nesting; returns the depth change and where it first went
 * negative (relative to `i`), or null on an unterminated string.
 */
function scanTail(raw: Buffer, i: number): { lowest: number; lowestAt: number } | null {
  let depth = 0;
  let lowest = 0;
  let lowestAt = -1;
  while (i < raw.length) {
    const b = raw[i]!;
    if (b === QUOTE) {
      i = stringEnd(raw, i);
      if (i === -1) return null;
      continue;
    }
    if (b === OPEN || b === OPEN_ARRAY) depth++;
    else if (b === CLOSE || b === CLOSE_ARRAY) {
      depth--;
      if (depth < lowest) {
        lowest = depth;
        lowestAt = i;
      }
    }
    i++;
  }
  return { lowest, lowestAt };
}

/**
 * Where the value of the last `key` (a quoted key such as `"usage"`) lies in a JSON object answer,
 * when that key is provably a top-level one (after its value the nesting closes exactly once, on the
 * answer's final brace); undefined otherwise. Values may be objects, arrays, strings or `null`.
 */
export function topLevelValue(raw: Buffer, key: Buffer): { start: number; end: number } | undefined {
  const at = raw.lastIndexOf(key);
  if (at === -1) return undefined;
  // a quoted key in the bytes is a whole key or string value (quotes inside strings are escaped), unless
  // its opening quote is one of those escaped ones (`"x\"usage":`): then it cannot be told cheaply
  if (raw[at - 1] === BACKSLASH) return undefined;
  let i = skipSpace(raw, at + key.length);
  if (raw[i] !== COLON) return undefined;
  i = skipSpace(raw, i + 1);
  let end: number;
  const first = raw[i];
  if (first === OPEN || first === OPEN_ARRAY) end = containerEnd(raw, i);
  else if (first === QUOTE) end = stringEnd(raw, i);
  else if (raw.subarray(i, i + 4).toString('latin1') === 'null') end = i + 4;
  else return undefined;
  if (end === -1) return undefined;
  const tail = scanTail(raw, end);
  if (!tail || tail.lowest !== -1 || raw[tail.lowestAt] !== CLOSE) return undefined;
  if (skipSpace(raw, tail.lowestAt + 1) !== raw.length) return undefined;
  return { start: i, end };
}

/**
 * The top-level `usage` object of a JSON object answer: the object, `null` when the answer has
 * `"usage": null`, or `undefined` when it cannot be told cheaply (no such key near the end, a nested
 * `usage` last, or malformed bytes): then parse the whole answer.
 * @example usageFromTail(Buffer.from('{"id":"x","usage":{"prompt_tokens":3}}')) // { prompt_tokens: 3 }
 */
export function usageFromTail(raw: Buffer): Record<string, unknown> | null | undefined {
  const span = topLevelValue(raw, KEY);
  if (!span) return undefined;
  const first = raw[span.start];
  if (first === OPEN_ARRAY || first === QUOTE) return undefined;
  if (first !== OPEN) return null;
  try {
    const v: unknown = JSON.parse(raw.subarray(span.start, span.end).toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
