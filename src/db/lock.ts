/**
 * @module The PGlite folder lock. PGlite is single-process: two processes opening one data folder
 * corrupt it, so whoever opens it first holds a lock file beside it ({pid, purpose, started}).
 * A lock whose process is gone is stale and taken over; a live one makes acquire return null, and
 * the CLI then goes through the daemon's admin API instead.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface StoreLockInfo {
  pid: number;
  purpose: 'serve' | 'cli';
  /** ISO time the lock was taken. */
  started: string;
}

export interface StoreLock {
  path: string;
  info: StoreLockInfo;
  /** Removes the lock file if it is still ours. Also done automatically at process exit. */
  release(): Promise<void>;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseInfo(text: string): StoreLockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<StoreLockInfo>;
    const { pid, purpose, started } = v;
    if (typeof pid !== 'number' || typeof started !== 'string') return null;
    if (purpose !== 'serve' && purpose !== 'cli') return null;
    return { pid, purpose, started };
  } catch {
    return null;
  }
}

/** The lock's holder and whether it is still running; null when there is no lock file (synchronous). */
export function readStoreLock(lockPath: string): (StoreLockInfo & { alive: boolean }) | null {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const info = parseInfo(text);
  if (!info) return { pid: 0, purpose: 'cli', started: '', alive: false };
  return { ...info, alive: isPidAlive(info.pid) };
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;
const sameInfo = (a: StoreLockInfo | null, b: StoreLockInfo | null) =>
  a !== null && b !== null && a.pid === b.pid && a.started === b.started && a.purpose === b.purpose;

/**
 * Creates the lock file atomically with its full content: the JSON goes to a private temp file that is
 * then hard-linked into place (link fails with EEXIST when a lock exists), so nobody reads a half file.
 */
async function tryCreate(lockPath: string, body: string): Promise<boolean> {
  const tmp = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, body, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, lockPath);
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Replaces a stale lock. Stale takers are serialised by a `.takeover` mutex file (removed when older
 * than 10 s, i.e. left by a crash), and re-check under it that the lock is still the stale one.
 */
async function takeOver(lockPath: string, stale: string, body: string): Promise<boolean | 'busy'> {
  const mutex = `${lockPath}.takeover`;
  try {
    await writeFile(mutex, String(process.pid), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if (code(e) !== 'EEXIST') throw e;
    const age = await stat(mutex).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > 10_000) await unlink(mutex).catch(() => {});
    return 'busy';
  }
  try {
    const now = await readFile(lockPath, 'utf8').catch(() => null);
    if (now !== null && now !== stale) return false;
    if (now !== null) await unlink(lockPath).catch(() => {});
    return await tryCreate(lockPath, body);
  } finally {
    await unlink(mutex).catch(() => {});
  }
}

/**
 * Takes the folder lock, or returns null when a live process holds it.
 * @example
 * const lock = await acquireStoreLock(paths.lock, { pid: process.pid, purpose: 'serve' });
 * if (!lock) throw new Error('another lw process holds the store');
 */
export async function acquireStoreLock(
  lockPath: string,
  info: { pid: number; purpose: 'serve' | 'cli' },
): Promise<StoreLock | null> {
  const mine: StoreLockInfo = { pid: info.pid, purpose: info.purpose, started: new Date().toISOString() };
  const body = JSON.stringify(mine) + '\n';
  await mkdir(dirname(lockPath), { recursive: true });
  let acquired = false;
  for (let attempt = 0; attempt < 50 && !acquired; attempt++) {
    if (await tryCreate(lockPath, body)) {
      acquired = true;
      break;
    }
    const current = await readFile(lockPath, 'utf8').catch((e: unknown) =>
      code(e) === 'ENOENT' ? null : Promise.reject(e),
    );
    if (current === null) continue;
    const holder = parseInfo(current);
    if (holder && isPidAlive(holder.pid)) return null;
    const result = await takeOver(lockPath, current, body);
    if (result === true) acquired = true;
    else if (result === 'busy') await new Promise((r) => setTimeout(r, 20));
  }
  if (!acquired) return null;

  const releaseSync = () => {
    try {
      if (sameInfo(parseInfo(readFileSync(lockPath, 'utf8')), mine)) unlinkSync(lockPath);
    } catch {
      // already gone
    }
  };
  process.once('exit', releaseSync);
  return {
    path: lockPath,
    info: mine,
    async release() {
      process.removeListener('exit', releaseSync);
      const now = await readFile(lockPath, 'utf8').catch(() => null);
      if (now !== null && sameInfo(parseInfo(now), mine)) await unlink(lockPath).catch(() => {});
    },
  };
}
