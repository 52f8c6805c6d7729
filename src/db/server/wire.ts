/**
 * @module A PostgreSQL wire-protocol server in front of ONE backend session (PGlite's
 * `execProtocolRaw`), so postgres.js talks to the embedded store as it talks to Postgres.
 *
 * The server answers SSLRequest ('N') and the start-up packet itself (AuthenticationOk, the
 * ParameterStatus values it was given, BackendKeyData, ReadyForQuery), then frames the frontend
 * messages by their length prefix (a read may hold part of a message or several) and hands every run
 * of messages ending with one the client waits on (Sync, Query, Flush, …) to the backend, writing the
 * answer back as is.
 *
 * PGlite has a single session, so connections take turns: a connection whose answer did not end
 * idle (ReadyForQuery 'T' or 'E', or no ReadyForQuery yet: mid extended-protocol or COPY) holds the
 * session until it is idle again; the others queue, in arrival order. A connection that goes away
 * while holding the session is rolled back before anyone else runs, and the prepared statements it
 * created are closed (the session outlives it; postgres.js names statements uniquely per connection).
 * Session-level state (advisory locks, SET, LISTEN) is shared by every connection.
 *
 * `COPY … FROM STDIN`, which PGlite cannot run, is played by the server itself (copy.ts). The session
 * behind it is a WireBackend (backend.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import type { Logger } from '../../lib/log.js';
import type { WireBackend } from './backend.js';
import { copyErrorSql, CopyIn, type CopyFromStdin, mentionsCopyFromStdin, parseCopyFromStdin } from './copy.js';
import {
  authenticationOk,
  backendKeyData,
  CANCEL_REQUEST,
  closedStatementName,
  closeStatement,
  copyFailText,
  copyInResponse,
  endsUnit,
  errorResponse,
  GSSENC_REQUEST,
  lastReadyStatus,
  MAX_MESSAGE_BYTES,
  MAX_STARTUP_BYTES,
  parameterStatus,
  parseStatementName,
  PROTOCOL_V3,
  query,
  queryText,
  readyForQuery,
  SSL_REQUEST,
  SYNC,
  TYPE,
} from './protocol.js';

export interface WireServerOptions {
  backend: WireBackend;
  /** ParameterStatus values announced at start-up (server_version, client_encoding, DateStyle, …). */
  parameters: Record<string, string>;
  log?: Logger;
}

export interface WireServer {
  /** Listens on a Unix socket path (or a TCP port on 127.0.0.1 when given a number, for tests). */
  listen(target: string | number): Promise<void>;
  /** The node server (address(), …). */
  readonly server: Server;
  /** Open client connections. */
  readonly connections: number;
  /** Stops listening, drops every connection, and waits until the session is idle (rolled back). */
  close(): Promise<void>;
}

const EMPTY = Buffer.alloc(0);
/** Messages from this size on are gathered read by read and joined once (see Connection.want). */
const GATHER_BYTES = 256 * 1024;

/** What a connection queues for the session: frontend messages, or a step of a COPY FROM STDIN. */
type Unit = Buffer | { copyStart: CopyFromStdin } | { copyEnd: CopyIn };

class Connection {
  buf: Buffer = EMPTY;
  /** Bytes of `buf` already scanned: whole messages not yet followed by one that ends a unit. */
  scanned = 0;
  /**
   * While a large message arrives (a COPY's data is one CopyData of the whole batch): the bytes `buf`
   * must reach before framing can go on, and the reads gathered meanwhile, joined once when complete
   * (joining every 64 KB read onto the buffer would copy the message over and over).
   */
  want = 0;
  parts: Buffer[] = [];
  partBytes = 0;
  started = false;
  /** Runs of frontend messages (or COPY steps) waiting for the session. */
  readonly units: Unit[] = [];
  /** The COPY FROM STDIN whose data is arriving, if any. */
  copying: CopyIn | null = null;
  /** Named prepared statements this connection created in the shared session. */
  readonly statements = new Set<string>();
  open = true;
  /** Terminate received: end the socket once the queued units ran. */
  ending = false;
  queued = false;
  cleaned = false;

  constructor(
    readonly socket: Socket,
    readonly id: number,
  ) {}

  send(bytes: Uint8Array): void {
    if (this.open && bytes.length > 0 && this.socket.writable) this.socket.write(bytes);
  }

  fail(text: string, sqlstate = '08P01'): void {
    this.send(errorResponse(sqlstate, text));
    this.socket.end();
    this.open = false;
  }
}

/**
 * @example
 * const db = await PGlite.create('memory://');
 * const wire = createWireServer({ backend: pgliteBackend(db), parameters: { server_version: '17.5' } });
 * await wire.listen('/run/lw/.s.PGSQL.lw');
 */
export function createWireServer(opts: WireServerOptions): WireServer {
  const { backend, log } = opts;
  const greeting = Buffer.concat([
    authenticationOk(),
    ...Object.entries(opts.parameters).map(([k, v]) => parameterStatus(k, v)),
  ]);
  const conns = new Set<Connection>();
  const waiting: Connection[] = [];
  let holder: Connection | null = null;
  let running = false;
  let idle: Promise<void> = Promise.resolve();
  let nextId = 1;

  const server = createServer({ allowHalfOpen: false }, (socket) => {
    const c = new Connection(socket, nextId++);
    conns.add(c);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => onData(c, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      c.open = false;
      c.units.length = 0;
      conns.delete(c);
      enqueue(c);
    });
  });

  function onData(c: Connection, chunk: Buffer): void {
    if (!c.open || c.ending) return;
    if (c.want > 0) {
      c.parts.push(chunk);
      c.partBytes += chunk.length;
      if (c.partBytes < c.want) return;
      c.buf = Buffer.concat(c.parts, c.partBytes);
      c.parts = [];
      c.partBytes = 0;
      c.want = 0;
    } else {
      c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    }
    if (!c.started && !startup(c)) return;
    frame(c);
  }

  /** Handles untyped start-up packets; true once the session start-up is answered. */
  function startup(c: Connection): boolean {
    while (!c.started) {
      if (c.buf.length < 8) return false;
      const len = c.buf.readInt32BE(0);
      const request = c.buf.readInt32BE(4);
      if (len < 8 || len > MAX_STARTUP_BYTES) {
        c.fail('invalid start-up packet length');
        return false;
      }
      if (c.buf.length < len) return false;
      c.buf = c.buf.subarray(len);
      if (request === SSL_REQUEST || request === GSSENC_REQUEST) {
        c.send(Buffer.from('N'));
      } else if (request === CANCEL_REQUEST) {
        // nothing to cancel: a query runs to its end (PGlite cannot be interrupted)
        c.socket.end();
        c.open = false;
        return false;
      } else if (request >>> 16 === PROTOCOL_V3 >>> 16) {
        c.started = true;
        c.send(Buffer.concat([greeting, backendKeyData(process.pid, randomInt(2 ** 31)), readyForQuery('I')]));
      } else {
        c.fail(`unsupported frontend protocol ${request >>> 16}.${request & 0xffff}: server supports 3.0`);
        return false;
      }
    }
    return true;
  }

  /** Cuts whole messages off the buffer into units; a unit ends with a message the client waits on. */
  function frame(c: Connection): void {
    const queued = c.units.length;
    let start = 0;
    let i = start + c.scanned;
    const buf = c.buf;
    while (i + 5 <= buf.length) {
      const type = buf[i]!;
      const len = buf.readInt32BE(i + 1);
      if (len < 4 || len > MAX_MESSAGE_BYTES) {
        c.fail(`invalid message length ${len}`);
        return;
      }
      const end = i + 1 + len;
      if (end > buf.length) break;
      const msg = buf.subarray(i, end);
      if (type === TYPE.terminate) {
        if (i > start) c.units.push(buf.subarray(start, i));
        c.copying = null; // a copy cut short is never run
        c.ending = true;
        c.buf = EMPTY;
        c.scanned = 0;
        enqueue(c);
        return;
      }
      if (c.copying) {
        copyMessage(c, type, msg);
        start = i = end;
        continue;
      }
      if (type === TYPE.copyData || type === TYPE.copyDone || type === TYPE.copyFail) {
        // outside a COPY Postgres ignores these (postgres.js sends a CopyFail after every finished copy)
        if (i > start) c.units.push(buf.subarray(start, i));
        start = i = end;
        continue;
      }
      const text = type === TYPE.query ? queryText(msg) : null;
      const copy = text === null ? null : parseCopyFromStdin(text);
      if (copy) {
        if (i > start) c.units.push(buf.subarray(start, i));
        c.units.push({ copyStart: copy });
        c.copying = new CopyIn(copy);
        start = i = end;
        continue;
      }
      if (text !== null && mentionsCopyFromStdin(text)) {
        // one the server cannot play (among other statements): PGlite itself would exit on it
        if (i > start) c.units.push(buf.subarray(start, i));
        c.units.push(query(copyErrorSql('0A000', 'the embedded store takes COPY … FROM STDIN only as a simple query of its own')));
        start = i = end;
        continue;
      }
      if (type === TYPE.parse) {
        const name = parseStatementName(msg);
        if (name) c.statements.add(name);
      } else if (type === TYPE.close) {
        const name = closedStatementName(msg);
        if (name) c.statements.delete(name);
      }
      i = end;
      if (endsUnit(type)) {
        c.units.push(buf.subarray(start, i));
        start = i;
      }
    }
    c.buf = start === buf.length ? EMPTY : buf.subarray(start);
    c.scanned = i - start;
    // a large message cut short: wait for the rest of it without joining every read onto the buffer
    if (i + 5 <= buf.length) {
      const need = i - start + 1 + buf.readInt32BE(i + 1);
      if (need >= GATHER_BYTES) {
        c.want = need;
        c.parts = [c.buf];
        c.partBytes = c.buf.length;
        c.buf = EMPTY;
      }
    }
    if (c.units.length > queued) enqueue(c);
  }

  /** One frontend message while a COPY FROM STDIN gathers its data. */
  function copyMessage(c: Connection, type: number, msg: Buffer): void {
    const copy = c.copying!;
    if (type === TYPE.copyData) return copy.add(msg);
    if (type === TYPE.flush || type === TYPE.sync) return; // ignored during COPY, as Postgres does
    if (type === TYPE.copyFail) copy.fail('57014', `COPY from stdin failed: ${copyFailText(msg)}`);
    else if (type !== TYPE.copyDone) {
      copy.fail('08P01', `unexpected message type 0x${type.toString(16).padStart(2, '0')} during COPY from stdin`);
    }
    c.units.push({ copyEnd: copy });
    c.copying = null;
  }

  function enqueue(c: Connection): void {
    if (!c.queued) {
      c.queued = true;
      waiting.push(c);
    }
    if (!running) {
      running = true;
      idle = pump();
    }
  }

  /** The next connection to run: the session holder alone while there is one, else the first in line. */
  function next(): Connection | null {
    if (holder) return holder.units.length > 0 || !holder.open ? holder : null;
    while (waiting.length > 0) {
      const c = waiting.shift()!;
      c.queued = false;
      if (!c.open || c.units.length > 0 || c.ending) return c;
    }
    return null;
  }

  async function pump(): Promise<void> {
    try {
      // let the caller's framing finish first (several units of one read go in one turn)
      await Promise.resolve();
      await runQueued();
    } finally {
      running = false;
    }
  }

  async function runQueued(): Promise<void> {
    for (let c = next(); c; c = next()) {
      if (!c.open) {
        await cleanUp(c);
        if (holder === c) holder = null;
        continue;
      }
      const unit = c.units.shift();
      if (unit && 'copyStart' in unit) {
        // the session is this connection's until the copy ends, as it would be on a server
        c.send(copyInResponse(unit.copyStart.columns));
        holder = c;
      } else if (unit) {
        let out: Uint8Array;
        try {
          out = await run(unit);
        } catch (e) {
          log?.error('store backend failed on a client message; dropping the connection', { conn: c.id, error: e as Error });
          holder = c;
          c.open = false;
          c.socket.destroy();
          continue;
        }
        c.send(out);
        holder = lastReadyStatus(out) === 'I' ? null : c;
      }
      if (c.ending && c.units.length === 0) {
        c.socket.end();
      } else if (c.units.length > 0 && holder !== c && !c.queued) {
        c.queued = true;
        waiting.push(c);
      }
    }
  }

  function run(unit: Buffer | { copyEnd: CopyIn }): Promise<Uint8Array> {
    if (!('copyEnd' in unit)) return backend.execProtocolRaw(unit);
    const copy = unit.copyEnd;
    if (copy.failure) return backend.execProtocolRaw(query(copyErrorSql(copy.failure.sqlstate, copy.failure.text)));
    return backend.copyFrom(copy.statement.blobSql, copy.data());
  }

  /**
   * Leaves the session as a new connection would find it: rolls back what a vanished holder left open
   * (a ROLLBACK is ignored by a session that awaits Sync after an error, hence the Sync and the second
   * ROLLBACK) and closes the statements it prepared.
   */
  async function cleanUp(c: Connection): Promise<void> {
    if (c.cleaned) return;
    c.cleaned = true;
    const held = holder === c;
    if (!held && c.statements.size === 0) return;
    const parts: Buffer[] = held ? [query('ROLLBACK'), SYNC] : [];
    for (const name of c.statements) parts.push(closeStatement(name));
    if (c.statements.size > 0) parts.push(SYNC);
    try {
      const out = await backend.execProtocolRaw(Buffer.concat(parts));
      if (lastReadyStatus(out) !== 'I') await backend.execProtocolRaw(query('ROLLBACK'));
      if (held) log?.debug('rolled back the session of a closed store connection', { conn: c.id });
    } catch (e) {
      log?.error('cannot reset the store session after a connection closed', { conn: c.id, error: e as Error });
    }
  }

  return {
    server,
    get connections() {
      return conns.size;
    },
    listen(target) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        const done = () => {
          server.off('error', reject);
          resolve();
        };
        if (typeof target === 'number') server.listen(target, '127.0.0.1', done);
        else server.listen(target, done);
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of conns) c.socket.destroy();
      await closed;
      while (running) await idle;
    },
  };
}
