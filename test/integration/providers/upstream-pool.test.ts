/**
 * UpstreamPools against a real loopback server: the upstream call's contract (status, headers,
 * buffered-then-streamed body, backpressure, cancellation before and during the call) and the
 * transport-failure mapping (refused → 502, first-byte and idle timeouts → 504).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/daemon/errors.js';
import { CancelToken, isAbortError, UpstreamPools, type UpstreamRequest } from '../../../src/daemon/providers/upstream.js';
import type { ProviderEntry } from '../../../src/daemon/state/types.js';
import { closedPort } from '../../helpers/net.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: Server;
let base: string;
const seen: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
let lastClosed: Promise<void> = Promise.resolve();

function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
    lastClosed = new Promise((r) => res.on('close', () => r()));
    switch (req.url) {
      case '/v1/json':
        res.writeHead(200, { 'content-type': 'application/json', 'X-Custom-Thing': 'yes' });
        res.write('{"a":');
        setTimeout(() => res.end('1}'), 20);
        return;
      case '/v1/limited':
        res.writeHead(429, { 'retry-after': '7' });
        res.end('{"error":{"message":"slow down"}}');
        return;
      case '/v1/slow-headers':
        setTimeout(() => res.writeHead(200).end('late'), 1_000);
        return;
      case '/v1/stalls': {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: 1\n\n');
        return; // never ends
      }
      case '/v1/big': {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = (): void => {
          while (sent < 64) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      default:
        res.writeHead(404).end();
    }
  });
}

beforeAll(async () => {
  server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function provider(baseUrl: string): ProviderEntry {
  return { id: 'p1', name: 'mock', kind: 'openai', baseUrl, apiKeyEnv: null, headers: {}, timeouts: {}, supportsResponses: false, enabled: true };
}

function request(pools: UpstreamPools, path: string, over: Partial<UpstreamRequest> = {}): Promise<Awaited<ReturnType<UpstreamPools['request']>>> {
  return pools.request({
    provider: provider(base),
    path,
    body: '{"hello":"world"}',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    cancel: new CancelToken(),
    timeouts: { connectMs: 1_000, firstByteMs: 5_000, idleMs: 5_000 },
    ...over,
  });
}

describe('UpstreamPools (the HTTP/1.1 client under the pipeline)', () => {
  const pools = new UpstreamPools(8);
  afterAll(() => pools.close());

  it('sends method, path, headers and body; answers status, case-insensitive headers and the whole body', async () => {
    const up = await request(pools, '/json');
    expect(up.status).toBe(200);
    expect(up.header('x-custom-thing')).toBe('yes');
    expect(up.header('X-CUSTOM-THING')).toBe('yes');
    expect(up.header('absent')).toBeUndefined();
    expect((await up.readAll()).toString()).toBe('{"a":1}');
    const req = seen.at(-1)!;
    expect(req.url).toBe('/v1/json');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.body).toBe('{"hello":"world"}');
  });

  it('delivers bytes that arrived before read() first and in order, then the rest', async () => {
    const up = await request(pools, '/json');
    await sleep(60); // both writes have arrived and are buffered
    const parts: string[] = [];
    let ended = false;
    up.read({ data: (c) => parts.push(c.toString()), end: () => (ended = true), error: (e) => parts.push(`ERR ${e.message}`) });
    expect(ended).toBe(true);
    expect(parts.join('')).toBe('{"a":1}');
  });

  it('hands non-2xx answers back with their headers and body (the caller decides)', async () => {
    const up = await request(pools, '/limited');
    expect(up.status).toBe(429);
    expect(up.header('retry-after')).toBe('7');
    expect((await up.readAll()).toString()).toContain('slow down');
  });

  it('pauses reading while the consumer asks it to, then resumes to the end', async () => {
    const up = await request(pools, '/big');
    let bytes = 0;
    const done = new Promise<void>((resolve, reject) => {
      up.read({
        data: (c) => {
          bytes += c.length;
          if (bytes >= 256 * 1024 && bytes - c.length < 256 * 1024) up.pause();
        },
        end: resolve,
        error: reject,
      });
    });
    await sleep(150);
    const whilePaused = bytes;
    await sleep(150);
    expect(bytes).toBe(whilePaused); // nothing more while paused
    expect(bytes).toBeLessThan(64 * 64 * 1024);
    up.resume();
    await done;
    expect(bytes).toBe(64 * 64 * 1024);
  });

  it('a cancel before the call rejects with an abort error and sends nothing', async () => {
    const cancel = new CancelToken();
    cancel.abort();
    const before = seen.length;
    const err = await request(pools, '/json', { cancel }).catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    await sleep(50);
    expect(seen.length).toBe(before);
  });

  it('a cancel mid-body ends the read with an abort error and closes the upstream connection', async () => {
    const cancel = new CancelToken();
    const up = await request(pools, '/stalls', { cancel });
    const closed = lastClosed;
    const failed = new Promise<unknown>((resolve) => up.read({ data: () => {}, end: () => resolve('ended'), error: resolve }));
    cancel.abort();
    expect(isAbortError(await failed)).toBe(true);
    await closed; // the mock saw its response socket close
  });

  it('destroy() abandons the body silently: no callback fires afterwards', async () => {
    const up = await request(pools, '/stalls');
    const closed = lastClosed;
    const calls: string[] = [];
    up.read({ data: () => calls.push('data'), end: () => calls.push('end'), error: () => calls.push('error') });
    await sleep(30);
    const n = calls.length;
    up.destroy();
    await closed;
    await sleep(30);
    expect(calls.slice(n)).toEqual([]);
  });

  it('maps a refused connection to 502 upstream_unreachable', async () => {
    const port = await closedPort();
    const err = await request(pools, '/json', { provider: provider(`http://127.0.0.1:${port}/v1`) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('upstream_unreachable');
    expect((err as GatewayError).status).toBe(502);
  });

  it('maps a missing first byte to 504 upstream_timeout, and an idle body to a timeout on readAll', async () => {
    const slow = await request(pools, '/slow-headers', { timeouts: { connectMs: 1_000, firstByteMs: 200, idleMs: 5_000 } }).catch((e: unknown) => e);
    expect((slow as GatewayError).code).toBe('upstream_timeout');
    expect((slow as GatewayError).status).toBe(504);
    const up = await request(pools, '/stalls', { timeouts: { connectMs: 1_000, firstByteMs: 1_000, idleMs: 200 } });
    const idle = await up.readAll().catch((e: unknown) => e);
    expect((idle as GatewayError).code).toBe('upstream_timeout');
  });
});
