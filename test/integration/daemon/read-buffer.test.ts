/**
 * Accepted sockets reading into the process's one shared buffer (http/read-buffer.ts): every byte
 * arrives, in order, in chunks a listener may keep; node's backpressure and end-of-stream still hold;
 * reads can go straight to a function and back to 'data' events; node:http can take such a socket
 * over; and a socket of a shape it does not know is left alone.
 */
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import net, { type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readAcceptedIntoSharedBuffer, sharedOnread } from '../../../src/daemon/http/read-buffer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: Server | null = null;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  if (server) await new Promise((r) => server!.close(r));
  server = null;
});

/** A server whose accepted sockets read into the shared buffer; resolves the accepted socket and the client. */
async function pair(): Promise<{ accepted: Socket; client: Socket; took: boolean }> {
  let took = false;
  const accepted = new Promise<Socket>((resolve) => {
    server = net.createServer({ allowHalfOpen: true }, (s) => {
      took = readAcceptedIntoSharedBuffer(s) !== null;
      sockets.push(s);
      resolve(s);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const client = net.connect((server!.address() as net.AddressInfo).port, '127.0.0.1');
  sockets.push(client);
  await once(client, 'connect');
  return { accepted: await accepted, client, took };
}

describe('readAcceptedIntoSharedBuffer', () => {
  it('delivers bytes sent in several reads, each chunk its own copy', async () => {
    const { accepted, client, took } = await pair();
    expect(took).toBe(true);
    const chunks: Buffer[] = [];
    accepted.on('data', (c: Buffer) => chunks.push(c));
    // three parts, each its own read, each a different byte: chunks pointing into the shared buffer
    // would all show the last part's bytes
    const part = (c: string) => Buffer.from(c.repeat(20_000));
    for (const c of ['a', 'b', 'c']) {
      client.write(part(c));
      await sleep(30);
    }
    client.end();
    await once(accepted, 'end');
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(Buffer.concat(chunks).equals(Buffer.concat([part('a'), part('b'), part('c')]))).toBe(true);
    expect(chunks[0]![0]).toBe('a'.charCodeAt(0));
  });

  it('stops reading while nobody consumes and its buffer is full, and loses nothing', async () => {
    const { accepted, client } = await pair();
    // no 'data' listener yet: the readable side fills to its high-water mark, then push() says stop
    const total = 8 * 1024 * 1024;
    const sent = Buffer.alloc(total);
    for (let i = 0; i < total; i++) sent[i] = i % 251;
    client.end(sent);
    await sleep(300);
    // node's own limit: reading stops once the readable side holds its high-water mark (plus one read)
    expect(accepted.readableLength).toBeLessThanOrEqual(accepted.readableHighWaterMark + 64 * 1024);
    const chunks: Buffer[] = [];
    accepted.on('data', (c: Buffer) => chunks.push(c));
    await once(accepted, 'end');
    expect(Buffer.concat(chunks).equals(sent)).toBe(true);
  });

  it('delivers reads straight to a function, then back to data events, with pause and end working', async () => {
    let accepted!: Socket;
    const direct: Buffer[] = [];
    let reads: ReturnType<typeof readAcceptedIntoSharedBuffer> = null;
    const ready = new Promise<void>((resolve) => {
      server = net.createServer({ allowHalfOpen: true }, (s) => {
        accepted = s;
        sockets.push(s);
        reads = readAcceptedIntoSharedBuffer(s, (c) => direct.push(c));
        resolve();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const client = net.connect((server!.address() as net.AddressInfo).port, '127.0.0.1');
    sockets.push(client);
    await ready;
    const viaData: Buffer[] = [];
    accepted.on('data', (c: Buffer) => viaData.push(c));
    client.write('one');
    await sleep(30);
    client.write('two');
    await sleep(30);
    expect(Buffer.concat(direct).toString()).toBe('onetwo');
    expect(viaData).toHaveLength(0);
    // paused: nothing is read until resume
    accepted.pause();
    client.write('three');
    await sleep(50);
    expect(Buffer.concat(direct).toString()).toBe('onetwo');
    accepted.resume();
    await sleep(50);
    expect(Buffer.concat(direct).toString()).toBe('onetwothree');
    reads!.deliverTo(null);
    client.end('four');
    await once(accepted, 'end');
    expect(Buffer.concat(viaData).toString()).toBe('four');
    expect(Buffer.concat(direct).toString()).toBe('onetwothree');
  });

  it("emits 'end' for a socket read straight to a function, with no 'data' listener", async () => {
    let accepted!: Socket;
    const direct: Buffer[] = [];
    const ready = new Promise<void>((resolve) => {
      server = net.createServer({ allowHalfOpen: true }, (s) => {
        accepted = s;
        sockets.push(s);
        readAcceptedIntoSharedBuffer(s, (c) => direct.push(c));
        resolve();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const client = net.connect((server!.address() as net.AddressInfo).port, '127.0.0.1');
    sockets.push(client);
    await ready;
    const ended = once(accepted, 'end');
    client.end('bye');
    await ended;
    expect(Buffer.concat(direct).toString()).toBe('bye');
  });

  it('hands over to node:http with the bytes already read', async () => {
    const { accepted, client } = await pair();
    const http = createHttpServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
    });
    client.write('PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n');
    const first = await new Promise<Buffer>((r) => accepted.once('data', r));
    accepted.pause();
    accepted.unshift(first);
    http.emit('connection', accepted);
    accepted.resume();
    let answer = '';
    client.setEncoding('utf8');
    client.on('data', (c: string) => (answer += c));
    // the head arrives first (taken above), the body later, straight to node:http
    await sleep(20);
    client.write('hello');
    await sleep(100);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer).toMatch(/PUT \/x hello$/);
    http.close();
  }, 10_000);

  it('leaves a socket that already reads into a buffer of its own', async () => {
    await new Promise<void>((r) => {
      server = net.createServer((s) => sockets.push(s)).listen(0, '127.0.0.1', r);
    });
    const got: Buffer[] = [];
    const own = net.connect({ port: (server!.address() as net.AddressInfo).port, host: '127.0.0.1', onread: sharedOnread((c) => got.push(c)) });
    sockets.push(own);
    await once(own, 'connect');
    expect(readAcceptedIntoSharedBuffer(own)).toBeNull();
    expect(readAcceptedIntoSharedBuffer(new net.Socket())).toBeNull();
  });
});
