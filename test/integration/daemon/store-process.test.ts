/**
 * `lw serve` on the embedded store runs PGlite in a process of its own (a real subprocess here): the
 * store's pid is in daemon.json and the log, its socket is private, data written with the admin CLI
 * survives a restart, SIGTERM stops both processes, SIGKILL of the daemon makes the store process exit
 * by itself (and the next `lw serve` takes the folder over), and LW_EMBEDDED_STORE=inprocess still
 * opens the same folder in the daemon's own process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readDaemonInfo, type DaemonInfo } from '../../../src/admin/daemon-info.js';
import { isPidAlive } from '../../../src/db/lock.js';
import { lwPaths } from '../../../src/lib/paths.js';
import { ROOT, serve, stop, type Served } from '../../helpers/serve-process.js';

const run = promisify(execFile);
const SLOW = 180_000;

describe('lw serve with the embedded store in its own process', () => {
  let home: string;
  let daemon: Served | null = null;
  const lw = async (...args: string[]) => {
    const env = { ...process.env, LW_HOME: home, HOME: home };
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, timeout: 60_000 });
    return r.stdout;
  };
  const keyNames = async () => (JSON.parse(await lw('--json', 'keys', 'list')) as { name: string }[]).map((k) => k.name).sort();
  const info = (): DaemonInfo => {
    const i = readDaemonInfo(lwPaths(home).daemonInfo);
    if (!i) throw new Error('no daemon.json');
    return i;
  };
  const socketPath = () => join(home, 'run', '.s.PGSQL.lw');
  const waitGone = (pid: number) => vi.waitFor(() => expect(isPidAlive(pid)).toBe(false), { timeout: 10_000, interval: 100 });

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'lw-storeproc-'));
  });
  afterAll(async () => {
    await stop(daemon);
    rmSync(home, { recursive: true, force: true });
  });

  let storePid = 0;

  it('runs the store in another process, named in daemon.json and the log, on a private socket', { timeout: SLOW }, async () => {
    daemon = await serve(home, {});
    const i = info();
    expect(i.pid).toBe(daemon.child.pid);
    expect(i.store_pid).toEqual(expect.any(Number));
    storePid = i.store_pid!;
    expect(storePid).not.toBe(daemon.child.pid);
    expect(isPidAlive(storePid)).toBe(true);
    if (existsSync(`/proc/${storePid}/cmdline`)) {
      const argv = readFileSync(`/proc/${storePid}/cmdline`, 'utf8').split('\0');
      expect(argv.some((a) => a.endsWith(join('db', 'server', 'entry.ts')))).toBe(true);
    }
    expect(daemon.stderr()).toContain(`"store_pid":${storePid}`);
    const sock = statSync(socketPath());
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'run')).mode & 0o777).toBe(0o700);
  });

  it('keeps what the admin CLI wrote across a SIGTERM restart, and SIGTERM stops both processes', { timeout: SLOW }, async () => {
    await lw('keys', 'create', '--name', 'alice');
    await lw('tiers', 'create', 'gold', '--rpm', '77');
    expect(await keyNames()).toEqual(['alice']);
    daemon!.child.kill('SIGTERM');
    expect(await daemon!.exited).toBe(0);
    await waitGone(storePid);
    expect(daemon!.stderr()).toContain('"msg":"store: store process stopped"');
    expect(existsSync(socketPath())).toBe(false);
    expect(existsSync(lwPaths(home).lock)).toBe(false);

    daemon = await serve(home, {});
    const next = info().store_pid!;
    expect(next).not.toBe(storePid);
    storePid = next;
    expect(await keyNames()).toEqual(['alice']);
    const tiers = JSON.parse(await lw('--json', 'tiers', 'list')) as { name: string; rpm: number | null }[];
    expect(tiers.find((t) => t.name === 'gold')?.rpm).toBe(77);
  });

  it('stops the store process by itself when the daemon is SIGKILLed; the next lw serve takes over', { timeout: SLOW }, async () => {
    await lw('keys', 'create', '--name', 'bob');
    daemon!.child.kill('SIGKILL');
    await daemon!.exited;
    await waitGone(storePid);
    expect(existsSync(socketPath())).toBe(false);

    daemon = await serve(home, {});
    expect(info().store_pid).not.toBe(storePid);
    storePid = info().store_pid!;
    expect(await keyNames()).toEqual(['alice', 'bob']);
    await stop(daemon);
    await waitGone(storePid);
  });

  it('opens the same folder in its own process with LW_EMBEDDED_STORE=inprocess', { timeout: SLOW }, async () => {
    daemon = await serve(home, { LW_EMBEDDED_STORE: 'inprocess' });
    expect(info().store_pid).toBeUndefined();
    expect(existsSync(socketPath())).toBe(false);
    expect(await keyNames()).toEqual(['alice', 'bob']);
    await stop(daemon);
  });
});
