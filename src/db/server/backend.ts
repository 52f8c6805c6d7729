/**
 * @module The session behind the embedded store's wire server (wire.ts): PGlite, driven through its
 * raw protocol entry point.
 */
import type { PGlite } from '@electric-sql/pglite';
import { query } from './protocol.js';

/** The one backend session: runs frontend messages and returns the raw backend answer. */
export interface WireBackend {
  execProtocolRaw(message: Uint8Array): Promise<Uint8Array>;
  /** Runs a simple-query `COPY … FROM '/dev/blob'` reading `data`; the raw backend answer. */
  copyFrom(sql: string, data: Buffer): Promise<Uint8Array>;
}

/**
 * PGlite as the backend. Not through its own `execProtocolRaw`: that one also parses every answer into
 * a list it never empties outside `execProtocol()` (memory grows by every row ever returned); the
 * streaming variant hands over the bytes (views of the WASM heap, hence the copy) and keeps nothing.
 */
export function pgliteBackend(db: Pick<PGlite, 'execProtocolRawStream' | '_handleBlob' | '_cleanupBlob'>): WireBackend {
  async function execProtocolRaw(message: Uint8Array): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    await db.execProtocolRawStream(message, { onRawData: (bytes) => void chunks.push(Buffer.from(bytes)) });
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
  return {
    execProtocolRaw,
    async copyFrom(sql, data) {
      // what PGlite's own query(sql, [], { blob }) does around a statement, on the raw protocol
      await db._handleBlob(new Blob([data]));
      try {
        return await execProtocolRaw(query(sql));
      } finally {
        await db._cleanupBlob();
      }
    },
  };
}
