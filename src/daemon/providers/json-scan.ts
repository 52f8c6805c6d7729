/**
 * @module Byte-level scanning of JSON text, shared by the readers that look at a body without parsing
 * all of it (`json-usage.ts`: a value near the end of an answer; `json-splice.ts`: the top-level
 * members of a request): JSON whitespace, where a string ends, where an object or array ends.
 */

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN = 0x7b;
export const CLOSE = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const COLON = 0x3a;
export const COMMA = 0x2c;
/** Bytes of a string looked at one by one before handing the search to `indexOf` (a native call). */
const INLINE_SCAN = 24;

/** JSON whitespace: space, line feed, carriage return, tab. */
export function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Index of the first non-whitespace byte at or after `i` (JSON whitespace). */
export function skipSpace(raw: Buffer, i: number): number {
  while (i < raw.length && isSpace(raw[i])) i++;
  return i;
}

/**
 * Index just past the string whose opening quote is at `i`, or -1 if it never ends. Short stretches
 * are looked at byte by byte; past that the next quote is found by `indexOf` (native), and after an
 * escaped quote the byte-by-byte look resumes (code in a prompt has one every few dozen bytes).
 */
export function stringEnd(raw: Buffer, i: number): number {
  let j = i + 1;
  for (;;) {
    const inline = Math.min(raw.length, j + INLINE_SCAN);
    for (; j < inline; j++) {
      const b = raw[j]!;
      if (b === BACKSLASH) j++;
      else if (b === QUOTE) return j + 1;
    }
    if (j >= raw.length) return -1;
    // j is not inside an escape: the next quote ends the string unless an odd run of backslashes precedes it
    const q = raw.indexOf(QUOTE, j);
    if (q === -1) return -1;
    let k = q - 1;
    while (raw[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index just past the object or array whose opening bracket is at `i`, or -1. */
export function containerEnd(raw: Buffer, i: number): number {
  let depth = 0;
  while (i < raw.length) {
    const b = raw[i]!;
    if (b === QUOTE) {
      i = stringEnd(raw, i);
      if (i === -1) return -1;
      continue;
    }
    if (b === OPEN || b === OPEN_ARRAY) depth++;
    else if (b === CLOSE || b === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}
