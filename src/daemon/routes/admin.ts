/**
 * @module The admin API: `POST /admin/v1/:group/:action` with `{ "args": [...] }` (the positional
 * arguments of the AdminService method) → `200 { "result": … }`. Bearer admin token compared in
 * constant time; only the methods listed here answer; errors in the OpenAI shape with the AdminError's status.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AdminService } from '../../admin/types.js';
import { AdminError } from '../../admin/types.js';
import type { Logger } from '../../lib/log.js';
import type { OpenAIErrorBody } from '../errors.js';

export interface AdminRoutesOptions {
  token: string;
  /** Unexpected (500) failures are logged here. */
  log?: Logger;
}

const input = z.record(z.string(), z.unknown());
const name = z.string().min(1);

/** The whitelist with each method's argument tuple; the mapped type makes it complete at compile time. */
const METHODS: { [G in keyof AdminService]: { [A in keyof AdminService[G]]: z.ZodType<unknown[]> } } = {
  keys: {
    create: z.tuple([input]),
    list: z.tuple([]),
    show: z.tuple([name]),
    revoke: z.tuple([name]),
    rotate: z.tuple([name]),
    set: z.tuple([name, input]),
  },
  tiers: {
    list: z.tuple([]),
    create: z.tuple([name, input.optional()]),
    set: z.tuple([name, input]),
    delete: z.tuple([name]),
  },
  providers: {
    add: z.tuple([input]),
    list: z.tuple([]),
    remove: z.tuple([name]),
    test: z.tuple([name]),
  },
  models: {
    list: z.tuple([]),
    add: z.tuple([input]),
    alias: z.tuple([name, name]),
    remove: z.tuple([name]),
    enable: z.tuple([name]),
    disable: z.tuple([name]),
    sync: z.tuple([name]),
  },
  usage: { report: z.tuple([input.optional()]) },
};

const ERROR_KINDS: Record<number, { type: string; code: string }> = {
  400: { type: 'invalid_request_error', code: 'invalid_request' },
  401: { type: 'authentication_error', code: 'invalid_admin_token' },
  404: { type: 'invalid_request_error', code: 'not_found' },
  409: { type: 'invalid_request_error', code: 'conflict' },
  500: { type: 'server_error', code: 'internal_error' },
  502: { type: 'upstream_error', code: 'upstream_error' },
  503: { type: 'service_unavailable', code: 'unavailable' },
};

function fail(c: Context, status: number, message: string): Response {
  const kind = ERROR_KINDS[status] ?? ERROR_KINDS[500]!;
  const body: OpenAIErrorBody = { error: { message, type: kind.type, code: kind.code, param: null } };
  return c.json(body, status as 400);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * @example
 * app.route('/', createAdminRoutes(service, { token: ensureAdminToken(paths.adminToken) }));
 */
export function createAdminRoutes(service: AdminService, opts: AdminRoutesOptions): Hono {
  if (!/^\S{16,}$/.test(opts.token)) throw new Error('admin token must be at least 16 non-space characters');
  const expected = digest(opts.token);
  const app = new Hono();

  app.use('/admin/*', async (c, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
    // Equal-length digests: the comparison time says nothing about the token.
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      c.header('www-authenticate', 'Bearer realm="lw-admin"');
      const how = 'Authorization: Bearer <the admin-token file in the data dir>';
      return fail(c, 401, `missing or wrong admin token (${how})`);
    }
    await next();
    return undefined;
  });

  app.post('/admin/v1/:group/:action', async (c) => {
    const group = c.req.param('group');
    const action = c.req.param('action');
    // Own properties only: '__proto__', 'constructor', 'toString' … are not methods.
    const table = METHODS as Record<string, Record<string, z.ZodType<unknown[]>>>;
    const methods = Object.hasOwn(table, group) ? table[group]! : null;
    const schema = methods && Object.hasOwn(methods, action) ? methods[action]! : null;
    if (!schema) return fail(c, 404, `unknown admin method '${group}.${action}'`);

    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail(c, 400, 'the body must be JSON: {"args": [...]}');
    }
    const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
    const raw = isObject ? ((body as { args?: unknown }).args ?? []) : null;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const where = (path: PropertyKey[]) => `args${path.map((p) => `[${String(p)}]`).join('')}`;
      const issues = parsed.error.issues.map((i) => `${where(i.path)}: ${i.message}`);
      return fail(c, 400, `bad arguments for ${group}.${action}: ${issues.join('; ')}`);
    }
    const target = (service as unknown as Record<string, Record<string, Method>>)[group]!;
    try {
      const result = await target[action]!.apply(target, parsed.data);
      return c.json({ result });
    } catch (e) {
      if (e instanceof AdminError) return fail(c, e.status, e.message);
      opts.log?.error('admin method failed', { method: `${group}.${action}`, error: e as Error });
      return fail(c, 500, `internal error in ${group}.${action}; the daemon log has the details`);
    }
  });

  app.all('/admin/*', (c) =>
    c.req.method === 'POST' || !c.req.path.startsWith('/admin/v1/')
      ? fail(c, 404, `no admin route ${c.req.method} ${c.req.path}`)
      : fail(c, 404, `admin methods are POST /admin/v1/<group>/<action>, not ${c.req.method}`),
  );

  return app;
}
