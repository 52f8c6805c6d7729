/**
 * @module Validation of an inbound Chat Completions body: cheap hand-written checks (this is the hot
 * path) that reject wrong types with a 400 naming the field before any upstream call.
 */
import { GatewayError } from '../errors.js';
import type { ChatRequest } from '../translate/chat/types.js';

function bad(param: string, message: string): never {
  throw new GatewayError('invalid_request', message, { param });
}

function optNumber(body: Record<string, unknown>, field: string, min?: number): void {
  const v = body[field];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(field, `'${field}' must be a number.`);
  if (min !== undefined && v < min) bad(field, `'${field}' must be at least ${min}.`);
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

/** Returns the body typed as a ChatRequest, or throws 400. */
export function validateChatRequest(body: Record<string, unknown>): ChatRequest {
  if (typeof body['model'] !== 'string' || !body['model']) bad('model', "'model' is required and must be a string.");
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) bad('messages', "'messages' must be a non-empty array.");
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Record<string, unknown> | null;
    if (!m || typeof m !== 'object' || Array.isArray(m)) bad(`messages[${i}]`, `'messages[${i}]' must be an object.`);
    if (typeof m['role'] !== 'string' || !ROLES.has(m['role'])) {
      bad(`messages[${i}].role`, `'messages[${i}].role' must be one of system, developer, user, assistant, tool.`);
    }
    const c = m['content'];
    if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c)) {
      bad(`messages[${i}].content`, `'messages[${i}].content' must be a string or an array of content parts.`);
    }
  }
  const stream = body['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') bad('stream', "'stream' must be a boolean.");
  const so = body['stream_options'];
  if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so))) {
    bad('stream_options', "'stream_options' must be an object.");
  }
  optNumber(body, 'max_tokens', 1);
  optNumber(body, 'max_completion_tokens', 1);
  optNumber(body, 'temperature', 0);
  optNumber(body, 'top_p', 0);
  optNumber(body, 'n', 1);
  const tools = body['tools'];
  if (tools !== undefined && tools !== null && !Array.isArray(tools)) bad('tools', "'tools' must be an array.");
  return body as unknown as ChatRequest;
}
