/**
 * @module An incremental HTTP/1.1 response parser for the upstream client: status line and headers,
 * then the body framed by `transfer-encoding: chunked`, `content-length` or the connection's close
 * (RFC 9112 §6.3). Pure: bytes in, events out, no sockets. The bytes of one `execute` call leave in at
 * most one `body` event (the pieces of several chunked frames are joined), so a relay writes one read
 * as one write. Anything malformed throws an `UpstreamTransportError` of kind `protocol`.
 */
import { UpstreamTransportError } from './errors.js';

/** What the parser reports, in order: `head` once, `body` any number of times, `end` once. */
export interface ResponseEvents {
  /** The final (non-1xx) status and the headers as a flat list: lower-case name, value, name, value… */
  head(status: number, headers: string[]): void;
  body(chunk: Buffer): void;
  /**
   * The message is complete. `reusable`: the connection may carry another request (keep-alive, framed
   * body, no stray bytes after the message).
   */
  end(reusable: boolean): void;
}

const enum State {
  Head,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 4096;
const STATUS_LINE = /^HTTP\/1\.[01] \d{3}(?: |$)/;

function protocolError(message: string): UpstreamTransportError {
  return new UpstreamTransportError('protocol', `invalid HTTP response: ${message}`);
}

export class ResponseParser {
  private state = State.Head;
  /** Head bytes (or a chunk-size / trailer line) split across reads. */
  private pending: Buffer | null = null;
  private remaining = 0;
  private keepAlive = true;
  private sawBytes = false;
  /** `keep-alive: timeout=N` of the answer, in ms; 0 when absent. */
  keepAliveHintMs = 0;
  status = 0;

  /** `bodyless`: the request was HEAD, so no answer has a body. */
  constructor(
    private readonly events: ResponseEvents,
    private readonly bodyless = false,
  ) {}

  /** True once any byte of the answer has arrived. */
  get started(): boolean {
    return this.sawBytes;
  }

  /** True once the final head has been delivered and before the message ends. */
  get inBody(): boolean {
    return this.state !== State.Head && this.state !== State.Done;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Feeds bytes read from the connection. */
  execute(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.sawBytes = true;
    if (this.state === State.Done) {
      throw protocolError('bytes after the end of the response');
    }
    let data = chunk;
    let at = 0;
    if (this.state === State.Head) {
      if (this.pending) {
        data = Buffer.concat([this.pending, chunk]);
        this.pending = null;
      }
      at = this.readHeads(data);
      if (at < 0) return;
    }
    this.readBody(data, at);
  }

  /**
   * The connection closed (or the reader gave up) with no more bytes: completes a body framed by the
   * close, else throws because the answer was cut short.
   */
  finish(): void {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      this.events.end(false);
      return;
    }
    if (this.state !== State.Done) throw protocolError('the connection closed before the response ended');
  }

  /** Parses heads from `data` until the final one; returns where its body starts, or −1 for more bytes. */
  private readHeads(data: Buffer): number {
    let from = 0;
    for (;;) {
      const end = data.indexOf(CRLF_CRLF, from);
      if (end < 0) {
        if (data.length - from > MAX_HEAD_BYTES) throw protocolError('the header section is too large');
        this.pending = from === 0 ? data : data.subarray(from);
        return -1;
      }
      if (end - from > MAX_HEAD_BYTES) throw protocolError('the header section is too large');
      const status = this.parseHead(data.toString('latin1', from, end));
      from = end + 4;
      if (status >= 200) return from;
      if (from >= data.length) return -1; // a 1xx alone in this read: the final head follows
    }
  }

  /** One head: returns its status; for the final head, sets the framing and emits `head`. */
  private parseHead(text: string): number {
    // lines are found by index, not split into an array: each header costs a slice for its name and value
    let lineEnd = text.indexOf('\r\n');
    if (lineEnd === -1) lineEnd = text.length;
    const statusLine = text.slice(0, lineEnd);
    if (!STATUS_LINE.test(statusLine)) throw protocolError(`bad status line ${JSON.stringify(statusLine.slice(0, 40))}`);
    const status = Number(statusLine.slice(9, 12));
    if (status < 100 || status > 599) throw protocolError('bad status code');
    if (status === 101) throw protocolError('unexpected protocol switch');
    if (status < 200) return status;

    const http10 = statusLine.charCodeAt(7) === 0x30;
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let otherCoding = false;
    let connection = '';
    for (let pos = lineEnd + 2; pos < text.length; pos = lineEnd + 2) {
      lineEnd = text.indexOf('\r\n', pos);
      if (lineEnd === -1) lineEnd = text.length;
      const c0 = text.charCodeAt(pos);
      if (c0 === 0x20 || c0 === 0x09) {
        // obsolete line folding: continues the previous value
        if (headers.length === 0) throw protocolError('a folded line before any header');
        headers[headers.length - 1] += ` ${text.slice(pos, lineEnd).trim()}`;
        continue;
      }
      const colon = text.indexOf(':', pos);
      if (colon <= pos || colon > lineEnd) throw protocolError('a header line without a name');
      if (text.charCodeAt(colon - 1) <= 0x20) throw protocolError('whitespace before a header colon');
      const name = text.slice(pos, colon).toLowerCase();
      const value = text.slice(colon + 1, lineEnd).trim();
      headers.push(name, value);
      switch (name) {
        case 'content-length': {
          if (!/^\d{1,15}$/.test(value)) throw protocolError('bad content-length');
          const n = Number(value);
          if (contentLength !== -1 && contentLength !== n) throw protocolError('conflicting content-length headers');
          contentLength = n;
          break;
        }
        case 'transfer-encoding': {
          const codings = value.toLowerCase().split(',');
          const last = codings[codings.length - 1]!.trim();
          chunked = last === 'chunked';
          otherCoding = !chunked;
          break;
        }
        case 'connection':
          connection += `${value.toLowerCase()},`;
          break;
        case 'keep-alive': {
          const m = /timeout\s*=\s*(\d+)/i.exec(value);
          if (m) this.keepAliveHintMs = Number(m[1]) * 1000;
          break;
        }
      }
    }
    this.keepAlive = http10 ? connection.includes('keep-alive') : !connection.includes('close');
    this.status = status;
    if (this.bodyless || status === 204 || status === 304) this.state = State.Done;
    else if (chunked) this.state = State.ChunkSize;
    else if (otherCoding) {
      this.state = State.UntilClose;
      this.keepAlive = false;
    } else if (contentLength >= 0) {
      this.state = contentLength === 0 ? State.Done : State.Fixed;
      this.remaining = contentLength;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
    this.events.head(status, headers);
    return status;
  }

  /** Body bytes of `data` from `at`: one `body` event for what this read carried, `end` when complete. */
  private readBody(data: Buffer, at: number): void {
    if (this.state === State.Done) {
      // a bodyless answer; bytes after it mean the connection cannot be trusted with another request
      this.events.end(this.keepAlive && at >= data.length);
      return;
    }
    if (this.state === State.Fixed) {
      const avail = data.length - at;
      if (avail <= 0) return;
      const take = Math.min(avail, this.remaining);
      this.remaining -= take;
      this.events.body(at === 0 && take === data.length ? data : data.subarray(at, at + take));
      if (this.remaining > 0) return;
      this.state = State.Done;
      this.events.end(this.keepAlive && take === avail);
      return;
    }
    if (this.state === State.UntilClose) {
      if (at < data.length) this.events.body(at === 0 ? data : data.subarray(at));
      return;
    }
    this.readChunked(data, at);
  }

  private readChunked(data: Buffer, at: number): void {
    let pieces: Buffer[] | null = null;
    let one: Buffer | null = null;
    const take = (piece: Buffer): void => {
      if (one === null) one = piece;
      else (pieces ??= [one]).push(piece);
    };
    let i = at;
    while (i < data.length && this.state !== State.Done) {
      switch (this.state) {
        case State.ChunkSize: {
          const line = this.line(data, i);
          if (line === null) {
            i = data.length;
            break;
          }
          i = line.next;
          const semi = line.text.indexOf(';');
          const hex = (semi === -1 ? line.text : line.text.slice(0, semi)).trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw protocolError('bad chunk size');
          this.remaining = parseInt(hex, 16);
          this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, data.length - i);
          take(data.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // the CRLF after a chunk's data, possibly split across reads
          const want = this.remaining === 2 ? 0x0d : 0x0a;
          if (data[i] !== want) throw protocolError('missing CRLF after chunk data');
          i++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const line = this.line(data, i);
          if (line === null) {
            i = data.length;
            break;
          }
          i = line.next;
          if (line.text.length === 0) this.state = State.Done;
          break;
        }
        default:
          throw protocolError('internal parser state');
      }
    }
    const out = pieces ? Buffer.concat(pieces) : one;
    if (out !== null) this.events.body(out);
    if (this.state === State.Done) this.events.end(this.keepAlive && i >= data.length);
  }

  /** A CRLF-terminated line from `i` (joined with bytes held from earlier reads), or null until it ends. */
  private line(data: Buffer, i: number): { text: string; next: number } | null {
    const lf = data.indexOf(0x0a, i);
    if (lf < 0) {
      const rest = data.subarray(i);
      this.pending = this.pending ? Buffer.concat([this.pending, rest]) : Buffer.from(rest);
      if (this.pending.length > MAX_CHUNK_LINE) throw protocolError('a chunk line is too long');
      return null;
    }
    let bytes = data.subarray(i, lf);
    if (this.pending) {
      bytes = Buffer.concat([this.pending, bytes]);
      this.pending = null;
    }
    if (bytes.length > MAX_CHUNK_LINE) throw protocolError('a chunk line is too long');
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return { text: bytes.toString('latin1', 0, end), next: lf + 1 };
  }
}
