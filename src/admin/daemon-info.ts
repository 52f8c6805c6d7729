/**
 * @module `daemon.json` in the data dir: where a running `lw serve` answers ({pid, url, started}, plus
 * store_pid when the embedded store runs in its own process; mode 0600), so admin commands on the same
 * machine can reach it while it holds the embedded store, and tools (the bench) find both processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isPidAlive } from '../db/lock.js';

export interface DaemonInfo {
  pid: number;
  /** Base URL of the daemon (admin API under /admin/v1). */
  url: string;
  /** ISO start time. */
  started: string;
  /** The embedded store's own process, when it runs in one (`lw serve` without a database URL). */
  store_pid?: number;
}

/** Writes the file atomically (temp file + rename), mode 0600. */
export function writeDaemonInfo(path: string, info: DaemonInfo): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}

/** The recorded daemon, or null when the file is missing or unreadable. */
export function readDaemonInfo(path: string): DaemonInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<DaemonInfo>;
    if (typeof v.pid !== 'number' || typeof v.url !== 'string' || typeof v.started !== 'string') return null;
    return { pid: v.pid, url: v.url, started: v.started, ...(typeof v.store_pid === 'number' ? { store_pid: v.store_pid } : {}) };
  } catch {
    return null;
  }
}

/** True while the recorded process is running. */
export function isDaemonAlive(info: DaemonInfo): boolean {
  return isPidAlive(info.pid);
}

/** Removes the file if it still describes process `pid` (a newer daemon's file is left alone). */
export function removeDaemonInfo(path: string, pid: number = process.pid): void {
  const info = readDaemonInfo(path);
  if (info && info.pid !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
