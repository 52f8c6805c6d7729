/**
 * The real `lw` binary as a subprocess against real stores: the embedded PGlite folder (directly, under
 * its lock, and through a running daemon that holds it) and, with LW_TEST_DATABASE_URL, Postgres via --db.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireStoreLock } from '../../../src/db/lock.js';
import { lwPaths } from '../../../src/lib/paths.js';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { createTempDatabase, PG_URL, type TempDatabase } from '../../helpers/pg.js';
import { closedPort } from '../../helpers/net.js';
import { runProcess, type ProcessResult } from '../../helpers/process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const SLOW = 240_000;

type Result = ProcessResult;

/** Runs `lw …` with a clean environment (no inherited database URL) plus `env`. */
function lw(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return runProcess(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: env['LW_HOME'] ?? tmpdir(), ...env },
  });
}


function json<T>(r: Result): T {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

interface KeyRow {
  name: string;
  tier: string;
  status: string;
  prefix: string;
}

/** The same admin story on any backend: tier, provider, model, key, list, revoke, errors. */
async function adminStory(run: (args: string[]) => Promise<Result>): Promise<void> {
  const tier = json<{ name: string; rpm: number }>(await run(['tiers', 'create', 'team', '--rpm', '5', '--tpm', '1000', '--json']));
  expect(tier).toMatchObject({ name: 'team', rpm: 5 });
  json(await run(['providers', 'add', 'local', '--kind', 'openai', '--base-url', 'http://127.0.0.1:9/v1', '--json']));
  const model = json<{ id: string; deployments: unknown[] }>(
    await run(['models', 'add', 'm1', '--provider', 'local', '--alias', 'one', '--price-in', '1', '--price-out', '2', '--json']),
  );
  expect(model).toMatchObject({ id: 'm1', deployments: [expect.objectContaining({ provider: 'local' })] });

  const created = json<{ key: string; name: string; tier: string; prefix: string }>(
    await run(['keys', 'create', '--name', 'alice', '--tier', 'team', '--json']),
  );
  expect(created.key).toMatch(/^lw-[A-Za-z0-9_-]{40,}$/);
  expect(created.key.startsWith(created.prefix)).toBe(true);

  const list = json<KeyRow[]>(await run(['keys', 'list', '--json']));
  expect(list).toEqual([expect.objectContaining({ name: 'alice', tier: 'team', status: 'active' })]);
  expect(JSON.stringify(list)).not.toContain(created.key);

  expect(json<KeyRow>(await run(['keys', 'revoke', 'alice', '--json'])).status).toBe('revoked');
  const plain = await run(['keys', 'list']);
  expect(plain.code).toBe(0);
  expect(plain.stdout).toMatch(/^alice +lw-\S+ +team +revoked /m);
  expect(plain.stdout).not.toContain('\u001b[');

  const missing = await run(['tiers', 'delete', 'gold']);
  expect(missing.code).toBe(1);
  expect(missing.stdout).toBe('');
  expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  expect(missing.stderr).toMatch(/^error: .*gold/);
}

describe('lw on the embedded store (PGlite)', () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'lw-cli-'));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('creates a tier, provider, model and key; lists; revokes', async () => {
    await adminStory((args) => lw(args, { LW_HOME: home }));
  }, SLOW);

  it('waits for another CLI holding the store, and fails clearly when it does not let go', async () => {
    const lock = await acquireStoreLock(lwPaths(home).lock, { pid: process.pid, purpose: 'cli' });
    expect(lock).not.toBeNull();
    try {
      const blocked = await lw(['keys', 'list'], { LW_HOME: home, LW_LOCK_WAIT_MS: '500' });
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toMatch(
        new RegExp(`^error: the embedded store at .+ is in use by another lw command \\(pid ${process.pid}\\)\\nhint: `),
      );
    } finally {
      await lock!.release();
    }
    // Two commands at once: the second waits for the first's lock instead of opening the folder too.
    const env = { LW_HOME: home, LW_LOCK_WAIT_MS: '120000' };
    const [a, b] = await Promise.all([
      lw(['keys', 'create', '--name', 'c1', '--json'], env),
      lw(['keys', 'create', '--name', 'c2', '--json'], env),
    ]);
    expect([a.code, b.code, a.stderr + b.stderr]).toEqual([0, 0, '']);
    const names = json<KeyRow[]>(await lw(['keys', 'list', '--json'], { LW_HOME: home })).map((k) => k.name);
    expect(names.sort()).toEqual(['alice', 'c1', 'c2']);
  }, SLOW);
});

describe('lw while the daemon holds the embedded store', () => {
  let daemon: TestDaemon;
  beforeAll(async () => {
    daemon = await startTestDaemon();
  }, 120_000);
  afterAll(async () => {
    await daemon?.close();
  });

  it('goes through the admin API, and changes are visible to the daemon', async () => {
    const env = { LW_HOME: daemon.home };
    const created = json<{ key: string; name: string }>(await lw(['keys', 'create', '--name', 'via-daemon', '--json'], env));
    expect(created.key).toMatch(/^lw-/);
    const seen = await daemon.admin.keys.list();
    expect(seen.map((k) => k.name)).toContain('via-daemon');
    const usage = json<{ totals: Record<string, unknown>; rows: unknown[] }>(await lw(['usage', '--json'], env));
    expect(usage.totals).toMatchObject({ requests: 0 });
  }, SLOW);

  it('names the daemon URL when --url points at nothing, and rejects a wrong admin key', async () => {
    const port = await closedPort();
    const token = 'f'.repeat(64);
    const down = await lw(['keys', 'list', '--url', `http://127.0.0.1:${port}`, '--admin-key', token], { LW_HOME: daemon.home });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      new RegExp(`^error: cannot reach the lw daemon at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\nhint: .*lw serve`),
    );
    const wrong = await lw(['keys', 'list', '--url', daemon.url], { LW_HOME: daemon.home, LW_ADMIN_KEY: token });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.split('\n')[0]).toMatch(/^error: /);
    expect(down.stderr + wrong.stderr).not.toContain(token);
  }, SLOW);
});

if (!PG_URL) console.warn('[lw tests] LW_TEST_DATABASE_URL is unset: `lw --db` against Postgres is SKIPPED.');

describe.skipIf(!PG_URL)('lw --db against Postgres', () => {
  let db: TempDatabase;
  let home: string;
  beforeAll(async () => {
    db = await createTempDatabase('lw_cli');
    home = mkdtempSync(join(tmpdir(), 'lw-cli-pg-'));
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  it('runs the same story through the store directly and never creates the embedded store', async () => {
    await adminStory((args) => lw(['--db', db.url, ...args], { LW_HOME: home }));
    const viaEnv = json<KeyRow[]>(await lw(['keys', 'list', '--json'], { LW_HOME: home, LW_DATABASE_URL: db.url }));
    expect(viaEnv.map((k) => k.name)).toEqual(['alice']);
    const { existsSync } = await import('node:fs');
    expect(existsSync(lwPaths(home).db)).toBe(false);
  }, SLOW);
});
