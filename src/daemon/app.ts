/**
 * @module The daemon's HTTP map. Inference routes (chat, responses, messages, embeddings) run on the
 * raw node:http fast path (`http/listener.ts`), and so do health, readiness and metrics (`http/ops.ts`);
 * this Hono app serves the rest, off the hot path: models, usage and the admin API. The listener
 * imports and builds it on the first request for one of those.
 */
import { Hono, type Context, type Next } from 'hono';
import type { AdminService } from '../admin/types.js';
import { authenticate } from './auth.js';
import type { GatewayDeps } from './deps.js';
import type { DaemonEnv } from './env.js';
import { GatewayError, renderOpenAIError, toGatewayError } from './errors.js';
import { modelsRoutes } from './routes/models.js';
import { modelsRouteRoutes } from './routes/models-route.js';
import { usageRoutes } from './routes/usage.js';
import { createAdminRoutes } from './routes/admin.js';

export interface AppOptions {
  admin?: { service: AdminService; token: string };
}

export function createApp(deps: GatewayDeps, opts: AppOptions): Hono<DaemonEnv> {
  const app = new Hono<DaemonEnv>();
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    c.set('requestId', c.req.header('x-lw-request-id') ?? '');
    await next();
  });

  if (opts.admin) app.route('/', createAdminRoutes(opts.admin.service, { token: opts.admin.token }));

  const keyAuth = async (c: Context<DaemonEnv>, next: Next) => {
    c.set('key', authenticate(deps.state.current, { authorization: c.req.header('authorization'), 'x-api-key': c.req.header('x-api-key') }, deps.now()));
    await next();
  };
  app.use('/v1/*', keyAuth);
  app.use('/api/models/*', keyAuth);
  app.route('/', modelsRoutes());
  app.route('/', modelsRouteRoutes());
  app.route('/', usageRoutes());

  app.notFound((c) => {
    const err = new GatewayError('not_found', `Unknown route: ${c.req.method} ${c.req.path}.`);
    return c.json(renderOpenAIError(err), 404);
  });
  app.onError((err, c) => {
    const ge = toGatewayError(err);
    if (ge.status >= 500) deps.log.error('request failed', { request_id: c.get('requestId'), error: err.message });
    return c.json(renderOpenAIError(ge), ge.status as 400, ge.headers);
  });
  return app;
}
