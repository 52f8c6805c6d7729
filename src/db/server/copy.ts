/**
 * @module `COPY … FROM STDIN` for the embedded store's wire server. PGlite cannot run it (its backend
 * has no client to read the data from: the whole WASM module exits, taking the store process down),
 * but it reads `COPY … FROM '/dev/blob'` from a blob handed over beforehand. So the wire server plays
 * the server's part of the copy sub-protocol itself: it answers the Query with CopyInResponse, gathers
 * the CopyData that follows, and at CopyDone runs the same statement on `/dev/blob` with that data,
 * whose answer (CommandComplete `COPY n`, or the error, then ReadyForQuery) is what Postgres would send.
 * A CopyFail, or data past the cap, becomes the error Postgres raises for it, in the session, so an
 * open transaction is aborted as it would be there.
 */

/** The most data one COPY may carry (it is held in memory until CopyDone). */
export const MAX_COPY_BYTES = 256 * 1024 * 1024;

export interface CopyFromStdin {
  /** The statement to run with the data as `/dev/blob`. */
  blobSql: string;
  /** Columns named by the statement (0 when it names none). */
  columns: number;
}

// COPY <table> [ ( <columns> ) ] FROM STDIN [ [ WITH ] options ]; a query (COPY (select …)) is never FROM
const COPY_FROM_STDIN = /^\s*copy\s+((?:"(?:[^"]|"")+"|[\w$.]+)+(?:\s*\(([^()]*)\))?)\s+from\s+stdin\b([^;]*);?\s*$/is;

/**
 * The COPY FROM STDIN statement of a simple Query, rewritten to read `/dev/blob`; null for any other
 * statement (which the backend runs as it is).
 * @example parseCopyFromStdin('COPY t (a, b) FROM STDIN') // { blobSql: "COPY t (a, b) FROM '/dev/blob'", columns: 2 }
 */
export function parseCopyFromStdin(sql: string): CopyFromStdin | null {
  const m = COPY_FROM_STDIN.exec(sql);
  if (!m) return null;
  const [, target, columnList, options] = m;
  const columns = columnList === undefined || columnList.trim() === '' ? 0 : columnList.split(',').length;
  return { blobSql: `COPY ${target} FROM '/dev/blob'${options ?? ''}`, columns };
}

/** True when a statement text may hold a COPY FROM STDIN (checked when it is not one the server plays). */
export function mentionsCopyFromStdin(sql: string): boolean {
  return /\bcopy\b[\s\S]*\bfrom\s+stdin\b/i.test(sql);
}

/**
 * The SQLSTATEs a copy fails with: 57014 CopyFail, 54000 data past the cap, 08P01 a message the copy
 * sub-protocol does not allow, 0A000 a COPY FROM STDIN the server cannot play.
 */
export type CopyErrorState = '57014' | '54000' | '08P01' | '0A000';

/** A literal for a SQL string (standard_conforming_strings is on: only quotes are doubled). */
const literal = (s: string) => `'${s.split('\u0000').join('').replace(/'/g, "''")}'`;

/** The statement that raises, in the session, the error Postgres answers a failed copy with. */
export function copyErrorSql(sqlstate: CopyErrorState, text: string): string {
  return `DO $lw_copy$ BEGIN RAISE EXCEPTION USING ERRCODE = ${literal(sqlstate)}, MESSAGE = ${literal(text)}; END $lw_copy$`;
}

/** The data of a COPY in progress on one connection. */
export class CopyIn {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  /** Why the copy fails at its end (CopyFail, too much data, a stray message), or null. */
  failure: { sqlstate: CopyErrorState; text: string } | null = null;

  constructor(readonly statement: CopyFromStdin) {}

  /** Adds one CopyData message's payload (the whole message is given). */
  add(msg: Buffer): void {
    if (this.failure) return;
    this.bytes += msg.length - 5;
    if (this.bytes > MAX_COPY_BYTES) {
      this.failure = { sqlstate: '54000', text: `COPY data exceeds ${MAX_COPY_BYTES / 1024 / 1024} MB, the embedded store's limit for one COPY` };
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(msg.subarray(5));
  }

  fail(sqlstate: CopyErrorState, text: string): void {
    this.failure ??= { sqlstate, text };
    this.chunks.length = 0;
  }

  data(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
  }
}
