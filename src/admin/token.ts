/**
 * @module The admin token: 32 random bytes (hex) in the data dir, mode 0600, created on first use.
 * `lw serve` requires it on the admin API; the CLI on the same machine reads it to reach the daemon.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const TOKEN_RE = /^[0-9a-f]{64}$/;

export class AdminTokenError extends Error {
  override name = 'AdminTokenError';
}

/** Refuses a token file that other users can read or write (like ssh does with private keys). */
function checkMode(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AdminTokenError(
      `admin token ${path} is accessible by other users (mode ${mode.toString(8).padStart(4, '0')}); ` +
        `run: chmod 600 ${path}`,
    );
  }
}

function parse(path: string, text: string): string {
  const token = text.trim();
  if (!TOKEN_RE.test(token)) {
    throw new AdminTokenError(`admin token ${path} is malformed; delete it and restart lw serve to create a new one`);
  }
  return token;
}

/** The token in `path`, or null when the file does not exist. Throws on a bad mode or content. */
export function readAdminToken(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  checkMode(path);
  return parse(path, text);
}

/**
 * Returns the admin token, creating it (mode 0600) when absent. Creation is atomic: the token is written
 * to a private temp file and hard-linked into place, so two processes starting together agree on one.
 * @example const token = ensureAdminToken(lwPaths().adminToken);
 */
export function ensureAdminToken(path: string): string {
  const existing = readAdminToken(path);
  if (existing) return existing;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, token + '\n', { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(tmp, 0o600);
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  const token2 = readAdminToken(path);
  if (!token2) throw new AdminTokenError(`could not create the admin token at ${path}`);
  return token2;
}
