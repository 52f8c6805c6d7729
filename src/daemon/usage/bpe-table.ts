/**
 * @module A BPE rank table in typed arrays, read from a tiktoken file (`<base64 of the token's bytes> <rank>`
 * per line): every token's bytes back to back in one Uint8Array, where each starts in a Uint32Array (indexed
 * by rank), and an open-addressing hash table (FNV-1a, linear probing, power-of-two size) from bytes to rank.
 * No object or string per token: o200k_base's 200k tokens take 4.3 MB and cl100k_base's 100k 2.1 MB, where
 * gpt-tokenizer's Maps of strings for o200k take ~16 MB of heap and ~25–50 MB of RSS.
 */
import { readFileSync } from 'node:fs';

export interface RankTable {
  /** Every token's bytes, in rank order. */
  readonly bytes: Uint8Array;
  /** Token `r` is `bytes[starts[r]] … bytes[starts[r + 1] - 1]` (one more entry than there are tokens). */
  readonly starts: Uint32Array;
  /** Rank + 1 of the token hashed here, 0 for an empty slot. */
  readonly slots: Int32Array;
  /** `slots.length - 1`. */
  readonly mask: number;
  /** Bytes of the longest token (128 in o200k_base and cl100k_base). */
  readonly longest: number;
}

/** Base64 digit values by character code; -1 for anything else (`=` ends a token). */
const BASE64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  BASE64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** FNV-1a over `buf[start … end - 1]`, its high bits folded into the low ones (the table indexes by the low bits). */
function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h ^ (h >>> 15);
}

/**
 * Reads a tiktoken file into a `RankTable`. Ranks must be 0, 1, 2, … in file order (true of every tiktoken
 * file gpt-tokenizer ships; anything else throws rather than build a wrong table).
 */
export function loadRankTable(path: string): RankTable {
  const file = readFileSync(path);
  // Base64 is 4 characters per 3 bytes: the file's size bounds the decoded bytes.
  const out = new Uint8Array(Math.ceil((file.length * 3) / 4));
  const startsList: number[] = [];
  let written = 0;
  let i = 0;
  while (i < file.length) {
    if (file[i] === NEWLINE) {
      i++;
      continue;
    }
    startsList.push(written);
    let acc = 0;
    let bits = 0;
    for (; i < file.length && file[i] !== SPACE; i++) {
      const c = file[i]!;
      if (c === 0x3d) continue; // '=' padding
      const v = c < 128 ? BASE64[c]! : -1;
      if (v < 0) throw new Error(`${path}: not base64 at byte ${i}`);
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[written++] = (acc >>> bits) & 0xff;
      }
    }
    let rank = 0;
    let digits = 0;
    for (i++; i < file.length && file[i] !== NEWLINE; i++, digits++) rank = rank * 10 + file[i]! - 0x30;
    if (digits === 0 || rank !== startsList.length - 1) {
      throw new Error(`${path}: token ${startsList.length - 1} has rank ${digits ? rank : 'none'}; ranks must be 0, 1, 2, …`);
    }
  }
  const count = startsList.length;
  const starts = new Uint32Array(count + 1);
  starts.set(startsList);
  starts[count] = written;
  const bytes = out.slice(0, written);
  // Load factor at most 1/2 (o200k: 2^19 slots for 200k tokens), so probes stay short.
  let size = 1;
  while (size < count * 2) size *= 2;
  const slots = new Int32Array(size);
  let longest = 1;
  for (let rank = 0; rank < count; rank++) longest = Math.max(longest, starts[rank + 1]! - starts[rank]!);
  const table: RankTable = { bytes, starts, slots, mask: size - 1, longest };
  for (let rank = 0; rank < count; rank++) {
    const from = starts[rank]!;
    const to = starts[rank + 1]!;
    if (rankOf(table, bytes, from, to) >= 0) throw new Error(`${path}: token ${rank} is listed twice`);
    let slot = hashBytes(bytes, from, to) & table.mask;
    while (slots[slot] !== 0) slot = (slot + 1) & table.mask;
    slots[slot] = rank + 1;
  }
  return table;
}

/** The rank of the token whose bytes are `buf[start … end - 1]`, or -1 when no token has them. */
export function rankOf(table: RankTable, buf: Uint8Array, start: number, end: number): number {
  const { bytes, starts, slots, mask } = table;
  const length = end - start;
  let slot = hashBytes(buf, start, end) & mask;
  for (;;) {
    const entry = slots[slot]!;
    if (entry === 0) return -1;
    const rank = entry - 1;
    const from = starts[rank]!;
    if (starts[rank + 1]! - from === length) {
      let k = 0;
      while (k < length && bytes[from + k] === buf[start + k]) k++;
      if (k === length) return rank;
    }
    slot = (slot + 1) & mask;
  }
}
