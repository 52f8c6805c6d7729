/**
 * parseRequestHead: the plain POST heads lw's own server takes, and every shape it leaves to node:http
 * (null), so that node:http keeps answering what it answered before, errors included.
 */
import { describe, expect, it } from 'vitest';
import { parseRequestHead } from '../../../src/daemon/http/server/request-head.js';

/** Parses a head given as text (latin1), ending in its blank line. */
function parse(text: string, at = 0) {
  const buf = Buffer.from(text, 'latin1');
  const end = buf.indexOf('\r\n\r\n', at);
  expect(end).toBeGreaterThan(-1);
  return parseRequestHead(buf, at, end);
}

const PLAIN =
  'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nContent-Type: application/json\r\n' +
  'Authorization: Bearer lw-abc\r\nContent-Length: 42\r\n\r\n';

describe('parseRequestHead', () => {
  it('reads a plain POST: target, lower-case names, trimmed values, length, keep-alive', () => {
    const head = parse(PLAIN);
    expect(head).toEqual({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { host: '127.0.0.1:4000', 'content-type': 'application/json', authorization: 'Bearer lw-abc', 'content-length': '42' },
      contentLength: 42,
      keepAlive: true,
    });
  });

  it('starts at an offset (a pipelined request) and keeps query strings and odd spacing', () => {
    const first = PLAIN.replace('42', '2') + '{}';
    const second = 'POST /agent/lw-k/v1/embeddings?x=1 HTTP/1.1\r\nhost:a\r\nx-empty:\r\ncontent-length:\t7 \r\n\r\n';
    const head = parse(first + second, first.length);
    expect(head?.url).toBe('/agent/lw-k/v1/embeddings?x=1');
    expect(head?.headers).toEqual({ host: 'a', 'x-empty': '', 'content-length': '7' });
    expect(head?.contentLength).toBe(7);
  });

  it('keeps obs-text (latin1) in values, as node:http does', () => {
    expect(parse(PLAIN.replace('lw-abc', 'lw-\u00e9'))?.headers.authorization).toBe('Bearer lw-\u00e9');
  });

  it('reads Connection: close and keep-alive, in any case, as option lists', () => {
    expect(parse(PLAIN.replace('Host', 'Connection: Close\r\nHost'))?.keepAlive).toBe(false);
    expect(parse(PLAIN.replace('Host', 'Connection: keep-alive, close\r\nHost'))?.keepAlive).toBe(false);
    expect(parse(PLAIN.replace('Host', 'connection: Keep-Alive\r\nHost'))?.keepAlive).toBe(true);
  });

  it.each([
    ['another method', PLAIN.replace('POST', 'GET')],
    ['a lower-case method', PLAIN.replace('POST', 'post')],
    ['HTTP/1.0', PLAIN.replace('HTTP/1.1', 'HTTP/1.0')],
    ['HTTP/2 in the request line', PLAIN.replace('HTTP/1.1', 'HTTP/2.0')],
    ['an absolute-form target with a space', PLAIN.replace('/v1/chat/completions', '/v1/chat completions')],
    ['a control character in the target', PLAIN.replace('/v1/chat', '/v1/\x01chat')],
    ['a non-ASCII target', PLAIN.replace('/v1/chat', '/v1/\u00e9chat')],
    ['an empty target', PLAIN.replace('/v1/chat/completions', '')],
    ['no Content-Length', PLAIN.replace('Content-Length: 42\r\n', '')],
    ['a signed Content-Length', PLAIN.replace('42', '+42')],
    ['a Content-Length list', PLAIN.replace('42', '42, 42')],
    ['a 16-digit Content-Length', PLAIN.replace('42', '1234567890123456')],
    ['a repeated Content-Length', PLAIN.replace('Host', 'Content-Length: 42\r\nHost')],
    ['Transfer-Encoding', PLAIN.replace('Host', 'Transfer-Encoding: chunked\r\nHost')],
    ['Expect', PLAIN.replace('Host', 'Expect: 100-continue\r\nHost')],
    ['Upgrade', PLAIN.replace('Host', 'Upgrade: websocket\r\nHost')],
    ['Connection: upgrade', PLAIN.replace('Host', 'Connection: upgrade\r\nHost')],
    ['no Host', PLAIN.replace('Host: 127.0.0.1:4000\r\n', '')],
    ['a repeated header', PLAIN.replace('Host', 'Authorization: Bearer other\r\nHost')],
    ['the same name in another case', PLAIN.replace('Host', 'authorization: Bearer other\r\nHost')],
    ['obs-fold (a continuation line)', PLAIN.replace('Host: 127.0.0.1:4000\r\n', 'Host: 127.0.0.1:4000\r\n more\r\n')],
    ['a space before the colon', PLAIN.replace('Host:', 'Host :')],
    ['a non-token name', PLAIN.replace('Host', 'X(y): 1\r\nHost')],
    ['a line without a colon', PLAIN.replace('Host', 'Nonsense\r\nHost')],
    ['a control character in a value', PLAIN.replace('lw-abc', 'lw-\x01abc')],
    ['DEL in a value', PLAIN.replace('lw-abc', 'lw-\x7fabc')],
    ['a bare LF in a value', PLAIN.replace('lw-abc', 'lw-\nabc')],
    ['a bare CR in a value', PLAIN.replace('lw-abc', 'lw-\rabc')],
    ['a __proto__ header', PLAIN.replace('Host', '__proto__: x\r\nHost')],
    ['a leading empty line', '\r\n' + PLAIN],
  ])('leaves %s to node:http', (_, text) => {
    const buf = Buffer.from(text, 'latin1');
    const end = buf.indexOf('\r\n\r\n');
    expect(end === -1 ? null : parseRequestHead(buf, 0, end)).toBeNull();
  });

  it('gives node:http the head it would parse the same way, for every header it refuses', () => {
    // the control: the plain head with each refused header removed again is taken
    expect(parse(PLAIN)).not.toBeNull();
    expect(parse(PLAIN.replace('Host', 'X-Stainless-Lang: js\r\nUser-Agent: OpenAI/JS 4.0\r\nHost'))).not.toBeNull();
  });
});
