/**
 * @module `model: "auto"`: the best healthy model this key may use for this request, chosen by the
 * router's scorer (`score.ts`, preference `fastest`: health, then recent latency, then GA over Preview,
 * then price). What the request needs is read from its body whatever the inbound format (tools; image
 * parts of Chat, Responses or Messages; the prompt's cheap token estimate). The choice is reported in the
 * `x-lw-routed-model` header and, on non-stream chat, in a `routing_info` field of the body.
 */
import { GatewayError } from '../errors.js';
import { findModel } from '../resolve.js';
import type { KeyEntry, ModelEntry, Snapshot } from '../state/types.js';
import { candidates, rankModels, type HealthView, type Needs } from './score.js';

export const AUTO_MODEL = 'auto';

export interface AutoChoice {
  model: ModelEntry;
  reason: string;
}

export interface RoutingInfo {
  model: string;
  provider: string;
  reason: string;
}

/** True when the client asked for `auto` and no model (id or alias) is called that. */
export function isAutoRequest(snap: Snapshot, name: string): boolean {
  return name.toLowerCase() === AUTO_MODEL && findModel(snap, name) === undefined;
}

/** Chat `image_url`, Responses `input_image`, Messages `image`. */
const IMAGE_TYPES = new Set(['image_url', 'input_image', 'image']);

function hasImage(value: unknown, depth: number): boolean {
  if (depth > 5 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasImage(v, depth + 1));
  const o = value as Record<string, unknown>;
  if (typeof o['type'] === 'string' && IMAGE_TYPES.has(o['type'])) return true;
  return hasImage(o['content'], depth + 1);
}

/**
 * What a request body needs of a model: tools when it offers any, vision when a message carries an
 * image, and room for the prompt. `estimateTokens` is called once; the pipeline passes the route's
 * tokenizer-free `reserveTokens`, so routing never loads or runs the tokenizer.
 * @example requestNeeds({ messages: [...], tools: [...] }, () => 120) // { tools: true, vision: false, promptTokens: 120 }
 */
export function requestNeeds(body: Record<string, unknown>, estimateTokens: () => number): Required<Pick<Needs, 'tools' | 'vision' | 'promptTokens'>> {
  const tools = body['tools'] ?? body['functions'];
  return {
    tools: Array.isArray(tools) && tools.length > 0,
    vision: hasImage(body['messages'], 0) || hasImage(body['input'], 0),
    promptTokens: estimateTokens(),
  };
}

function needsText(needs: Needs): string {
  const parts: string[] = [];
  if (needs.tools) parts.push('tools');
  if (needs.vision) parts.push('vision');
  if (needs.promptTokens) parts.push(`a context window over ${needs.promptTokens} tokens`);
  return parts.join(', ');
}

/**
 * The model `auto` sends this request to, and why; throws 404 (the key may use no chat model),
 * 400 (none fits the request's needs) or 503 (every fitting model is cooling down).
 * @example chooseAuto(snap, key, { tools: true, promptTokens: 900 }, deps.health).model.id
 */
export function chooseAuto(snap: Snapshot, key: KeyEntry, needs: Needs, health: HealthView): AutoChoice {
  const chat: Needs = { ...needs, kind: 'chat' };
  const { allowed, capable } = candidates(snap, key, chat);
  if (allowed.length === 0) {
    throw new GatewayError('model_not_found', "'auto' found no chat model this key may use. GET /v1/models lists them.", { param: 'model' });
  }
  const wanted = needsText(chat);
  if (capable.length === 0) {
    const n = allowed.length;
    throw new GatewayError('invalid_request', `'auto' found no model for this request: none of the ${n} model${n === 1 ? '' : 's'} this key may use has ${wanted}.`, {
      param: 'model',
    });
  }
  const ranked = rankModels(capable, chat, health, 'fastest');
  const best = ranked[0];
  if (!best) {
    throw new GatewayError('no_upstream_available', `'auto': every model that fits this request (${capable.length}) is cooling down after failures; retry shortly.`);
  }
  const of = `best of ${ranked.length} healthy candidate${ranked.length === 1 ? '' : 's'}`;
  return { model: best.model, reason: `auto: ${of}${wanted ? ` with ${wanted}` : ''}; ${best.reason}` };
}

/**
 * Adds `"routing_info": {...}` to a JSON object body without parsing it (inserted before the closing
 * brace); anything that is not an object is returned unchanged.
 */
export function withRoutingInfo(body: string | Buffer | readonly Buffer[], info: RoutingInfo): string | Buffer {
  const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : Buffer.concat(body).toString('utf8');
  const end = text.lastIndexOf('}');
  if (end < 0 || text.trimStart()[0] !== '{') return text;
  const head = text.slice(0, end).trimEnd();
  const sep = head.endsWith('{') ? '' : ',';
  return `${head}${sep}"routing_info":${JSON.stringify(info)}${text.slice(end)}`;
}
