/**
 * @module Exact BPE token counts for o200k_base and cl100k_base, equal to gpt-tokenizer's `countTokens` /
 * `isWithinTokenLimit` with special tokens treated as ordinary text (`disallowedSpecial: new Set()`), at a
 * fraction of its memory. The ranks come from the tiktoken files gpt-tokenizer ships (`bpe-table.ts`), read
 * on the first count of each encoding, never by importing this module.
 *
 * Per pre-token (gpt-tokenizer's split regexes): its UTF-8 bytes, one token when they are one (the whole-piece
 * lookup tiktoken does first), else tiktoken's merge — repeatedly join the adjacent pair of parts whose bytes
 * are the lowest-ranked token, leftmost first on ties — done in O(n log n) with a linked list of parts and a
 * binary min-heap of candidate pairs keyed by (rank, start), stale entries skipped when popped, so a run of
 * 40,000 letters costs milliseconds, not the seconds of the quadratic textbook loop. Every token of both
 * vocabularies merges back from its own bytes (checked once by a script over all 300k, not by the tests), so
 * the whole-piece lookup only saves a merge; the leftmost tie-break is what the counts depend on.
 *
 * One deliberate difference: gpt-tokenizer looks pairs up by decoding them with a TextDecoder that drops a
 * leading BOM, so it never finds the tokens whose bytes start with U+FEFF (EF BB BF) and counts `'\uFEFF'` as
 * 2 tokens; here those tokens are found like any other (`'\uFEFF'` is 1).
 */
import { createRequire } from 'node:module';
import { loadRankTable, rankOf, type RankTable } from './bpe-table.js';

export type BpeEncoding = 'o200k_base' | 'cl100k_base';

/*
 * The pre-tokenizers, copied from gpt-tokenizer 3.4.0 (`src/encodingParams/constants.ts`:
 * `CL100K_TOKEN_SPLIT_REGEX`, `O200K_TOKEN_SPLIT_REGEX`); test/unit/usage/bpe.test.ts asserts they still equal
 * the installed package's.
 */
const CONTRACTION = String.raw`'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])`;
const CL100K_PATTERN = String.raw`${CONTRACTION}|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+$|\s*[\r\n]|\s+(?!\S)|\s`;
const O200K_PATTERN =
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:${CONTRACTION})?` +
  String.raw`|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:${CONTRACTION})?` +
  String.raw`|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

/** The split regexes (global, Unicode), exported for the test that compares them with gpt-tokenizer's. */
export const SPLIT_REGEX: Readonly<Record<BpeEncoding, RegExp>> = {
  o200k_base: new RegExp(O200K_PATTERN, 'gu'),
  cl100k_base: new RegExp(CL100K_PATTERN, 'gu'),
};

const tables: Partial<Record<BpeEncoding, RankTable>> = {};

/** The encoding's rank table, read from gpt-tokenizer's data file on first use (synchronously, then kept). */
function tableOf(encoding: BpeEncoding): RankTable {
  return (tables[encoding] ??= loadRankTable(
    createRequire(import.meta.url).resolve(`gpt-tokenizer/data/${encoding}.tiktoken`),
  ));
}

/** Encodings whose table has been loaded (for tests that check loading stays lazy). */
export function loadedEncodings(): BpeEncoding[] {
  return (Object.keys(tables) as BpeEncoding[]).sort();
}

/**
 * Working memory of the merge for pieces of up to `bytes` bytes: the linked list of parts (`next[s]` is where
 * the part starting at byte `s` ends, -1 once it is merged into its left neighbour; `prev[s]` the start of the
 * part before it) and the heap of candidate pairs (rank, start of the left part, end of the right part). A
 * pair is stale when its left part is gone or no longer ends where its right part starts. The heap holds at
 * most 2n entries: n - 1 pairs at first, then each merge pops at least one and pushes at most two.
 */
class MergeSpace {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly heapRank: Int32Array;
  readonly heapStart: Int32Array;
  readonly heapEnd: Int32Array;

  constructor(bytes: number) {
    this.next = new Int32Array(bytes);
    this.prev = new Int32Array(bytes);
    this.heapRank = new Int32Array(2 * bytes);
    this.heapStart = new Int32Array(2 * bytes);
    this.heapEnd = new Int32Array(2 * bytes);
  }
}

/** Pieces up to this many bytes reuse one buffer and merge space (~66 KB); longer ones get their own. */
const KEPT_BYTES = 2048;
const keptBytes = new Uint8Array(KEPT_BYTES);
const keptSpace = new MergeSpace(KEPT_BYTES);
const utf8 = new TextEncoder();

/** Heap order: lower rank first, then the leftmost pair (tiktoken's tie-break). */
function before(s: MergeSpace, a: number, b: number): boolean {
  const ra = s.heapRank[a]!;
  const rb = s.heapRank[b]!;
  return ra < rb || (ra === rb && s.heapStart[a]! < s.heapStart[b]!);
}

function swap(s: MergeSpace, a: number, b: number): void {
  const r = s.heapRank[a]!;
  const st = s.heapStart[a]!;
  const e = s.heapEnd[a]!;
  s.heapRank[a] = s.heapRank[b]!;
  s.heapStart[a] = s.heapStart[b]!;
  s.heapEnd[a] = s.heapEnd[b]!;
  s.heapRank[b] = r;
  s.heapStart[b] = st;
  s.heapEnd[b] = e;
}

/** Pushes the pair `bytes[start … end - 1]` when it is a token; returns the new heap size. */
function pushPair(table: RankTable, bytes: Uint8Array, s: MergeSpace, size: number, start: number, end: number): number {
  const rank = rankOf(table, bytes, start, end);
  if (rank < 0) return size;
  let i = size;
  s.heapRank[i] = rank;
  s.heapStart[i] = start;
  s.heapEnd[i] = end;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(s, i, parent)) break;
    swap(s, i, parent);
    i = parent;
  }
  return size + 1;
}

/** Moves the last entry to the root and sifts it down; the caller has read the root. Returns the new size. */
function popRoot(s: MergeSpace, size: number): number {
  const last = size - 1;
  if (last > 0) swap(s, 0, last);
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= last) break;
    const right = left + 1;
    const child = right < last && before(s, right, left) ? right : left;
    if (!before(s, child, i)) break;
    swap(s, i, child);
    i = child;
  }
  return last;
}

/** Tokens of `bytes[0 … n - 1]` by tiktoken's merge (the whole piece is known not to be one token). */
function mergeCount(table: RankTable, bytes: Uint8Array, n: number): number {
  const s = n <= KEPT_BYTES ? keptSpace : new MergeSpace(n);
  const { next, prev } = s;
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  let size = 0;
  for (let i = 0; i + 1 < n; i++) size = pushPair(table, bytes, s, size, i, i + 2);
  let parts = n;
  while (size > 0) {
    const start = s.heapStart[0]!;
    const end = s.heapEnd[0]!;
    size = popRoot(s, size);
    const mid = next[start]!;
    if (mid < 0 || mid >= n || next[mid] !== end) continue; // stale: a part of this pair has changed
    next[start] = end;
    next[mid] = -1;
    if (end < n) {
      prev[end] = start;
      size = pushPair(table, bytes, s, size, start, next[end]!);
    }
    const left = prev[start]!;
    if (left >= 0) size = pushPair(table, bytes, s, size, left, end);
    parts--;
  }
  return parts;
}

/**
 * Tokens of one pre-token, or some number above `atMost` when they are more than that: a piece of n bytes is
 * at least n / (the longest token's bytes) tokens, so a huge piece past the limit is not merged at all.
 */
function countPiece(table: RankTable, piece: string, atMost: number): number {
  const bytes = piece.length * 3 <= KEPT_BYTES ? keptBytes : new Uint8Array(Buffer.byteLength(piece, 'utf8'));
  const n = utf8.encodeInto(piece, bytes).written;
  if (n <= 1) return n;
  if (rankOf(table, bytes, 0, n) >= 0) return 1;
  if (Math.ceil(n / table.longest) > atMost) return atMost + 1;
  return mergeCount(table, bytes, n);
}

/** Tokens of `text`, or -1 as soon as they pass `limit`. */
function count(encoding: BpeEncoding, text: string, limit: number): number {
  const table = tableOf(encoding);
  const split = SPLIT_REGEX[encoding];
  let total = 0;
  split.lastIndex = 0;
  for (let m = split.exec(text); m !== null; m = split.exec(text)) {
    total += countPiece(table, m[0], limit - total);
    if (total > limit) {
      split.lastIndex = 0;
      return -1;
    }
  }
  return total;
}

/**
 * Tokens of `text` in `encoding`, special-token text (`<|endoftext|>`) counted as ordinary text.
 * Loads the encoding's table on first use.
 * @example countTokens('o200k_base', 'Hello, world!') // 4
 */
export function countTokens(encoding: BpeEncoding, text: string): number {
  return count(encoding, text, Infinity);
}

/**
 * The tokens of `text` when they are at most `limit`, else false — decided as soon as the count passes
 * `limit` (gpt-tokenizer's `isWithinTokenLimit`).
 * @example countTokensWithin('cl100k_base', 'Hello, world!', 3) // false
 */
export function countTokensWithin(encoding: BpeEncoding, text: string, limit: number): number | false {
  const n = count(encoding, text, limit);
  return n < 0 ? false : n;
}
