/**
 * writePieces: a small message goes out as one Buffer in one write, byte for byte (latin1 strings and
 * bytes, in order); a large one as a corked run of writes with the callback on the last.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { JOIN_LIMIT, writePieces } from '../../../src/daemon/http/joined-write.js';

/** A socket stand-in that records its calls. */
function fakeSocket() {
  const calls: Array<{ op: string; chunk?: Buffer | string; enc?: string; cb?: unknown }> = [];
  const socket = {
    cork: () => calls.push({ op: 'cork' }),
    uncork: () => calls.push({ op: 'uncork' }),
    write: (chunk: Buffer | string, a?: unknown, b?: unknown) => {
      const enc = typeof a === 'string' ? a : undefined;
      const cb = typeof a === 'function' ? a : b;
      calls.push({ op: 'write', chunk, enc, cb });
      return true;
    },
  };
  return { socket: socket as unknown as Socket, calls };
}

describe('writePieces', () => {
  it('joins a small message into one buffer and one write, with the callback', () => {
    const { socket, calls } = fakeSocket();
    const done = () => {};
    writePieces(socket, ['HTTP/1.1 200 OK\r\nx: \xe9\r\n\r\n', Buffer.from('{"a":"é"}'), '\r\n'], done);
    expect(calls.map((c) => c.op)).toEqual(['write']);
    const buf = calls[0]!.chunk as Buffer;
    expect(Buffer.isBuffer(buf)).toBe(true);
    // strings are latin1 (one byte per character), bytes are copied as they are
    expect(buf.equals(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nx: \xe9\r\n\r\n', 'latin1'), Buffer.from('{"a":"é"}'), Buffer.from('\r\n')]))).toBe(true);
    expect(calls[0]!.cb).toBe(done);
  });

  it('writes a message above the limit as corked pieces, strings as latin1, the callback on the last', () => {
    const { socket, calls } = fakeSocket();
    const done = () => {};
    const big = Buffer.alloc(JOIN_LIMIT, 0x61);
    writePieces(socket, ['head\r\n\r\n', big, 'tail'], done);
    expect(calls.map((c) => c.op)).toEqual(['cork', 'write', 'write', 'write', 'uncork']);
    expect(calls[1]).toMatchObject({ chunk: 'head\r\n\r\n', enc: 'latin1', cb: undefined });
    expect(calls[2]!.chunk).toBe(big);
    expect(calls[2]!.cb).toBeUndefined();
    expect(calls[3]).toMatchObject({ chunk: 'tail', enc: 'latin1', cb: done });
  });

  it('joins a message of exactly the limit', () => {
    const { socket, calls } = fakeSocket();
    writePieces(socket, ['ab', Buffer.alloc(JOIN_LIMIT - 2)]);
    expect(calls.map((c) => c.op)).toEqual(['write']);
    expect((calls[0]!.chunk as Buffer).length).toBe(JOIN_LIMIT);
  });
});
