/** @module Structured JSON-lines logger to stderr; the only place in src/ allowed to write logs. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Field names whose values are never written, whatever the caller passes. */
const SECRET_FIELDS = new Set(['key', 'apiKey', 'api_key', 'authorization', 'token', 'secret', 'password']);

export interface Logger {
  level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

type Sink = (line: string) => void;

/** Whether `log` writes lines of level `lvl`: lets a hot path skip building fields nobody will see. */
export function logsAt(log: Logger, lvl: LogLevel): boolean {
  return LEVELS[lvl] >= LEVELS[log.level];
}

const MAYBE_SECRET = /lw-|bearer|sk-|pk-/i;

/** Removes anything that looks like an lw key or a bearer token from free text. */
export function redact(text: string): string {
  // one cheap test first: request ids, model names and the like never need the three replacements
  if (!MAYBE_SECRET.test(text)) return text;
  return text
    .replace(/lw-[A-Za-z0-9_-]{20,}/g, 'lw-***')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1***')
    .replace(/\b(sk|sk-ant|pk)-[A-Za-z0-9_-]{8,}/g, '$1-***');
}

function clean(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (SECRET_FIELDS.has(k)) out[k] = '***';
    else if (typeof v === 'string') out[k] = redact(v);
    else if (v instanceof Error) out[k] = redact(v.message);
    else out[k] = v;
  }
  return out;
}

/**
 * A sink that gathers the lines written during one turn of the event loop and writes them with one
 * syscall (stderr is synchronous on Linux: a write per request line would sit on the hot path).
 * Whatever is pending is written synchronously at exit.
 */
export function bufferedStderr(): Sink {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    process.stderr.write(text);
  };
  process.once('exit', flush);
  return (line) => {
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

/**
 * @example
 * const log = createLogger('info');
 * log.info('request', { request_id: 'req_1', status: 200 });
 */
export function createLogger(level: LogLevel = 'info', sink: Sink = (l) => process.stderr.write(l)): Logger {
  const logger: Logger = {
    level,
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
  function write(lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[lvl] < LEVELS[logger.level]) return;
    const line = { time: new Date().toISOString(), level: lvl, msg: redact(msg), ...(fields ? clean(fields) : {}) };
    sink(JSON.stringify(line) + '\n');
  }
  return logger;
}

/** A logger that drops everything (tests, CLI in --json mode). */
export const silentLogger: Logger = createLogger('silent', () => {});
