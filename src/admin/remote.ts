/**
 * @module The AdminService over a daemon's admin API (`POST /admin/v1/<group>/<action>`), so the CLI
 * behaves the same against a running `lw serve` (local or remote) as on the store directly.
 * AdminErrors come back with their status and message; network errors propagate unchanged.
 */
import type { AdminService } from './types.js';
import { AdminError } from './types.js';

export interface RemoteServiceOptions {
  /** Daemon base URL, e.g. http://127.0.0.1:8040. */
  url: string;
  token: string;
  fetchImpl?: typeof fetch;
}

const STATUSES = new Set([400, 401, 404, 409, 500, 502, 503]);

function adminStatus(status: number): AdminError['status'] {
  if (STATUSES.has(status)) return status as AdminError['status'];
  return status >= 400 && status < 500 ? 400 : 500;
}

/**
 * @example
 * const admin = createRemoteService({ url: info.url, token: readAdminToken(paths.adminToken)! });
 * await admin.keys.list();
 */
export function createRemoteService(opts: RemoteServiceOptions): AdminService {
  const base = opts.url.replace(/\/+$/, '');
  const doFetch = opts.fetchImpl ?? fetch;

  async function call<T>(group: string, action: string, args: unknown[]): Promise<T> {
    const res = await doFetch(`${base}/admin/v1/${group}/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ args }),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok && body && typeof body === 'object' && 'result' in body) return (body as { result: T }).result;
    const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
    throw new AdminError(
      typeof message === 'string' ? message : `the admin API at ${base} answered HTTP ${res.status} without a result`,
      res.ok ? 502 : adminStatus(res.status),
    );
  }

  return {
    keys: {
      create: (input) => call('keys', 'create', [input]),
      list: () => call('keys', 'list', []),
      show: (ref) => call('keys', 'show', [ref]),
      revoke: (ref) => call('keys', 'revoke', [ref]),
      rotate: (ref) => call('keys', 'rotate', [ref]),
      set: (ref, input) => call('keys', 'set', [ref, input]),
    },
    tiers: {
      list: () => call('tiers', 'list', []),
      create: (name, input) => call('tiers', 'create', [name, input]),
      set: (name, input) => call('tiers', 'set', [name, input]),
      delete: (name) => call('tiers', 'delete', [name]),
    },
    providers: {
      add: (input) => call('providers', 'add', [input]),
      list: () => call('providers', 'list', []),
      remove: (name) => call('providers', 'remove', [name]),
      test: (name) => call('providers', 'test', [name]),
    },
    models: {
      list: () => call('models', 'list', []),
      add: (input) => call('models', 'add', [input]),
      alias: (id, alias) => call('models', 'alias', [id, alias]),
      remove: (id) => call('models', 'remove', [id]),
      enable: (id) => call('models', 'enable', [id]),
      disable: (id) => call('models', 'disable', [id]),
      sync: (provider) => call('models', 'sync', [provider]),
    },
    usage: {
      report: (query) => call('usage', 'report', [query ?? {}]),
    },
  };
}
