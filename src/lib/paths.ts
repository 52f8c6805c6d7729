/** @module Where lw keeps its data: `$LW_HOME` (default `~/.local/share/lw`), the PGlite folder, lock and admin token. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface LwPaths {
  home: string;
  /** PGlite data directory (embedded store). */
  db: string;
  /** Lock file guarding the PGlite directory: only one process may open it. */
  lock: string;
  /** Admin API token (mode 0600), read by the CLI to reach a running daemon. */
  adminToken: string;
  /** Written by `lw serve`: where the running daemon's admin API listens. */
  daemonInfo: string;
  /** Default config file. */
  config: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env['LW_HOME']) return env['LW_HOME'];
  const xdg = env['XDG_DATA_HOME'] || join(env['HOME'] || homedir(), '.local', 'share');
  return join(xdg, 'lw');
}

export function lwPaths(home: string = resolveHome()): LwPaths {
  return {
    home,
    db: join(home, 'db'),
    lock: join(home, 'db.lock'),
    adminToken: join(home, 'admin-token'),
    daemonInfo: join(home, 'daemon.json'),
    config: join(home, 'lw.toml'),
  };
}
