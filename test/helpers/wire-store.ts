/**
 * The embedded store's protocol server run in the test process: PGlite in memory behind
 * src/db/server/wire.ts on a Unix socket in a temp dir, and a Store on it through postgres.js, as
 * `lw serve` gets from its store process (there in a child process; the protocol is the same).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { openSocketStore, type Store } from '../../src/db/client.js';
import { createPglite } from '../../src/db/pglite.js';
import { pgliteBackend } from '../../src/db/server/backend.js';
import { createWireServer, type WireServer } from '../../src/db/server/wire.js';

export interface WireStore {
  pglite: PGlite;
  wire: WireServer;
  socketPath: string;
  /** A Store on the socket (postgres.js, `max` connections, default 2). */
  connect(max?: number): Promise<Store>;
  close(): Promise<void>;
}

export const PARAMETERS = {
  server_version: '17.5',
  client_encoding: 'UTF8',
  DateStyle: 'ISO, MDY',
  TimeZone: 'UTC',
  integer_datetimes: 'on',
  standard_conforming_strings: 'on',
};

export async function startWireStore(): Promise<WireStore> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-wire-'));
  const socketPath = join(dir, '.s.PGSQL.lw');
  const pglite = await createPglite('memory://');
  const wire = createWireServer({ backend: pgliteBackend(pglite), parameters: PARAMETERS });
  await wire.listen(socketPath);
  const stores: Store[] = [];
  return {
    pglite,
    wire,
    socketPath,
    async connect(max = 2) {
      const s = await openSocketStore(socketPath, { location: 'memory://', max });
      stores.push(s);
      return s;
    },
    async close() {
      for (const s of stores) await s.close().catch(() => {});
      await wire.close();
      await pglite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
