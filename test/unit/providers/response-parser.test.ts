/**
 * The upstream client's HTTP/1.1 response parser: every framing (content-length, chunked with
 * extensions and trailers, close-delimited, bodyless), 1xx heads, keep-alive decisions, malformed
 * input, and the same result whatever the split of the bytes into reads.
 */
import { describe, expect, it } from 'vitest';
import { UpstreamTransportError } from '../../../src/daemon/providers/http1/errors.js';
import { ResponseParser } from '../../../src/daemon/providers/http1/response-parser.js';

interface Seen {
  status: number;
  headers: string[];
  body: string;
  bodyEvents: number;
  ended: boolean;
  reusable: boolean | null;
}

function parser(bodyless = false): { p: ResponseParser; seen: Seen } {
  const seen: Seen = { status: 0, headers: [], body: '', bodyEvents: 0, ended: false, reusable: null };
  const p = new ResponseParser(
    {
      head(status, headers) {
        expect(seen.status).toBe(0); // exactly one final head
        seen.status = status;
        seen.headers = headers;
      },
      body(chunk) {
        expect(seen.ended).toBe(false);
        seen.body += chunk.toString('latin1');
        seen.bodyEvents++;
      },
      end(reusable) {
        expect(seen.ended).toBe(false);
        seen.ended = true;
        seen.reusable = reusable;
      },
    },
    bodyless,
  );
  return { p, seen };
}

/** Feeds `raw` in reads cut at the given offsets. */
function feed(raw: string, cuts: number[], bodyless = false): Seen {
  const { p, seen } = parser(bodyless);
  const buf = Buffer.from(raw, 'latin1');
  let from = 0;
  for (const cut of [...cuts, buf.length]) {
    p.execute(buf.subarray(from, cut));
    from = cut;
  }
  return seen;
}

/** The parse of `raw` split into two reads at every position, and into single bytes: all alike. */
function everySplit(raw: string, bodyless = false): Seen {
  const whole = feed(raw, [], bodyless);
  for (let i = 1; i < raw.length; i++) {
    const split = feed(raw, [i], bodyless);
    expect({ ...split, bodyEvents: 0 }, `split at ${i}`).toEqual({ ...whole, bodyEvents: 0 });
  }
  const bytes = feed(
    raw,
    Array.from({ length: raw.length - 1 }, (_, i) => i + 1),
    bodyless,
  );
  expect({ ...bytes, bodyEvents: 0 }).toEqual({ ...whole, bodyEvents: 0 });
  return whole;
}

const CL = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\nX-Thing:  spaced value \r\n\r\n{"a":1}';
const CHUNKED =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
  '6\r\ndata: \r\n' +
  'A;ext=1\r\n{"x":"yz"}\r\n' +
  '2\r\n\n\n\r\n' +
  '0\r\nx-trailer: 1\r\n\r\n';

describe('ResponseParser', () => {
  it('lower-cases names and trims values as String#trim does (tabs, spaces, no-break space), and unfolds lines', () => {
    const { p, seen } = parser();
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\nX-One:\t\xa0a b \x0b\r\nX-Two: c\r\n  d \r\nContent-Length: 2\r\n\r\nok', 'latin1'));
    expect(seen.headers).toEqual(['x-one', 'a b', 'x-two', 'c d', 'content-length', '2']);
    expect(seen.body).toBe('ok');
    expect(() => parser().p.execute(Buffer.from('HTTP/1.1 200 OK\r\nno colon\r\n\r\n'))).toThrow(UpstreamTransportError);
    expect(() => parser().p.execute(Buffer.from('HTTP/1.1 200 OK\r\nX :v\r\n\r\n'))).toThrow(UpstreamTransportError);
    // a colon on a later line does not make a name for this one
    expect(() => parser().p.execute(Buffer.from('HTTP/1.1 200 OK\r\nbare\r\nX-A: b:c\r\n\r\n'))).toThrow(UpstreamTransportError);
  });

  it('reads a content-length body, lower-cases header names, trims values, keeps the connection', () => {
    const seen = everySplit(CL);
    expect(seen).toMatchObject({ status: 200, body: '{"a":1}', ended: true, reusable: true });
    expect(seen.headers).toEqual(['content-type', 'application/json', 'content-length', '7', 'x-thing', 'spaced value']);
  });

  it('decodes chunked bodies with extensions and trailers, whatever the reads', () => {
    const seen = everySplit(CHUNKED);
    expect(seen).toMatchObject({ status: 200, body: 'data: {"x":"yz"}\n\n', ended: true, reusable: true });
  });

  it('joins the chunked frames of one read into one body event (one write downstream)', () => {
    const seen = feed(CHUNKED, []);
    expect(seen.bodyEvents).toBe(1);
  });

  it('hands a single content-length read on without copying', () => {
    const { p } = parser();
    const head = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n');
    const body = Buffer.from('abc');
    let got: Buffer | null = null;
    const q = new ResponseParser({ head() {}, body: (c) => (got = c), end() {} });
    q.execute(head);
    q.execute(body);
    expect(got).toBe(body);
    expect(p.done).toBe(false);
  });

  it('skips 1xx heads and reports the final one', () => {
    const seen = everySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok');
    expect(seen).toMatchObject({ status: 201, body: 'ok', reusable: true, headers: ['content-length', '2'] });
  });

  it('ends bodyless answers at the head: 204, 304 and any answer to HEAD', () => {
    expect(everySplit('HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ status: 204, body: '', ended: true, reusable: true });
    expect(everySplit('HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n')).toMatchObject({ body: '', ended: true });
    expect(everySplit('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n', true)).toMatchObject({ body: '', ended: true, reusable: true });
  });

  it('reads to the close when there is no framing, and never reuses that connection', () => {
    const { p, seen } = parser();
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\npart one,'));
    p.execute(Buffer.from(' part two'));
    expect(seen.ended).toBe(false);
    p.finish();
    expect(seen).toMatchObject({ body: 'part one, part two', ended: true, reusable: false });
  });

  it('treats a transfer-encoding other than chunked as close-delimited', () => {
    const { p, seen } = parser();
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\ncontent-length: 2\r\n\r\nabc'));
    p.finish();
    expect(seen).toMatchObject({ body: 'abc', reusable: false });
  });

  it('honours connection: close, HTTP/1.0 and keep-alive hints', () => {
    expect(feed('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n', [])).toMatchObject({ ended: true, reusable: false });
    expect(feed('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n', [])).toMatchObject({ ended: true, reusable: false });
    expect(feed('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n', [])).toMatchObject({ reusable: true });
    const { p } = parser();
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\nkeep-alive: timeout=5, max=100\r\ncontent-length: 0\r\n\r\n'));
    expect(p.keepAliveHintMs).toBe(5000);
  });

  it('does not reuse a connection that sent bytes past the end of the answer', () => {
    expect(feed('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA', [])).toMatchObject({ body: 'ok', ended: true, reusable: false });
    expect(feed('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nEXTRA', [])).toMatchObject({ ended: true, reusable: false });
    expect(feed('HTTP/1.1 204 No Content\r\n\r\nEXTRA', [])).toMatchObject({ ended: true, reusable: false });
  });

  it('unfolds obsolete line folding into the previous value', () => {
    expect(feed('HTTP/1.1 200 OK\r\nx-long: one\r\n  two\r\ncontent-length: 0\r\n\r\n', []).headers).toEqual(['x-long', 'one two', 'content-length', '0']);
  });

  const bad: Array<[string, string]> = [
    ['not HTTP at all\r\n\r\n', 'bad status line'],
    ['HTTP/2 200\r\n\r\n', 'bad status line'],
    ['HTTP/1.1 20 OK\r\n\r\n', 'bad status line'],
    ['HTTP/1.1 700 Weird\r\n\r\n', 'bad status code'],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', 'protocol switch'],
    ['HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n', 'conflicting content-length'],
    ['HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', 'bad content-length'],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'without a name'],
    ['HTTP/1.1 200 OK\r\nname : value\r\n\r\n', 'whitespace before'],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', 'bad chunk size'],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nabc', 'missing CRLF'],
  ];
  it.each(bad)('refuses %j (%s)', (raw, message) => {
    const { p } = parser();
    let err: unknown;
    try {
      p.execute(Buffer.from(raw, 'latin1'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UpstreamTransportError);
    expect((err as UpstreamTransportError).failure).toBe('protocol');
    expect((err as Error).message).toContain(message);
  });

  it('refuses a header section over 64 KB, even when it arrives in small reads', () => {
    const { p } = parser();
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\n'));
    const line = Buffer.from(`x-big: ${'a'.repeat(1000)}\r\n`);
    expect(() => {
      for (let i = 0; i < 70; i++) p.execute(line);
    }).toThrow(/too large/);
  });

  it('says an answer was cut short when the connection closes mid-body', () => {
    const { p } = parser();
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
    expect(p.inBody).toBe(true);
    expect(() => p.finish()).toThrow(/closed before the response ended/);
    const q = parser().p;
    q.execute(Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab'));
    expect(() => q.finish()).toThrow(UpstreamTransportError);
  });

  it('reports whether any byte has arrived (the retry rule for stale keep-alive connections)', () => {
    const { p } = parser();
    expect(p.started).toBe(false);
    p.execute(Buffer.from('H'));
    expect(p.started).toBe(true);
    expect(p.inBody).toBe(false);
  });
});
