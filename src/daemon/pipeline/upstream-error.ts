/**
 * @module Upstream non-2xx answers → GatewayError: 400-class client mistakes keep their status with the
 * upstream's message (redacted); the provider refusing the gateway's own credentials, 5xx and anything
 * odd become 502; 429 stays 429 (retryable, with the upstream's Retry-After). Raw bodies only reach debug logs.
 */
import { redact } from '../../lib/log.js';
import { GatewayError } from '../errors.js';

function upstreamMessage(text: string): { message: string | null; code: string | null } {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown; code?: unknown; type?: unknown } | string; message?: unknown };
    if (typeof j.error === 'string') return { message: j.error, code: null };
    const msg = j.error?.message ?? j.message;
    const code = j.error?.code ?? j.error?.type;
    return { message: typeof msg === 'string' ? msg : null, code: typeof code === 'string' ? code : null };
  } catch {
    return { message: null, code: null };
  }
}

export function upstreamHttpError(provider: string, status: number, bodyText: string, retryAfter?: string): GatewayError {
  const { message, code } = upstreamMessage(bodyText);
  const detail = message ? redact(message).slice(0, 500) : null;
  if (status === 429) {
    const headers: Record<string, string> = {};
    if (retryAfter && /^\d+$/.test(retryAfter)) headers['retry-after'] = retryAfter;
    return new GatewayError('rate_limit_exceeded', `Provider '${provider}' is rate limiting: ${detail ?? 'too many requests'}`, {
      headers,
    });
  }
  if (status === 401 || status === 403) {
    return new GatewayError(
      'upstream_error',
      `Provider '${provider}' refused the gateway's credentials (HTTP ${status}); the operator should check its API key variable.`,
    );
  }
  if (status === 408 || status === 504) {
    return new GatewayError('upstream_timeout', `Provider '${provider}' timed out (HTTP ${status}).`);
  }
  if (status >= 400 && status < 500) {
    const isContext = code === 'context_length_exceeded' || /context.{0,20}(length|window)|too many tokens|prompt is too long/i.test(message ?? '');
    return new GatewayError(isContext ? 'context_length_exceeded' : 'invalid_request', `Provider '${provider}' rejected the request: ${detail ?? `HTTP ${status}`}`, {
      status: status === 404 || status === 413 || status === 422 ? 400 : status,
    });
  }
  return new GatewayError('upstream_error', `Provider '${provider}' failed with HTTP ${status}${detail ? `: ${detail}` : ''}.`);
}
