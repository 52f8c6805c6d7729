/**
 * The upstream HTTP/1.1 client (`OriginPool`) against real loopback servers: keep-alive reuse, the
 * retry of a request whose reused connection the upstream had already closed, queueing past the
 * connection limit, idle expiry and keep-alive hints, TLS with certificate checks, refusal of header
 * injection, bytes that are not HTTP, and close().
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamTransportError } from '../../../src/daemon/providers/http1/errors.js';
import { OriginPool, type ExchangeHandler, type PoolRequest } from '../../../src/daemon/providers/http1/origin-pool.js';
import { CancelToken, UpstreamPools } from '../../../src/daemon/providers/upstream.js';
import { GatewayError } from '../../../src/daemon/errors.js';
import type { ProviderEntry } from '../../../src/daemon/state/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  headers: string[];
  body: string;
}

/** One request through the pool, as a promise of the whole answer. */
function call(pool: OriginPool, over: Partial<PoolRequest> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: string[] = [];
    const parts: Buffer[] = [];
    const handler: ExchangeHandler = {
      onHead: (s, h) => ((status = s), (headers = h)),
      onData: (c) => parts.push(c),
      onEnd: () => resolve({ status, headers, body: Buffer.concat(parts).toString() }),
      onError: reject,
    };
    try {
      pool.request({ method: 'POST', path: '/v1/x', headers: { 'content-type': 'application/json' }, body: '{"q":1}', firstByteMs: 2_000, idleMs: 2_000, ...over }, handler);
    } catch (e) {
      reject(e as Error);
    }
  });
}

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

describe('OriginPool over plain HTTP', () => {
  let server: Server;
  let port: number;
  const sockets = new Set<unknown>();
  let inFlight = 0;
  let maxInFlight = 0;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      sockets.add(req.socket);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const done = (): void => {
          inFlight--;
        };
        if (req.url === '/v1/slow') {
          setTimeout(() => {
            done();
            res.end('slow');
          }, 50);
          return;
        }
        if (req.url === '/v1/hint') {
          done();
          res.writeHead(200, { 'keep-alive': 'timeout=1', 'content-length': '2' }).end('ok');
          return;
        }
        done();
        res.end(`echo:${req.method}:${req.url}:${req.headers['content-length']}`);
      });
    });
    server.keepAliveTimeout = 60_000;
    port = await listen(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const pool = (over: Partial<ConstructorParameters<typeof OriginPool>[1]> = {}) =>
    new OriginPool(new URL(`http://127.0.0.1:${port}`), { maxConnections: 8, connectMs: 1_000, keepAliveMs: 30_000, ...over });

  it('sends the body with its length and reuses one connection for sequential requests', async () => {
    const p = pool();
    sockets.clear();
    for (let i = 0; i < 5; i++) {
      const a = await call(p, { body: i % 2 ? Buffer.from('{"é":1}') : '{"é":1}' }); // 7 characters, 8 bytes
      expect(a.body).toBe('echo:POST:/v1/x:8');
    }
    expect(sockets.size).toBe(1);
    expect(bodies.at(-1)).toBe('{"é":1}');
    expect(p.size).toBe(1);
    await p.close();
    expect(p.size).toBe(0);
  });

  it('queues requests past the connection limit and serves them all', async () => {
    const p = pool({ maxConnections: 2 });
    sockets.clear();
    maxInFlight = 0;
    const answers = await Promise.all(Array.from({ length: 7 }, () => call(p, { path: '/v1/slow' })));
    expect(answers.map((a) => a.body)).toEqual(Array(7).fill('slow'));
    expect(sockets.size).toBe(2);
    expect(maxInFlight).toBe(2);
    await p.close();
  });

  it('closes connections idle longer than keepAliveMs, and at once when the hint leaves no time', async () => {
    const p = pool({ keepAliveMs: 150 });
    await call(p);
    expect(p.size).toBe(1);
    await sleep(400);
    expect(p.size).toBe(0);
    await call(p, { path: '/v1/hint' }); // keep-alive: timeout=1 → 1 s − 1 s margin → not kept
    await sleep(20);
    expect(p.size).toBe(0);
    await p.close();
  });

  it('refuses header injection before anything is sent', async () => {
    const p = pool();
    const before = bodies.length;
    const err = await call(p, { headers: { 'x-evil': 'a\r\nx-injected: 1' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamTransportError);
    expect((err as UpstreamTransportError).failure).toBe('request');
    expect((err as Error).message).not.toContain('x-injected');
    await sleep(30);
    expect(bodies.length).toBe(before);
    await p.close();
  });

  it('close() lets a request in flight finish, then refuses new ones', async () => {
    const p = pool();
    const slow = call(p, { path: '/v1/slow' });
    await sleep(10);
    const closed = p.close();
    expect((await slow).body).toBe('slow');
    await closed;
    const err = await call(p).catch((e: unknown) => e);
    expect((err as UpstreamTransportError).failure).toBe('closed');
  });
});

describe('OriginPool against a raw TCP upstream', () => {
  let server: TcpServer;
  let port: number;
  let arrivals = 0;
  /** What the server does with the n-th request on a socket. */
  let behave: (socket: Socket, nth: number) => void = () => {};

  beforeAll(async () => {
    server = createTcpServer((socket) => {
      let nth = 0;
      socket.on('data', (d) => {
        if (!d.includes('\r\n\r\n')) return;
        arrivals++;
        behave(socket, ++nth);
      });
      socket.on('error', () => {});
    });
    port = await listen(server);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const pool = () => new OriginPool(new URL(`http://127.0.0.1:${port}`), { maxConnections: 4, connectMs: 1_000, keepAliveMs: 30_000 });
  const ok = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

  it('sends a request again, once, when its reused connection turns out closed by the upstream', async () => {
    // the upstream answers the first request of a connection and drops the second unanswered: the
    // race with an upstream's idle timeout
    behave = (socket, nth) => (nth === 1 ? socket.write(ok) : socket.destroy());
    const p = pool();
    arrivals = 0;
    expect((await call(p)).body).toBe('ok');
    expect((await call(p)).body).toBe('ok'); // dropped on the old connection, answered on a new one
    expect(arrivals).toBe(3);
    await p.close();
  });

  it('does not resend on a fresh connection: a drop there is the upstream failing', async () => {
    behave = (socket) => socket.destroy();
    const p = pool();
    arrivals = 0;
    const err = await call(p).catch((e: unknown) => e);
    expect((err as UpstreamTransportError).failure).toBe('socket');
    expect(arrivals).toBe(1);
    await p.close();
  });

  it('fails an answer that is not HTTP, and one cut off mid-body, without reusing the connection', async () => {
    const p = pool();
    behave = (socket) => socket.write('SSH-2.0-OpenSSH_9.2\r\n\r\n');
    expect(((await call(p).catch((e: unknown) => e)) as UpstreamTransportError).failure).toBe('protocol');
    behave = (socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
    const cut = (await call(p).catch((e: unknown) => e)) as UpstreamTransportError;
    expect(cut.failure).toBe('socket');
    await sleep(20);
    expect(p.size).toBe(0);
    await p.close();
  });

  it('keeps every read of a body that arrives in several reads (each copied out of the shared read buffer)', async () => {
    // three parts, each its own read, each a different byte: a read buffer reused without a copy would
    // leave the earlier parts overwritten by the later ones
    const part = (c: string) => c.repeat(20_000);
    behave = (socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 60000\r\n\r\n' + part('a'));
      setTimeout(() => socket.write(part('b')), 20);
      setTimeout(() => socket.write(part('c')), 40);
    };
    const p = pool();
    const answer = await call(p);
    expect(answer.body.length).toBe(60_000);
    expect(answer.body).toBe(part('a') + part('b') + part('c'));
    await p.close();
  });

  it('reads a close-delimited body to its end', async () => {
    behave = (socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    const p = pool();
    expect((await call(p)).body).toBe('until the end');
    await p.close();
  });
});

describe('OriginPool over TLS', () => {
  let dir: string;
  let server: ReturnType<typeof createHttpsServer>;
  let port: number;
  let cert: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lw-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'));
    server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      req.resume();
      req.on('end', () => res.end(`tls:${req.headers.host}`));
    });
    port = await listen(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('speaks HTTPS to an upstream whose certificate it trusts', async () => {
    const p = new OriginPool(new URL(`https://localhost:${port}`), { maxConnections: 2, connectMs: 2_000, keepAliveMs: 30_000, tls: { ca: cert } });
    expect((await call(p)).body).toBe(`tls:localhost:${port}`);
    expect((await call(p)).body).toBe(`tls:localhost:${port}`);
    expect(p.size).toBe(1);
    await p.close();
  });

  it('refuses an upstream whose certificate it does not trust (502 through UpstreamPools)', async () => {
    const pools = new UpstreamPools(2);
    const provider: ProviderEntry = {
      id: 'p', name: 'self-signed', kind: 'openai', baseUrl: `https://127.0.0.1:${port}/v1`, apiKeyEnv: null, headers: {}, timeouts: {}, supportsResponses: false, enabled: true,
    };
    const err = await pools
      .request({ provider, path: '/x', body: '{}', headers: {}, cancel: new CancelToken(), timeouts: { connectMs: 2_000, firstByteMs: 2_000, idleMs: 2_000 } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).status).toBe(502);
    expect((err as GatewayError).message).toMatch(/self-signed.*could not be reached/);
    await pools.close();
  });
});
