/**
 * @module Model resolution and access: exact id, then alias, then case-insensitive; an unknown model
 * is a 404 naming close matches; a model outside the key's globs is a 403 naming the model.
 */
import { GatewayError } from './errors.js';
import type { KeyEntry, ModelEntry, Snapshot } from './state/types.js';

const globCache = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 'i');
    globCache.set(glob, re);
  }
  return re;
}

/** True when `globs` is empty (every model) or one glob matches the model's id or an alias. */
export function modelAllowed(globs: readonly string[], model: ModelEntry): boolean {
  if (globs.length === 0) return true;
  for (const g of globs) {
    const re = globToRegExp(g);
    if (re.test(model.id)) return true;
    for (const a of model.aliases) if (re.test(a)) return true;
  }
  return false;
}

export function findModel(snap: Snapshot, name: string): ModelEntry | undefined {
  return snap.models.get(name) ?? snap.aliases.get(name) ?? snap.lowercase.get(name.toLowerCase());
}

function distance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n]!;
}

/** Up to three ids the key may use that look like `name`. */
export function closeMatches(snap: Snapshot, key: KeyEntry, name: string): string[] {
  const q = name.toLowerCase();
  const scored: Array<[string, number]> = [];
  for (const m of snap.models.values()) {
    if (!m.enabled || !modelAllowed(key.modelGlobs, m)) continue;
    const id = m.id.toLowerCase();
    const d = id.includes(q) || q.includes(id) ? 0 : distance(q, id);
    if (d <= Math.max(3, Math.floor(q.length / 3))) scored.push([m.id, d]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([id]) => id);
}

export type ModelKind = 'chat' | 'embedding';

/**
 * Resolves the requested model for this key and endpoint kind, or throws 404/403/400.
 * @example resolveModel(snap, key, 'GPT-4o', 'chat')
 */
export function resolveModel(snap: Snapshot, key: KeyEntry, name: string, kind: ModelKind): ModelEntry {
  const model = findModel(snap, name);
  if (!model || !model.enabled) {
    const close = closeMatches(snap, key, name);
    const hint = close.length ? ` Did you mean ${close.map((c) => `'${c}'`).join(', ')}?` : ' GET /v1/models lists the models this key can use.';
    throw new GatewayError('model_not_found', `The model '${name}' does not exist or is disabled.${hint}`, { param: 'model' });
  }
  if (!modelAllowed(key.modelGlobs, model)) {
    throw new GatewayError('model_not_allowed', `This key may not use the model '${model.id}'.`, { param: 'model' });
  }
  if (model.kind !== kind) {
    const what = kind === 'chat' ? 'a chat model' : 'an embedding model';
    throw new GatewayError('invalid_request', `The model '${model.id}' is not ${what}.`, { param: 'model' });
  }
  if (model.deployments.length === 0) {
    throw new GatewayError('no_upstream_available', `The model '${model.id}' has no enabled deployment.`);
  }
  return model;
}
