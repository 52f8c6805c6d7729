/**
 * @module Forwarding a client's JSON object body with a few top-level members changed (the upstream
 * model name, `stream_options`, `encoding_format`) without re-serialising the whole body: for coding
 * agents bodies are 10 KB–1 MB and `JSON.stringify` of the parsed body was real CPU. The body is still
 * parsed (validation needs it); this module only locates the top-level members in the bytes and splices.
 *
 * Anything it cannot prove safe returns null and the caller re-serialises as before: bytes that are
 * not valid UTF-8 (`toString('utf8')` would have replaced them), a top-level key written with an escape
 * (`"mod\u0065l"` would hide a member from the byte scan) and a top-level key that occurs twice
 * (`JSON.parse` keeps the last one, an upstream may keep the first or refuse the body).
 */
import { isUtf8 } from 'node:buffer';
import { CLOSE, CLOSE_ARRAY, COLON, COMMA, containerEnd, isSpace, OPEN, OPEN_ARRAY, QUOTE, skipSpace, stringEnd } from './json-scan.js';

interface Member {
  valueStart: number;
  /** Exclusive. */
  valueEnd: number;
}

/** Where the members of a top-level JSON object lie in its bytes. */
export interface ObjectLayout {
  /** In the order they are written. */
  members: Member[];
  /** Index into `members` by key (every key is unescaped and occurs once). */
  byKey: Map<string, number>;
  /** Index of the object's closing brace. */
  close: number;
}

/** `-`, a digit, or the first letter of `true`, `false`, `null`. */
function startsScalar(b: number | undefined): boolean {
  return b === 0x2d || (b !== undefined && b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e;
}

/** A scalar (number, true, false, null) ends at the first delimiter or whitespace. */
function scalarEnd(raw: Buffer, i: number): number {
  if (!startsScalar(raw[i])) return -1;
  let j = i + 1;
  while (j < raw.length) {
    const b = raw[j]!;
    if (b === COMMA || b === CLOSE || b === CLOSE_ARRAY || isSpace(b)) break;
    j++;
  }
  return j;
}

function valueEnd(raw: Buffer, i: number): number {
  const b = raw[i];
  if (b === QUOTE) return stringEnd(raw, i);
  if (b === OPEN || b === OPEN_ARRAY) return containerEnd(raw, i);
  return scalarEnd(raw, i);
}

/**
 * The layout of a body that `JSON.parse` accepted as an object (the scan trusts that for scalars), or
 * null when a splice could not be proved equivalent (see the module comment).
 * @example objectLayout(Buffer.from('{"model":"m","n":1}'))?.byKey // Map { 'model' => 0, 'n' => 1 }
 */
export function objectLayout(raw: Buffer): ObjectLayout | null {
  if (!isUtf8(raw)) return null;
  let i = skipSpace(raw, 0);
  if (raw[i] !== OPEN) return null;
  i = skipSpace(raw, i + 1);
  const members: Member[] = [];
  const byKey = new Map<string, number>();
  if (raw[i] !== CLOSE) {
    for (;;) {
      if (raw[i] !== QUOTE) return null;
      const keyEnd = stringEnd(raw, i);
      if (keyEnd === -1) return null;
      // latin1: one character per byte, so distinct byte strings stay distinct and ASCII names match
      const key = raw.toString('latin1', i + 1, keyEnd - 1);
      if (key.includes('\\') || byKey.has(key)) return null;
      const colon = skipSpace(raw, keyEnd);
      if (raw[colon] !== COLON) return null;
      const valueStart = skipSpace(raw, colon + 1);
      const end = valueEnd(raw, valueStart);
      if (end === -1) return null;
      byKey.set(key, members.length);
      members.push({ valueStart, valueEnd: end });
      i = skipSpace(raw, end);
      if (raw[i] === COMMA) i = skipSpace(raw, i + 1);
      else if (raw[i] === CLOSE) break;
      else return null;
    }
  }
  if (skipSpace(raw, i + 1) !== raw.length) return null;
  return { members, byKey, close: i };
}

/**
 * Top-level members to change: the new value as JSON text (replaced in place, or appended after the
 * last member when the key is absent, as `{ ...body, key: value }` orders it), or null to remove the
 * member (nothing to do when absent).
 */
export type MemberEdits = Readonly<Record<string, string | null>>;

interface Op {
  start: number;
  end: number;
  text: string;
}

/**
 * `raw` with `edits` applied, as one Buffer; null when an edit is not supported (removing the first
 * member, whose comma follows it).
 */
export function spliceMembers(raw: Buffer, layout: ObjectLayout, edits: MemberEdits): Buffer | null {
  const { members } = layout;
  const ops: Op[] = [];
  let appended = '';
  for (const key of Object.keys(edits)) {
    const value = edits[key]!;
    const at = layout.byKey.get(key);
    if (at === undefined) {
      const comma = appended || members.length > 0 ? ',' : '';
      if (value !== null) appended += `${comma}${JSON.stringify(key)}:${value}`;
      continue;
    }
    const m = members[at]!;
    if (value !== null) ops.push({ start: m.valueStart, end: m.valueEnd, text: value });
    else if (at === 0) return null;
    else ops.push({ start: members[at - 1]!.valueEnd, end: m.valueEnd, text: '' });
  }
  if (appended) {
    const at = members.length > 0 ? members[members.length - 1]!.valueEnd : layout.close;
    ops.push({ start: at, end: at, text: appended });
  }
  ops.sort((a, b) => a.start - b.start);
  const parts: Buffer[] = [];
  let pos = 0;
  for (const op of ops) {
    if (op.start < pos) return null;
    parts.push(raw.subarray(pos, op.start));
    if (op.text) parts.push(Buffer.from(op.text, 'utf8'));
    pos = op.end;
  }
  parts.push(raw.subarray(pos));
  return Buffer.concat(parts);
}

/**
 * A client's JSON object body kept as bytes, to forward with a few top-level members changed; the
 * layout is scanned once, on first use, and reused by every attempt of the request.
 */
export class RawJsonObject {
  private layout: ObjectLayout | null | undefined;

  constructor(readonly bytes: Buffer) {}

  /** The body with `edits` applied, or null when that cannot be proved equivalent (re-serialise instead). */
  with(edits: MemberEdits): Buffer | null {
    if (this.layout === undefined) this.layout = objectLayout(this.bytes);
    return this.layout ? spliceMembers(this.bytes, this.layout, edits) : null;
  }
}
