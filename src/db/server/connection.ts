/**
 * @module One client connection of the embedded store's wire server (wire.ts): its receive buffer and
 * the framing of frontend messages into units for the session. A unit is a run of messages ending with
 * one the client waits on (Sync, Query, Flush, …), or a step of a `COPY … FROM STDIN`, which the server
 * plays itself (copy.ts). The server decides when units run; this module only cuts them.
 */
import type { Socket } from 'node:net';
import { copyErrorSql, CopyIn, type CopyFromStdin, mentionsCopyFromStdin, parseCopyFromStdin } from './copy.js';
import {
  closedStatementName,
  copyFailText,
  endsUnit,
  errorResponse,
  MAX_MESSAGE_BYTES,
  parseStatementName,
  query,
  queryText,
  TYPE,
} from './protocol.js';

const EMPTY = Buffer.alloc(0);
/** Messages from this size on are gathered read by read and joined once (see Connection.receive). */
const GATHER_BYTES = 256 * 1024;

/** What a connection queues for the session: frontend messages, or a step of a COPY FROM STDIN. */
export type Unit = Buffer | { copyStart: CopyFromStdin } | { copyEnd: CopyIn };

export class Connection {
  buf: Buffer = EMPTY;
  /** Bytes of `buf` already scanned: whole messages not yet followed by one that ends a unit. */
  private scanned = 0;
  /**
   * While a large message arrives (a COPY's data is one CopyData of the whole batch): the bytes `buf`
   * must reach before framing can go on, and the reads gathered meanwhile, joined once when complete
   * (joining every 64 KB read onto the buffer would copy the message over and over).
   */
  private want = 0;
  private parts: Buffer[] = [];
  private partBytes = 0;
  started = false;
  /** Runs of frontend messages (or COPY steps) waiting for the session. */
  readonly units: Unit[] = [];
  /** The COPY FROM STDIN whose data is arriving, if any. */
  private copying: CopyIn | null = null;
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

  /** Takes one read into `buf`; false while a large message is still being gathered. */
  receive(chunk: Buffer): boolean {
    if (this.want > 0) {
      this.parts.push(chunk);
      this.partBytes += chunk.length;
      if (this.partBytes < this.want) return false;
      this.buf = Buffer.concat(this.parts, this.partBytes);
      this.parts = [];
      this.partBytes = 0;
      this.want = 0;
    } else {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
    return true;
  }

  /**
   * Cuts whole messages off `buf` into units. True when the session has work from this connection
   * (units were added, or Terminate arrived); false also after a malformed message (the connection
   * is then failed).
   */
  frame(): boolean {
    const queued = this.units.length;
    const buf = this.buf;
    let start = 0;
    let i = this.scanned;
    /** Queues the messages from `start` up to `upTo` as a unit of their own, if there are any. */
    const cut = (upTo: number) => {
      if (upTo > start) this.units.push(buf.subarray(start, upTo));
    };
    while (i + 5 <= buf.length) {
      const type = buf[i]!;
      const len = buf.readInt32BE(i + 1);
      if (len < 4 || len > MAX_MESSAGE_BYTES) {
        this.fail(`invalid message length ${len}`);
        return false;
      }
      const end = i + 1 + len;
      if (end > buf.length) break;
      const msg = buf.subarray(i, end);
      if (type === TYPE.terminate) {
        cut(i);
        this.copying = null; // a copy cut short is never run
        this.ending = true;
        this.buf = EMPTY;
        this.scanned = 0;
        return true;
      }
      if (this.copying) {
        this.copyMessage(type, msg);
        start = i = end;
        continue;
      }
      if (type === TYPE.copyData || type === TYPE.copyDone || type === TYPE.copyFail) {
        // outside a COPY Postgres ignores these (postgres.js sends a CopyFail after every finished copy)
        cut(i);
        start = i = end;
        continue;
      }
      const text = type === TYPE.query ? queryText(msg) : null;
      const copy = text === null ? null : parseCopyFromStdin(text);
      if (copy) {
        cut(i);
        this.units.push({ copyStart: copy });
        this.copying = new CopyIn(copy);
        start = i = end;
        continue;
      }
      if (text !== null && mentionsCopyFromStdin(text)) {
        // one the server cannot play (among other statements): PGlite itself would exit on it
        cut(i);
        this.units.push(query(copyErrorSql('0A000', 'the embedded store takes COPY … FROM STDIN only as a simple query of its own')));
        start = i = end;
        continue;
      }
      if (type === TYPE.parse) {
        const name = parseStatementName(msg);
        if (name) this.statements.add(name);
      } else if (type === TYPE.close) {
        const name = closedStatementName(msg);
        if (name) this.statements.delete(name);
      }
      i = end;
      if (endsUnit(type)) {
        cut(i);
        start = i;
      }
    }
    this.buf = start === buf.length ? EMPTY : buf.subarray(start);
    this.scanned = i - start;
    // a large message cut short: wait for the rest of it without joining every read onto the buffer
    if (i + 5 <= buf.length) {
      const need = i - start + 1 + buf.readInt32BE(i + 1);
      if (need >= GATHER_BYTES) {
        this.want = need;
        this.parts = [this.buf];
        this.partBytes = this.buf.length;
        this.buf = EMPTY;
      }
    }
    return this.units.length > queued;
  }

  /** One frontend message while a COPY FROM STDIN gathers its data. */
  private copyMessage(type: number, msg: Buffer): void {
    const copy = this.copying!;
    if (type === TYPE.copyData) return copy.add(msg);
    if (type === TYPE.flush || type === TYPE.sync) return; // ignored during COPY, as Postgres does
    if (type === TYPE.copyFail) copy.fail('57014', `COPY from stdin failed: ${copyFailText(msg)}`);
    else if (type !== TYPE.copyDone) {
      copy.fail('08P01', `unexpected message type 0x${type.toString(16).padStart(2, '0')} during COPY from stdin`);
    }
    this.units.push({ copyEnd: copy });
    this.copying = null;
  }
}
