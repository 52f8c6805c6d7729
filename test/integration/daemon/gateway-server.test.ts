/**
 * lw's own HTTP/1.1 server (`GatewayServer`) with a stub listener, driven by fetch and raw TCP: the
 * requests it serves itself (whole bodies, keep-alive, pipelining, bytes split anywhere, chunked
 * answers, client aborts, Connection: close), every request it hands to node:http with the bytes
 * already read (other routes and methods, chunked or expected bodies, HTTP/1.0, oversized or malformed
 * heads and bodies), and its deadlines and drain.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody, sendJson } from '../../../src/daemon/http/respond.js';
import { FastRequest, type GatewayRequest } from '../../../src/daemon/http/server/connection.js';
import type { GatewayResponse } from '../../../src/daemon/http/server/response.js';
import { GatewayServer, type GatewayListener } from '../../../src/daemon/http/server/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  closedEarly: number;
  threw: number;
}

/**
 * Echoes what it got and which server read it; `/stream` sends three chunks 30 ms apart (with non-ASCII
 * text when the URL says `utf8`); `/fast/parts?n=N` answers `{"a":"x…x"}` (N x's) given as three Buffers.
 */
function stubListener(seen: Seen, maxBody = 1024 * 1024): GatewayListener {
  const listener = (req: GatewayRequest, res: GatewayResponse): void => {
    const own = req instanceof FastRequest;
    res.on('close', () => {
      if (!res.writableFinished) seen.closedEarly++;
    });
    if (req.url?.startsWith('/stream')) {
      res.writeHead(200, ['content-type', 'text/event-stream']);
      res.flushHeaders();
      void (async () => {
        for (let i = 0; i < 3; i++) {
          await sleep(30);
          if (res.destroyed) return;
          res.write(req.url?.includes('utf8') ? `data: ${i} é✓\n\n` : `data: ${i}\n\n`);
        }
        res.end();
      })();
      return;
    }
    if (req.url?.startsWith('/fast/parts')) {
      const n = Number(new URL(req.url, 'http://x').searchParams.get('n'));
      sendJson(res, 200, [Buffer.from('{"a":"'), Buffer.from('x'.repeat(n)), Buffer.from('"}')], []);
      return;
    }
    if (req.url?.startsWith('/bad-header')) {
      try {
        res.writeHead(200, ['x-bad', 'a\r\nb']);
      } catch {
        seen.threw++;
        sendJson(res, 500, '{"error":"bad header"}', []);
      }
      return;
    }
    readBody(req, maxBody).then(
      (body) => sendJson(res, 200, JSON.stringify({ own, method: req.method, url: req.url, body: body.toString('utf8'), headers: req.headers }), []),
      () => sendJson(res, 413, '{"error":"too large"}', []),
    );
  };
  return Object.assign(listener, { fastPath: (url: string) => url.startsWith('/fast') || url.startsWith('/stream') || url.startsWith('/bad-header') });
}

/** Writes `text` on a new connection and collects everything until the server closes it. */
function rawExchange(port: number, text: string | Buffer | (string | Buffer)[], gapMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const parts = Array.isArray(text) ? text : [text];
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.on('connect', async () => {
      for (const p of parts) {
        s.write(p);
        if (gapMs) await sleep(gapMs);
      }
    });
  });
}

/** The JSON bodies of the responses in a raw exchange's text. */
function bodies(raw: string): Array<Record<string, unknown>> {
  return raw
    .split('HTTP/1.1 ')
    .slice(1)
    .map((r) => {
      const text = r.slice(r.indexOf('\r\n\r\n') + 4);
      const body = /transfer-encoding: chunked/i.test(r) ? text.replace(/^[0-9a-f]+\r\n|\r\n[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '') : text;
      return JSON.parse(body) as Record<string, unknown>;
    });
}

const post = (path: string, body: string, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('GatewayServer', () => {
  const seen: Seen = { closedEarly: 0, threw: 0 };
  let server: GatewayServer;
  let port: number;
  let base: string;

  beforeAll(async () => {
    server = new GatewayServer(stubListener(seen), { keepAliveTimeout: 65_000, headersTimeout: 60_000, maxBody: 1024 * 1024 });
    await server.listen(0, '127.0.0.1');
    port = server.address().port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => server.closeAllConnections());

  it('serves a fast-path POST itself, with node:http’s keep-alive and date headers and a UTF-8 body', async () => {
    const r = await fetch(`${base}/fast/chat?x=1`, { method: 'POST', body: '{"q":"héllo ✓"}', headers: { authorization: 'Bearer lw-x' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('connection')).toBe('keep-alive');
    expect(r.headers.get('keep-alive')).toBe('timeout=65');
    expect(r.headers.get('date')).toMatch(/GMT$/);
    expect(r.headers.get('content-length')).toBe(String(Buffer.byteLength(await r.clone().text())));
    const j = (await r.json()) as Record<string, unknown>;
    expect(j).toMatchObject({ own: true, method: 'POST', url: '/fast/chat?x=1', body: '{"q":"héllo ✓"}' });
    expect((j.headers as Record<string, string>).authorization).toBe('Bearer lw-x');
  });

  it('answers pipelined requests in order, on one connection', async () => {
    const raw = await rawExchange(port, post('/fast/1', '{"n":1}') + post('/fast/2', '{"n":2}') + post('/fast/3', '{"n":3}', 'Connection: close\r\n'));
    const got = bodies(raw);
    expect(got.map((b) => [b.own, b.url, b.body])).toEqual([
      [true, '/fast/1', '{"n":1}'],
      [true, '/fast/2', '{"n":2}'],
      [true, '/fast/3', '{"n":3}'],
    ]);
    expect(raw.split('HTTP/1.1 ')[3]).toMatch(/^200 OK\r\n[\s\S]*Connection: close\r\n/);
  });

  it('reads a request split at every byte', async () => {
    const text = post('/fast/split', '{"text":"a body that arrives one byte at a time"}', 'Connection: close\r\n');
    const raw = await rawExchange(port, [...Buffer.from(text)].map((b) => Buffer.from([b])), 1);
    expect(bodies(raw)).toEqual([expect.objectContaining({ own: true, body: '{"text":"a body that arrives one byte at a time"}' })]);
  });

  it('reads a large body that arrives in many reads', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(600_000) });
    const r = await fetch(`${base}/fast/big`, { method: 'POST', body: big });
    const j = (await r.json()) as { own: boolean; body: string };
    expect(j.own).toBe(true);
    expect(j.body).toBe(big);
  });

  it('sends an answer without a length chunked, each write as it happens', async () => {
    const r = await fetch(`${base}/stream`, { method: 'POST', body: '{}' });
    expect(r.headers.get('transfer-encoding')).toBe('chunked');
    const reader = r.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: 0\n\n');
    let rest = '';
    for (let c = await reader.read(); !c.done; c = await reader.read()) rest += new TextDecoder().decode(c.value);
    expect(rest).toBe('data: 1\n\ndata: 2\n\n');
  });

  it('sends non-ASCII chunks as UTF-8, with their byte length in the chunk size', async () => {
    const raw = await rawExchange(port, post('/stream-utf8', '{}', 'Connection: close\r\n'));
    const body = Buffer.from(raw, 'latin1').toString('utf8');
    // 'data: 0 é✓\n\n' is 15 bytes (é two, ✓ three): 0xf
    expect(body).toContain('\r\n\r\nf\r\ndata: 0 é✓\n\n\r\nf\r\ndata: 1 é✓\n\n\r\nf\r\ndata: 2 é✓\n\n\r\n0\r\n\r\n');
  });

  it('sends an answer given in parts, small (one joined write) and large (a corked writev), byte for byte', async () => {
    for (const n of [10, 40_000]) {
      const r = await fetch(`${base}/fast/parts?n=${n}`, { method: 'POST', body: '{}' });
      expect(r.headers.get('content-length')).toBe(String(n + 8));
      expect(await r.json()).toEqual({ a: 'x'.repeat(n) });
    }
  });

  it("tells the listener when the client leaves mid-answer ('close' before the end)", async () => {
    const before = seen.closedEarly;
    const s: Socket = connect(port, '127.0.0.1');
    s.write(post('/stream', '{}'));
    await new Promise((r) => s.once('data', r));
    s.destroy();
    for (let i = 0; i < 50 && seen.closedEarly === before; i++) await sleep(10);
    expect(seen.closedEarly).toBe(before + 1);
    // the server is fine afterwards
    expect((await fetch(`${base}/fast/after`, { method: 'POST', body: '1' })).status).toBe(200);
  });

  it('refuses a header value with CR/LF as node:http does, and the connection keeps serving', async () => {
    const before = seen.threw;
    const raw = await rawExchange(port, post('/bad-header', '{}') + post('/fast/next', '{}', 'Connection: close\r\n'));
    expect(seen.threw).toBe(before + 1);
    expect(raw).not.toContain('x-bad');
    expect(bodies(raw)).toEqual([{ error: 'bad header' }, expect.objectContaining({ own: true, url: '/fast/next' })]);
  });

  it.each([
    ['another route', post('/other', '{"a":1}', 'Connection: close\r\n')],
    ['another method', 'GET /fast/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'],
    ['a chunked body', 'POST /fast/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7\r\n{"a":1}\r\n0\r\n\r\n'],
    ['HTTP/1.0', 'POST /fast/x HTTP/1.0\r\nHost: t\r\nContent-Length: 7\r\n\r\n{"a":1}'],
  ])('hands %s to node:http with the bytes already read', async (_, text) => {
    const got = bodies(await rawExchange(port, text));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ own: false });
    if (!text.startsWith('GET')) expect(got[0]!.body).toBe('{"a":1}');
  });

  it('hands over Expect: 100-continue, which node:http answers with 100 then the response', async () => {
    const raw = await rawExchange(port, [
      'POST /fast/x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 7\r\nConnection: close\r\n\r\n',
      '{"a":1}',
    ], 50);
    expect(raw.startsWith('HTTP/1.1 100 Continue\r\n')).toBe(true);
    expect(raw).toContain('"own":false');
  });

  it('serves fast requests, then hands the rest of the connection over at the first request it does not take', async () => {
    const raw = await rawExchange(port, post('/fast/1', '1') + 'GET /slow HTTP/1.1\r\nHost: t\r\n\r\n' + post('/fast/3', '3', 'Connection: close\r\n'));
    expect(bodies(raw).map((b) => [b.own, b.method, b.url])).toEqual([
      [true, 'POST', '/fast/1'],
      [false, 'GET', '/slow'],
      [false, 'POST', '/fast/3'],
    ]);
  });

  it('leaves malformed and oversized heads to node:http (400, 431) and bodies above the limit to its 413 path', async () => {
    expect(await rawExchange(port, 'POST /fast/x HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nBad Header: x\r\n\r\n1')).toMatch(/^HTTP\/1.1 400 /);
    expect(await rawExchange(port, `POST /fast/x HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 1\r\n\r\n1`)).toMatch(/^HTTP\/1.1 431 /);
    const small = new GatewayServer(stubListener(seen, 10), { keepAliveTimeout: 65_000, headersTimeout: 60_000, maxBody: 10 });
    await small.listen(0, '127.0.0.1');
    try {
      const raw = await rawExchange(small.address().port, post('/fast/x', '{"too":"long for ten"}', 'Connection: close\r\n'));
      expect(raw).toMatch(/^HTTP\/1.1 413 /);
    } finally {
      small.closeAllConnections();
      small.close();
    }
  });
});

describe('GatewayServer deadlines and drain', () => {
  it('closes idle keep-alive connections and stalled heads after their deadlines', async () => {
    const server = new GatewayServer(stubListener({ closedEarly: 0, threw: 0 }), { keepAliveTimeout: 1000, headersTimeout: 1000, maxBody: 1024 });
    await server.listen(0, '127.0.0.1');
    const port = server.address().port;
    try {
      const closedAfter = (text: string) =>
        new Promise<number>((resolve) => {
          const t0 = Date.now();
          const s = connect(port, '127.0.0.1', () => s.write(text));
          s.on('data', () => {});
          s.on('close', () => resolve(Date.now() - t0));
        });
      const [idle, stalled] = await Promise.all([closedAfter(post('/fast/x', '{}')), closedAfter('POST /fast/x HTTP/1.1\r\nHost: t\r\n')]);
      expect(idle).toBeGreaterThanOrEqual(1000);
      expect(idle).toBeLessThan(10_000);
      expect(stalled).toBeGreaterThanOrEqual(1000);
      expect(stalled).toBeLessThan(10_000);
    } finally {
      server.close();
    }
  });

  it('close(): idle connections close at once, an answer in progress finishes and then its connection closes', async () => {
    const server = new GatewayServer(stubListener({ closedEarly: 0, threw: 0 }), { keepAliveTimeout: 65_000, headersTimeout: 60_000, maxBody: 1024 });
    await server.listen(0, '127.0.0.1');
    const port = server.address().port;
    const idle = connect(port, '127.0.0.1');
    const idleClosed = new Promise((r) => idle.on('close', r));
    idle.on('data', () => {});
    await new Promise((r) => idle.once('connect', r));
    idle.write(post('/fast/x', '{}'));
    await new Promise((r) => idle.once('data', r));
    const streaming = rawExchange(port, post('/stream', '{}'));
    await sleep(20);
    server.close();
    await idleClosed;
    const raw = await streaming;
    expect(raw).toContain('Connection: keep-alive');
    expect(raw.endsWith('data: 2\n\n\r\n0\r\n\r\n')).toBe(true);
    await expect(fetch(`http://127.0.0.1:${port}/fast/x`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
