/**
 * A PostgreSQL frontend written by hand over a net.Socket, for protocol tests that must control the
 * bytes: messages split across writes or coalesced in one, a connection dropped mid-conversation.
 */
import { connect, type Socket } from 'node:net';

export interface BackendMsg {
  type: string;
  body: Buffer;
}

const msg = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const cstr = (s: string) => Buffer.from(`${s}\0`);

/** Frontend messages. */
export const fe = {
  ssl(): Buffer {
    const b = Buffer.alloc(8);
    b.writeInt32BE(8, 0);
    b.writeInt32BE(80877103, 4);
    return b;
  },
  startup(params: Record<string, string> = { user: 'postgres', database: 'postgres' }): Buffer {
    const body = Buffer.concat([...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.from([0])]);
    const head = Buffer.alloc(8);
    head.writeInt32BE(body.length + 8, 0);
    head.writeInt32BE(0x0003_0000, 4);
    return Buffer.concat([head, body]);
  },
  query: (sql: string) => msg('Q', cstr(sql)),
  parse: (name: string, sql: string) => msg('P', Buffer.concat([cstr(name), cstr(sql), Buffer.from([0, 0])])),
  /** Bind of the unnamed portal to a statement, no parameters, text results. */
  bind: (statement: string) => msg('B', Buffer.concat([cstr(''), cstr(statement), Buffer.from([0, 0, 0, 0, 0, 0])])),
  execute: () => msg('E', Buffer.concat([cstr(''), Buffer.alloc(4)])),
  sync: () => msg('S', Buffer.alloc(0)),
  flush: () => msg('H', Buffer.alloc(0)),
  terminate: () => msg('X', Buffer.alloc(0)),
  copyData: (data: string | Buffer) => msg('d', Buffer.from(data)),
  copyDone: () => msg('c', Buffer.alloc(0)),
  copyFail: (reason: string) => msg('f', cstr(reason)),
};

/** The text of the first column of every DataRow. */
export const firstColumn = (msgs: BackendMsg[]): (string | null)[] =>
  msgs
    .filter((m) => m.type === 'D')
    .map((m) => {
      const len = m.body.readInt32BE(2);
      return len < 0 ? null : m.body.subarray(6, 6 + len).toString('utf8');
    });

export class RawClient {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => {});
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (e) => (e ? reject(e) : resolve())));
  }

  /** Writes `bytes` in pieces of `size`, each in its own write and turn of the event loop. */
  async writeInPieces(bytes: Buffer, size: number): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      await this.write(bytes.subarray(i, i + size));
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Reads exactly `n` raw bytes (the SSL answer). */
  async readBytes(n: number): Promise<Buffer> {
    while (this.buf.length < n) await this.more();
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Reads backend messages until `done` says so (given the messages so far). */
  async read(done: (msgs: BackendMsg[]) => boolean): Promise<BackendMsg[]> {
    const msgs: BackendMsg[] = [];
    for (;;) {
      while (this.buf.length >= 5 && this.buf.length >= 1 + this.buf.readInt32BE(1)) {
        const len = this.buf.readInt32BE(1);
        msgs.push({ type: String.fromCharCode(this.buf[0]!), body: this.buf.subarray(5, 1 + len) });
        this.buf = this.buf.subarray(1 + len);
        if (done(msgs)) return msgs;
      }
      await this.more();
    }
  }

  /** Reads until `count` ReadyForQuery messages arrived. */
  untilReady(count = 1): Promise<BackendMsg[]> {
    return this.read((m) => m.filter((x) => x.type === 'Z').length >= count);
  }

  /** Start-up (optionally after an SSLRequest): returns the messages up to ReadyForQuery. */
  async start(opts: { ssl?: boolean; pieces?: number } = {}): Promise<BackendMsg[]> {
    if (opts.ssl) {
      await this.write(fe.ssl());
      const answer = await this.readBytes(1);
      if (answer.toString() !== 'N') throw new Error(`SSLRequest answered ${answer.toString()}`);
    }
    const startup = fe.startup();
    if (opts.pieces) await this.writeInPieces(startup, opts.pieces);
    else await this.write(startup);
    return this.untilReady();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private more(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('connection closed by the server'));
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
    });
  }
}

/** The status byte of a ReadyForQuery message. */
export const status = (msgs: BackendMsg[]): string => {
  const z = msgs.filter((m) => m.type === 'Z').at(-1);
  return z ? z.body.toString('latin1') : '';
};
