/**
 * Starts the real daemon in-process on an ephemeral port (PGlite in a temp LW_HOME, or a throwaway
 * Postgres database), with an admin client going through the daemon's own admin API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteService } from '../../src/admin/remote.js';
import type { AdminService } from '../../src/admin/types.js';
import { loadConfig, type Config } from '../../src/lib/config.js';
import { createLogger, silentLogger, type Logger } from '../../src/lib/log.js';
import { lwPaths } from '../../src/lib/paths.js';
import { startDaemon, type Daemon, type EmbeddedStoreMode } from '../../src/daemon/server.js';
import { createTempDatabase, type Backend, type TempDatabase } from './pg.js';

export interface TestDaemon {
  url: string;
  baseURL: string;
  home: string;
  daemon: Daemon;
  admin: AdminService;
  logs: string[];
  close(): Promise<void>;
}

export interface TestDaemonOptions {
  backend?: Backend;
  env?: NodeJS.ProcessEnv;
  config?: Partial<Config>;
  /** Reuse a home/database (restart scenarios). */
  home?: string;
  databaseUrl?: string;
  log?: Logger;
  /** Where the embedded store runs: in the test process (default) or in its own, as `lw serve` runs it. */
  embeddedStore?: EmbeddedStoreMode;
}

export async function startTestDaemon(opts: TestDaemonOptions = {}): Promise<TestDaemon> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'lw-test-'));
  let tempDb: TempDatabase | null = null;
  let databaseUrl = opts.databaseUrl;
  if (!databaseUrl && opts.backend === 'postgres') {
    tempDb = await createTempDatabase();
    databaseUrl = tempDb.url;
  }
  const env: NodeJS.ProcessEnv = { LW_HOME: home, HOME: home, ...opts.env };
  const base = loadConfig({ port: 0 }, env);
  const config: Config = { ...base, logLevel: 'info', drainMs: 5000, ...(databaseUrl ? { databaseUrl } : {}), ...opts.config };
  const logs: string[] = [];
  const log = opts.log ?? (process.env['LW_TEST_LOGS'] ? createLogger('debug') : createLogger('info', (l) => void logs.push(l)));
  const daemon = await startDaemon(config, { env, log, embeddedStore: opts.embeddedStore ?? 'inprocess' });
  const token = readFileSync(lwPaths(home).adminToken, 'utf8').trim();
  const admin = createRemoteService({ url: daemon.url, token });
  return {
    url: daemon.url,
    baseURL: `${daemon.url}/v1`,
    home,
    daemon,
    admin,
    logs,
    async close() {
      await daemon.close();
      if (tempDb) await tempDb.drop();
      if (!opts.home) rmSync(home, { recursive: true, force: true });
    },
  };
}

export { silentLogger };
