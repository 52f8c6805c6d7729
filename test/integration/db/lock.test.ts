import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { acquireStoreLock, readStoreLock } from '../../../src/db/lock.js';

const freshLockPath = () => join(mkdtempSync(join(tmpdir(), 'lw-lock-')), 'db.lock');

/** The pid of a process that has exited (so nothing answers to it). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('PGlite folder lock', () => {
  it('is exclusive: a second acquire returns null while the holder is alive', async () => {
    const path = freshLockPath();
    const lock = await acquireStoreLock(path, { pid: process.pid, purpose: 'serve' });
    expect(lock).not.toBeNull();
    const content = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(content).toMatchObject({ pid: process.pid, purpose: 'serve' });
    expect(Number.isNaN(Date.parse(String(content['started'])))).toBe(false);
    expect(await acquireStoreLock(path, { pid: process.pid, purpose: 'cli' })).toBeNull();
    expect(readStoreLock(path)).toMatchObject({ pid: process.pid, purpose: 'serve', alive: true });
    await lock!.release();
    expect(readStoreLock(path)).toBeNull();
    const again = await acquireStoreLock(path, { pid: process.pid, purpose: 'cli' });
    expect(again?.info.purpose).toBe('cli');
    await again!.release();
  });

  it('takes over a stale lock left by a dead process, and a corrupt one', async () => {
    const path = freshLockPath();
    const pid = deadPid();
    writeFileSync(path, JSON.stringify({ pid, purpose: 'serve', started: '2020-01-01T00:00:00Z' }));
    expect(readStoreLock(path)).toMatchObject({ pid, alive: false });
    const lock = await acquireStoreLock(path, { pid: process.pid, purpose: 'cli' });
    expect(lock).not.toBeNull();
    expect(readStoreLock(path)).toMatchObject({ pid: process.pid, purpose: 'cli', alive: true });
    await lock!.release();
    writeFileSync(path, '{"pid": 12');
    const lock2 = await acquireStoreLock(path, { pid: process.pid, purpose: 'cli' });
    expect(lock2).not.toBeNull();
    await lock2!.release();
  });

  it('lets exactly one of several racing acquirers take a stale lock', async () => {
    const dead = deadPid();
    for (let round = 0; round < 25; round++) {
      const path = freshLockPath();
      writeFileSync(path, JSON.stringify({ pid: dead, purpose: 'cli', started: '2020-01-01T00:00:00Z' }));
      const results = await Promise.all(
        Array.from({ length: 8 }, () => acquireStoreLock(path, { pid: process.pid, purpose: 'cli' })),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      await results.find((r) => r !== null)!.release();
      // no temp or mutex files left behind
      expect(readdirSync(join(path, '..'))).toEqual([]);
    }
  });

  it('release leaves a lock that is no longer ours alone', async () => {
    const path = freshLockPath();
    const lock = await acquireStoreLock(path, { pid: process.pid, purpose: 'cli' });
    const other = JSON.stringify({ pid: process.pid, purpose: 'serve', started: '2999-01-01T00:00:00Z' });
    writeFileSync(path, other);
    await lock!.release();
    expect(readFileSync(path, 'utf8')).toBe(other);
  });

  it('is released when the holding process exits', async () => {
    const path = freshLockPath();
    const lockModule = fileURLToPath(new URL('../../../src/db/lock.ts', import.meta.url));
    const script = join(path, '..', 'hold.mts');
    writeFileSync(
      script,
      `import { acquireStoreLock } from ${JSON.stringify(lockModule)};\n` +
        `const lock = await acquireStoreLock(${JSON.stringify(path)}, { pid: process.pid, purpose: 'serve' });\n` +
        `process.stdout.write(lock ? 'held' : 'busy');\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect({ code, out }).toEqual({ code: 0, out: 'held' });
    expect(existsSync(path)).toBe(false);
  });
});
