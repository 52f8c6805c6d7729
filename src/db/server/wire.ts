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
 * `COPY … FROM STDIN`, which PGlite cannot run, is played by the server itself (copy.ts). Each client's
 * buffer and framing live in connection.ts; the session behind the server is a WireBackend (backend.ts).
 */
import { createServer, type Server } from 'node:net';
import { randomInt } from 'node:crypto';
import type { Logger } from '../../lib/log.js';
import type { WireBackend } from './backend.js';
import { Connection } from './connection.js';
import { copyErrorSql, type CopyIn } from './copy.js';
import {
  authenticationOk,
  backendKeyData,
  CANCEL_REQUEST,
  closeStatement,
  copyInResponse,
  GSSENC_REQUEST,
  lastReadyStatus,
  MAX_STARTUP_BYTES,
  parameterStatus,
  PROTOCOL_V3,
  query,
  readyForQuery,
  SSL_REQUEST,
  SYNC,
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
    if (!c.open || c.ending || !c.receive(chunk)) return;
    if (!c.started && !startup(c)) return;
    if (c.frame()) enqueue(c);
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
