/** @module GET /v1/models and GET /v1/models/{id}: the models this key may use, OpenAI list shape. */
import { Hono } from 'hono';
import type { DaemonEnv } from '../env.js';
import { GatewayError } from '../errors.js';
import { findModel, modelAllowed, closeMatches } from '../resolve.js';
import type { ModelEntry } from '../state/types.js';

export function modelObject(m: ModelEntry) {
  return {
    id: m.id,
    object: 'model' as const,
    created: Math.floor(m.createdAt / 1000),
    owned_by: m.deployments[0]?.provider.name ?? 'lw',
    kind: m.kind,
    aliases: m.aliases,
    context_window: m.contextWindow,
    max_output_tokens: m.maxOutput,
    status: m.status,
  };
}

export type ModelObject = ReturnType<typeof modelObject>;
export interface ModelList {
  object: 'list';
  data: ModelObject[];
}

export function modelsRoutes(): Hono<DaemonEnv> {
  const app = new Hono<DaemonEnv>();
  app.get('/v1/models', (c) => {
    const key = c.get('key');
    const snap = c.get('deps').state.current;
    const data: ModelObject[] = [];
    for (const m of snap.models.values()) {
      if (m.enabled && m.deployments.length > 0 && modelAllowed(key.modelGlobs, m)) data.push(modelObject(m));
    }
    data.sort((a, b) => a.id.localeCompare(b.id));
    return c.json({ object: 'list', data } satisfies ModelList);
  });
  app.get('/v1/models/:id{.+}', (c) => {
    const key = c.get('key');
    const snap = c.get('deps').state.current;
    const id = c.req.param('id');
    const m = findModel(snap, id);
    if (!m || !m.enabled || !modelAllowed(key.modelGlobs, m)) {
      const close = closeMatches(snap, key, id);
      throw new GatewayError('model_not_found', `The model '${id}' does not exist.${close.length ? ` Did you mean ${close.map((x) => `'${x}'`).join(', ')}?` : ''}`, {
        param: 'model',
      });
    }
    return c.json(modelObject(m));
  });
  return app;
}
