/**
 * @module Parsing an HTTP/1.1 request head for lw's own server (`server.ts`), pure. It accepts only the
 * plain shape every API client sends for an inference call: `POST <target> HTTP/1.1`, a Host, a
 * Content-Length, unique header names made of token characters, values of visible characters. Anything
 * else (a chunked or expected body, an upgrade, HTTP/1.0, a repeated header, a character llhttp would
 * refuse) is not parsed here: the caller hands the connection to node:http, which answers it exactly
 * as it always has, errors included.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface RequestHead {
  method: 'POST';
  /** The request target as sent (origin form). */
  url: string;
  /** Lower-case names, as node:http's `req.headers` has them. */
  headers: IncomingHttpHeaders;
  contentLength: number;
  /** False when the client sent `Connection: close`. */
  keepAlive: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** RFC 9110 token characters (header names): 1 = allowed. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

const HTTP11 = Buffer.from(' HTTP/1.1');
const POST = Buffer.from('POST ');
/** The longest Content-Length accepted: 15 digits stay an exact integer. */
const MAX_LENGTH_DIGITS = 15;

/** A header value byte llhttp accepts: HTAB, visible ASCII, space, obs-text. */
function isValueByte(b: number): boolean {
  return b === HTAB || (b >= SP && b !== 0x7f);
}

/** Content-Length's value: digits only, else -1. */
function parseLength(v: string): number {
  if (v.length === 0 || v.length > MAX_LENGTH_DIGITS) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** `Connection`'s options: 1 keep-alive (or nothing), 0 close, -1 anything else (an upgrade, hop-by-hop names). */
function connectionOption(v: string): number {
  let keep = 1;
  for (const part of v.split(',')) {
    const o = part.trim().toLowerCase();
    if (o === 'close') keep = 0;
    else if (o !== 'keep-alive' && o !== '') return -1;
  }
  return keep;
}

/**
 * The head that starts at `start` and whose blank line starts at `end` (`buf.indexOf('\r\n\r\n', start)`),
 * or null when node:http should have the request (see the module comment).
 */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead | null {
  // request line: POST SP target SP HTTP/1.1
  if (end - start < POST.length + 1 + HTTP11.length || buf.compare(POST, 0, POST.length, start, start + POST.length) !== 0) return null;
  let lineEnd = buf.indexOf(CR, start);
  if (lineEnd === -1 || lineEnd > end || buf[lineEnd + 1] !== LF) return null;
  const targetStart = start + POST.length;
  const targetEnd = lineEnd - HTTP11.length;
  if (targetEnd <= targetStart || buf.compare(HTTP11, 0, HTTP11.length, targetEnd, lineEnd) !== 0) return null;
  for (let i = targetStart; i < targetEnd; i++) {
    const b = buf[i]!;
    if (b <= SP || b >= 0x7f) return null;
  }
  const headers: IncomingHttpHeaders = {};
  let contentLength = -1;
  let keepAlive = true;
  let host = false;
  let pos = lineEnd + 2;
  while (pos < end + 2) {
    lineEnd = buf.indexOf(CR, pos);
    if (lineEnd === -1 || buf[lineEnd + 1] !== LF) return null;
    // the name: token characters up to the colon (a leading space would be obs-fold: refused)
    let i = pos;
    for (; i < lineEnd; i++) {
      const b = buf[i]!;
      if (b === COLON) break;
      if (b >= 128 || TOKEN[b] !== 1) return null;
    }
    if (i === pos || i === lineEnd) return null;
    const name = buf.toString('latin1', pos, i).toLowerCase();
    let vs = i + 1;
    let ve = lineEnd;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let j = vs; j < ve; j++) if (!isValueByte(buf[j]!)) return null;
    if (headers[name] !== undefined || name === '__proto__') return null;
    const value = buf.toString('latin1', vs, ve);
    switch (name) {
      case 'content-length':
        contentLength = parseLength(value);
        if (contentLength < 0) return null;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return null;
      case 'connection': {
        const opt = connectionOption(value);
        if (opt < 0) return null;
        keepAlive = opt === 1;
        break;
      }
      case 'host':
        host = true;
        break;
    }
    headers[name] = value;
    pos = lineEnd + 2;
  }
  if (contentLength < 0 || !host) return null;
  return { method: 'POST', url: buf.toString('latin1', targetStart, targetEnd), headers, contentLength, keepAlive };
}
