/**
 * @module The one error table: every failure the gateway reports is a GatewayError with a code,
 * and this file alone maps codes to HTTP status and renders the OpenAI or Anthropic body.
 */

/** @see https://platform.openai.com/docs/guides/error-codes */
const TABLE = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  missing_api_key: { status: 401, type: 'authentication_error' },
  revoked_api_key: { status: 401, type: 'authentication_error' },
  expired_api_key: { status: 401, type: 'authentication_error' },
  insufficient_credits: { status: 402, type: 'insufficient_quota' },
  quota_exceeded: { status: 403, type: 'insufficient_quota' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  forbidden: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  concurrency_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'server_error' },
  upstream_error: { status: 502, type: 'upstream_error' },
  upstream_unreachable: { status: 502, type: 'upstream_error' },
  no_upstream_available: { status: 503, type: 'service_unavailable' },
  shutting_down: { status: 503, type: 'service_unavailable' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof TABLE;

/** Upstream 4xx errors keep their status (400/401/403/404/429) but carry this code. */
export type UpstreamPassCode = 'upstream_bad_request';

export interface GatewayErrorOptions {
  param?: string | null;
  /** Overrides the table's status (upstream 4xx errors keep theirs). */
  status?: number;
  /** Extra response headers (Retry-After, x-ratelimit-*). */
  headers?: Record<string, string>;
  /** Never rendered: for debug logs only. */
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, opts: GatewayErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = opts.status ?? TABLE[code].status;
    this.type = TABLE[code].type;
    this.param = opts.param ?? null;
    this.headers = opts.headers;
  }

  /** True for failures worth another deployment before the first byte (connect, 429, 5xx, timeout). */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

export function statusOf(code: ErrorCode): number {
  return TABLE[code].status;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** @see https://docs.anthropic.com/en/api/errors */
function anthropicType(status: number): string {
  switch (status) {
    case 400:
    case 405:
    case 409:
    case 415:
      return 'invalid_request_error';
    case 413:
      return 'request_too_large';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return 'api_error';
  }
}

export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('internal_error', 'The gateway hit an unexpected error; the request id identifies it in the logs.', {
    cause: err,
  });
}

export function renderOpenAIError(err: GatewayError): OpenAIErrorBody {
  return { error: { message: err.message, type: err.type, code: err.code, param: err.param } };
}

export function renderAnthropicError(err: GatewayError): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicType(err.status), message: err.message } };
}

export type ErrorSurface = 'openai' | 'anthropic';

export function renderError(err: GatewayError, surface: ErrorSurface = 'openai'): OpenAIErrorBody | AnthropicErrorBody {
  return surface === 'anthropic' ? renderAnthropicError(err) : renderOpenAIError(err);
}
