/**
 * @module CLI failures: `CliError` for reasons the CLI itself finds, and `handleCliError`, the one place
 * every error becomes `error: <reason>` (+ `hint: …`) on stderr and an exit code. No stack unless
 * `LW_DEBUG=1`, and never a key: messages pass through the logger's redaction.
 */
import { CommanderError } from 'commander';
import { ZodError } from 'zod';
import { AdminError } from '../admin/types.js';
import { ConfigError } from '../lib/config.js';
import { redact } from '../lib/log.js';

/** A failure with a reason a person can act on; exit code 1 (2 = wrong usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What to print and how to exit; `silent` when commander already printed (help, usage errors). */
export interface ErrorReport {
  message: string;
  hint?: string | undefined;
  exitCode: number;
  silent?: boolean;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** The system error code of an error or of its cause (fetch wraps socket errors in `cause`). */
export function networkErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  }
  return undefined;
}

/** `--monthly-tokens` from a zod path like `['monthlyTokens']`. */
function flagName(path: ReadonlyArray<PropertyKey>): string {
  const head = path[0];
  if (head === undefined) return 'options';
  if (typeof head !== 'string') return String(head);
  return '--' + head.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()).replace(/_/g, '-');
}

/** Turns any thrown value into the one line a person reads. */
export function describeError(err: unknown): ErrorReport {
  if (err instanceof CommanderError) {
    // commander has printed help, the version or its own `error: …` line already.
    return { message: err.message, exitCode: err.exitCode === 0 ? 0 : 2, silent: true };
  }
  if (err instanceof CliError) return { message: err.message, hint: err.hint, exitCode: err.exitCode };
  if (err instanceof ZodError) {
    const fields = err.issues.map((i) => `${flagName(i.path)}: ${i.message}`);
    return { message: `invalid ${fields.join('; ')}`, hint: 'see --help for the accepted values', exitCode: 1 };
  }
  if (err instanceof AdminError) {
    const hint = err.status === 401 ? 'check --admin-key / LW_ADMIN_KEY (the daemon keeps its token in $LW_HOME/admin-token)' : undefined;
    return { message: err.message, hint, exitCode: 1 };
  }
  if (err instanceof ConfigError) {
    return { message: err.message, hint: 'check lw.toml and the LW_* environment variables', exitCode: 1 };
  }
  const code = networkErrorCode(err);
  if (code) {
    const detail = err instanceof Error && err.cause instanceof Error ? err.cause.message : (err as Error).message;
    return { message: `network error (${code}): ${detail}`, exitCode: 1 };
  }
  if (err instanceof Error) return { message: err.message || err.name, exitCode: 1 };
  return { message: String(err), exitCode: 1 };
}

export interface ErrorSink {
  error(text: string, hint?: string): void;
  /** Raw diagnostic text on stderr (stack traces with LW_DEBUG=1). */
  debug(text: string): void;
}

/**
 * Prints the failure (one line, plus an optional hint) and returns the process exit code.
 * @example process.exitCode = handleCliError(err, output, process.env);
 */
export function handleCliError(err: unknown, sink: ErrorSink, env: NodeJS.ProcessEnv = process.env): number {
  const report = describeError(err);
  if (report.silent) return report.exitCode;
  const firstLine = redact(report.message.split('\n')[0] ?? '');
  sink.error(firstLine, report.hint ? redact(report.hint) : undefined);
  if (env['LW_DEBUG'] === '1' && err instanceof Error && err.stack) sink.debug(redact(err.stack));
  return report.exitCode;
}
