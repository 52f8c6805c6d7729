/**
 * @module The pieces of the PostgreSQL v3 wire protocol the embedded store server needs: start-up
 * request codes, the backend messages it answers itself (authentication, parameters, key data,
 * ReadyForQuery, errors), the frontend messages it sends on a client's behalf (ROLLBACK, Close, Sync)
 * and a reader for the transaction status of a backend response.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

/** Start-up packet codes (the int32 after the length of an untyped message). */
export const PROTOCOL_V3 = 0x0003_0000;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** Largest frontend message accepted (PostgreSQL's own limit is 1 GB). */
export const MAX_MESSAGE_BYTES = 1 << 30;
/** Largest start-up packet accepted (PostgreSQL's MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_BYTES = 10_000;

/** Transaction status of ReadyForQuery: idle, in a transaction block, in a failed transaction block. */
export type TxStatus = 'I' | 'T' | 'E';

const code = (c: string) => c.charCodeAt(0);

/** Frontend message types after which the client waits for an answer: the end of a unit of work. */
const ANSWERED = new Set([
  code('S'), // Sync
  code('Q'), // Query
  code('H'), // Flush
  code('F'), // FunctionCall
  // CopyDone and CopyFail end a COPY FROM STDIN, which the wire server plays itself (copy.ts)
]);

export const TYPE = {
  parse: code('P'),
  close: code('C'),
  terminate: code('X'),
  query: code('Q'),
  copyData: code('d'),
  copyDone: code('c'),
  copyFail: code('f'),
  flush: code('H'),
  sync: code('S'),
  readyForQuery: code('Z'),
} as const;

/** True when the client waits for the backend after a message of this type (Sync, Query, Flush, …). */
export function endsUnit(type: number): boolean {
  return ANSWERED.has(type);
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = code(type);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const int32 = (n: number) => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
};
const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');

export const authenticationOk = (): Buffer => message('R', int32(0));

export const parameterStatus = (name: string, value: string): Buffer =>
  message('S', Buffer.concat([cstr(name), cstr(value)]));

export const backendKeyData = (pid: number, secret: number): Buffer =>
  message('K', Buffer.concat([int32(pid), int32(secret)]));

export const readyForQuery = (status: TxStatus): Buffer => message('Z', Buffer.from(status, 'latin1'));

/** ErrorResponse with severity, SQLSTATE and message. */
export function errorResponse(sqlstate: string, text: string, severity: 'ERROR' | 'FATAL' = 'FATAL'): Buffer {
  const field = (t: string, v: string) => Buffer.concat([Buffer.from(t, 'latin1'), cstr(v)]);
  return message(
    'E',
    Buffer.concat([field('S', severity), field('V', severity), field('C', sqlstate), field('M', text), Buffer.from([0])]),
  );
}

/**
 * CopyInResponse for a text-format COPY FROM STDIN of `columns` columns (0 when the statement names
 * none: clients read only the overall format).
 */
export function copyInResponse(columns: number): Buffer {
  const body = Buffer.alloc(3 + 2 * columns);
  body.writeInt16BE(columns, 1);
  return message('G', body);
}

/** The SQL text of a simple Query message (the whole message, type byte included). */
export function queryText(msg: Uint8Array): string {
  const end = msg[msg.length - 1] === 0 ? msg.length - 1 : msg.length;
  return Buffer.from(msg.buffer, msg.byteOffset + 5, end - 5).toString('utf8');
}

/** The message of a CopyFail (the whole message, type byte included). */
export const copyFailText = queryText;

/** Frontend: a simple Query. */
export const query = (sql: string): Buffer => message('Q', cstr(sql));
/** Frontend: Sync. */
export const SYNC: Buffer = message('S', Buffer.alloc(0));
/** Frontend: Close of a prepared statement. */
export const closeStatement = (name: string): Buffer => message('C', Buffer.concat([Buffer.from('S'), cstr(name)]));

/** The statement name of a Parse message (the whole message, type byte included); '' for the unnamed one. */
export function parseStatementName(msg: Uint8Array): string {
  const end = msg.indexOf(0, 5);
  return end < 0 ? '' : Buffer.from(msg.buffer, msg.byteOffset + 5, end - 5).toString('utf8');
}

/** For a Close message: the name of the statement it closes, or null when it closes a portal. */
export function closedStatementName(msg: Uint8Array): string | null {
  if (msg[5] !== code('S')) return null;
  const end = msg.indexOf(0, 6);
  return end < 0 ? null : Buffer.from(msg.buffer, msg.byteOffset + 6, end - 6).toString('utf8');
}

/** Backend messages that may arrive at any time (notice, notification, parameter status). */
const ASYNC = new Set([code('N'), code('A'), code('S')]);

/**
 * The transaction status of a backend response that ends a conversation with ReadyForQuery, or null
 * when anything but asynchronous messages follows the last ReadyForQuery, or there is none (an answer
 * to Flush, a COPY in progress): the client is then still mid-conversation.
 */
export function lastReadyStatus(bytes: Uint8Array): TxStatus | null {
  let status: TxStatus | null = null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 0;
  while (i + 5 <= bytes.length) {
    const type = bytes[i]!;
    const len = view.getInt32(i + 1);
    if (len < 4) return null;
    if (type === TYPE.readyForQuery && len === 5 && i + 5 < bytes.length) {
      status = String.fromCharCode(bytes[i + 5]!) as TxStatus;
    } else if (!ASYNC.has(type)) {
      status = null;
    }
    i += 1 + len;
  }
  return status;
}
