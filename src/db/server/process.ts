/**
 * @module The parent side of the embedded store process: `lw serve` (which holds the folder lock)
 * spawns entry.ts with the same Node (dist/db/server/entry.js when built, the TypeScript source through
 * tsx otherwise; not with this process's execArgv, which may hold --inspect or test-runner flags),
 * waits for its ready line, and connects postgres.js to its Unix socket.
 * The child's stderr (JSON log lines) is relayed to the daemon's log with `store_pid`. Closing the
 * store ends the connections, then closes the child's stdin (its signal to close PGlite and exit),
 * waiting a bounded time before SIGKILL. If the parent dies, the closed pipe stops the child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve as absolute } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger, LogLevel } from '../../lib/log.js';
import { openSocketStore, type Store } from '../client.js';

/** Socket file name, as Postgres names its own. */
export const SOCKET_NAME = '.s.PGSQL.lw';
/** sun_path holds 108 bytes on Linux (104 on macOS), NUL included. */
const MAX_SOCKET_PATH = 100;

export interface StoreProcess {
  pid: number;
  socketPath: string;
  /** Resolves when the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Asks the child to close PGlite and exit; SIGKILL after `timeoutMs`. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface SpawnStoreOptions {
  dataDir: string;
  /** Directory for the socket (created 0700); a private temp dir when the path would be too long. */
  socketDir: string;
  log: Logger;
  /** How long the child waits after SIGTERM/SIGINT for us to end it (default 120 s). */
  graceMs?: number;
  /** Start-up limit, first-run initdb included (default 60 s). */
  readyTimeoutMs?: number;
  /** Called when the child exits without being asked to. */
  onUnexpectedExit?: (info: { code: number | null; signal: NodeJS.Signals | null }) => void;
}

/** Node arguments running entry.ts beside this module: compiled (dist) or TypeScript (through tsx). */
function entryArgs(): string[] {
  if (import.meta.url.endsWith('.ts')) {
    // tsx resolved from here, not from the working directory (`--import tsx` would be)
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return ['--import', tsx, fileURLToPath(new URL('./entry.ts', import.meta.url))];
  }
  return [fileURLToPath(new URL('./entry.js', import.meta.url))];
}

function socketLocation(socketDir: string): { path: string; cleanup: () => void } {
  const preferred = join(socketDir, SOCKET_NAME);
  if (Buffer.byteLength(preferred) <= MAX_SOCKET_PATH) {
    mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    chmodSync(socketDir, 0o700);
    return { path: preferred, cleanup: () => rmSync(preferred, { force: true }) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'lw-store-'));
  return { path: join(dir, SOCKET_NAME), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const LEVELS = new Set<string>(['debug', 'info', 'warn', 'error']);

/** Relays the child's stderr lines to our log; keeps the last few for start-up errors. */
function relayLog(child: ChildProcess, log: Logger, tail: string[]): void {
  const rl = createInterface({ input: child.stderr! });
  rl.on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    let parsed: Record<string, unknown> | null = null;
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === 'object' && typeof (v as { msg?: unknown }).msg === 'string') parsed = v as Record<string, unknown>;
    } catch {
      // plain text
    }
    if (!parsed) return log.warn('store process output', { store_pid: child.pid, line });
    const { msg, level, time: _time, ...fields } = parsed;
    const lvl = (typeof level === 'string' && LEVELS.has(level) ? level : 'info') as Exclude<LogLevel, 'silent'>;
    log[lvl](`store: ${String(msg)}`, { store_pid: child.pid, ...fields });
  });
}

/** True when the folder holds an initialised PGlite store. */
const initialised = (dataDir: string) => existsSync(join(dataDir, 'PG_VERSION'));

/** Runs entry.ts --init (initdb in a process of its own: see initStoreFolder) and waits for it. */
async function initFolder(opts: SpawnStoreOptions): Promise<void> {
  opts.log.info('creating the embedded store', { path: opts.dataDir });
  const child = spawn(process.execPath, [...entryArgs(), '--init', '--dir', absolute(opts.dataDir)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  relayLog(child, opts.log, tail);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.once('exit', (c, s) => resolve([c, s]));
    child.once('error', (e) => {
      tail.push(e.message);
      resolve([null, null]);
    });
  });
  if (code !== 0) throw new Error(`cannot create the embedded store (${signal ?? `code ${code}`}): ${tail.join('\n') || 'no output'}`);
}

/**
 * Spawns the store process and resolves once it serves the socket.
 * @example
 * const proc = await spawnStoreProcess({ dataDir: paths.db, socketDir: join(paths.home, 'run'), log });
 * // … postgres({ path: proc.socketPath }) …
 * await proc.stop();
 */
export async function spawnStoreProcess(opts: SpawnStoreOptions): Promise<StoreProcess> {
  if (!initialised(opts.dataDir)) await initFolder(opts);
  const socket = socketLocation(absolute(opts.socketDir));
  const graceMs = opts.graceMs ?? 120_000;
  const child = spawn(
    process.execPath,
    [...entryArgs(), '--dir', absolute(opts.dataDir), '--socket', socket.path, '--grace-ms', String(graceMs), '--parent-pid', String(process.pid)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stopping = false;
  const tail: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      socket.cleanup();
      resolve({ code, signal });
    });
    // a process that could not be spawned never exits
    child.once('error', () => {
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
  relayLog(child, opts.log, tail);
  child.stdin!.on('error', () => {}); // EPIPE once the child is gone

  const stop = async (timeoutMs = 15_000): Promise<void> => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(kill);
    }
    await exited;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the store process did not start within ${opts.readyTimeoutMs ?? 60_000} ms`)), opts.readyTimeoutMs ?? 60_000);
      const done = (e?: Error) => {
        clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      child.once('error', (e) => done(e));
      void exited.then(({ code, signal }) =>
        done(new Error(`the store process exited (${signal ?? `code ${code}`}) before it was ready: ${tail.join('\n') || 'no output'}`)),
      );
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          if ((JSON.parse(line) as { ready?: unknown }).ready === true) done();
        } catch {
          // not the ready line
        }
      });
    });
  } catch (e) {
    await stop(5_000);
    throw e;
  }
  if (!existsSync(socket.path)) {
    await stop(5_000);
    throw new Error(`the store process reported ready but ${socket.path} does not exist`);
  }
  void exited.then((info) => {
    if (stopping) return;
    opts.log.error('the store process exited unexpectedly', { store_pid: child.pid, code: info.code, signal: info.signal });
    opts.onUnexpectedExit?.(info);
  });
  return { pid: child.pid!, socketPath: socket.path, exited, stop };
}

export interface ProcessStoreOptions extends SpawnStoreOptions {
  /** postgres.js connections (default 2: the store runs one session). */
  max?: number;
}

/**
 * The embedded store in its own process, as a Store: kind 'pglite', driver postgres.js, `pid` the
 * child's. close() ends the connections, then the child.
 * @example
 * const store = await openProcessStore({ dataDir: paths.db, socketDir: join(paths.home, 'run'), log });
 */
export async function openProcessStore(opts: ProcessStoreOptions): Promise<Store> {
  const proc = await spawnStoreProcess(opts);
  try {
    return await openSocketStore(proc.socketPath, {
      location: opts.dataDir,
      pid: proc.pid,
      max: opts.max ?? 2,
      onClose: () => proc.stop(),
    });
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

/** The socket directory `lw serve` uses for the store of a data directory: `<home>/run`. */
export const storeSocketDir = (home: string): string => join(home, 'run');
