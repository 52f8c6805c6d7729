/**
 * @module `lw configure claude`: points Claude Code at the gateway through the `env` block of
 * `~/.claude/settings.json` (JSON; every other key and its formatting kept): `ANTHROPIC_BASE_URL` is the
 * gateway origin without `/v1` (Claude Code appends `/v1/messages`), `ANTHROPIC_MODEL` the model, and
 * `ANTHROPIC_DEFAULT_HAIKU_MODEL` (background tasks) the same model unless one is already chosen.
 * The key stays out of the file (`export ANTHROPIC_AUTH_TOKEN=lw-…`, sent as Bearer) unless
 * `--write-key` (then the file is mode 0600). See CLIENTS.md §4.
 */
import { join } from 'node:path';
import { applyEdits, modify, parse, printParseErrorCode } from 'jsonc-parser';
import type { ParseError } from 'jsonc-parser';
import { ConfigureError, KEY_PLACEHOLDER } from './types.js';
import type { ConfigureInput, ConfigurePlan, FilePlan, ReadText } from './types.js';
import { detectFormatting } from './zed.js';
import { isObject } from './json.js';

/** Claude Code sends this variable as `Authorization: Bearer …` (`ANTHROPIC_API_KEY` would be x-api-key). */
export const CLAUDE_KEY_ENV = 'ANTHROPIC_AUTH_TOKEN';
/** The model Claude Code uses for background work (titles, summaries); unset, it asks for a Claude Haiku id. */
export const CLAUDE_HAIKU_ENV = 'ANTHROPIC_DEFAULT_HAIKU_MODEL';

/** `$CLAUDE_CONFIG_DIR/settings.json`, by default `~/.claude/settings.json`. */
export function claudeSettingsPath(env: NodeJS.ProcessEnv, homeDir: string): string {
  return join(env['CLAUDE_CONFIG_DIR'] || join(homeDir, '.claude'), 'settings.json');
}

/**
 * The base URL Claude Code wants: the gateway's `/v1` URL without `/v1`.
 * @example claudeBaseUrl('http://127.0.0.1:8040/v1') // 'http://127.0.0.1:8040'
 */
export function claudeBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

function parseSettings(text: string, path: string): Record<string, unknown> | undefined {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: true });
  const first = errors[0];
  if (first) {
    const line = text.slice(0, first.offset).split('\n').length;
    throw new ConfigureError(`${path} is not valid JSON (line ${line}: ${printParseErrorCode(first.error)}), so lw leaves it alone`);
  }
  if (value !== undefined && !isObject(value)) throw new ConfigureError(`${path}: expected a JSON object`);
  const env = value?.['env'];
  if (env !== undefined && !isObject(env)) throw new ConfigureError(`${path}: \`env\` is not an object`);
  return value;
}

export interface ClaudeSettingsOptions {
  baseUrl: string;
  model: string;
  /** Write ANTHROPIC_AUTH_TOKEN; undefined removes one left in the file (the shell's export is used). */
  key?: string;
}

/**
 * Sets the gateway variables in the `env` block of Claude Code settings text, keeping every other key
 * and the file's indentation. Unchanged input → the same text.
 * @example patchClaudeSettings('', { baseUrl: 'http://127.0.0.1:8040/v1', model: 'gpt-4o-mini' });
 */
export function patchClaudeSettings(text: string, opts: ClaudeSettingsOptions, path = 'settings.json'): string {
  const root = parseSettings(text, path);
  const env = (root?.['env'] ?? {}) as Record<string, unknown>;
  const wanted: Array<[string, string | undefined]> = [
    ['ANTHROPIC_BASE_URL', claudeBaseUrl(opts.baseUrl)],
    ['ANTHROPIC_MODEL', opts.model],
    [CLAUDE_KEY_ENV, opts.key],
  ];
  if (typeof env[CLAUDE_HAIKU_ENV] !== 'string' || env[CLAUDE_HAIKU_ENV] === '') wanted.push([CLAUDE_HAIKU_ENV, opts.model]);
  const todo = wanted.filter(([k, v]) => env[k] !== v);
  if (todo.length === 0) return text;
  const formattingOptions = detectFormatting(text);
  let out = root === undefined ? '{}' : text;
  for (const [k, v] of todo) out = applyEdits(out, modify(out, ['env', k], v, { formattingOptions }));
  return out.endsWith('\n') ? out : out + (formattingOptions.eol ?? '\n');
}

export interface ClaudeOptions {
  /** Write ANTHROPIC_AUTH_TOKEN into the settings' env block (file mode 0600). Needs the key. */
  writeKey?: boolean;
}

function envWarnings(input: ConfigureInput, settingsEnv: Record<string, unknown>, path: string): string[] {
  const out: string[] = [];
  const origin = claudeBaseUrl(input.baseUrl);
  const shellBase = input.env['ANTHROPIC_BASE_URL'];
  if (shellBase && claudeBaseUrl(shellBase) !== origin) {
    out.push(`unset ANTHROPIC_BASE_URL   # exported as ${shellBase}; keep only the settings file's value`);
  }
  if (input.env['ANTHROPIC_API_KEY'] || typeof settingsEnv['ANTHROPIC_API_KEY'] === 'string') {
    const where = input.env['ANTHROPIC_API_KEY'] ? 'your environment' : path;
    out.push(`remove ANTHROPIC_API_KEY from ${where}: Claude Code would also send it (as x-api-key) and report an auth conflict`);
  }
  return out;
}

/**
 * Plans the Claude Code settings edit. Without `writeKey` the key is an instruction only.
 * @example const plan = planClaude(input, readText, { writeKey: false });
 */
export function planClaude(input: ConfigureInput, read: ReadText, options: ClaudeOptions = {}): ConfigurePlan {
  if (options.writeKey && !input.key) {
    throw new ConfigureError('--write-key needs the plaintext key: pass --key lw-… (an existing key cannot be shown again)');
  }
  const path = claudeSettingsPath(input.env, input.homeDir);
  const before = read(path);
  const key = options.writeKey ? input.key : undefined;
  const after = patchClaudeSettings(before ?? '', { baseUrl: input.baseUrl, model: input.model, key }, path);
  const file: FilePlan = { path, before, after };
  if (key !== undefined) file.mode = 0o600;
  const beforeEnv = (before === null ? undefined : parseSettings(before, path)?.['env']) as Record<string, unknown> | undefined;
  const instructions: string[] = [];
  if (key === undefined) {
    instructions.push(
      `export ${CLAUDE_KEY_ENV}=${input.key ?? KEY_PLACEHOLDER}   # Claude Code sends it as Authorization: Bearer; add it to your shell profile`,
    );
    if (beforeEnv && typeof beforeEnv[CLAUDE_KEY_ENV] === 'string') {
      instructions.push(`removed ${CLAUDE_KEY_ENV} from ${path} (the old value is in the backup)`);
    }
  } else {
    instructions.push(`the key is stored in ${path} (mode 0600); Claude Code reads it from the settings' env block`);
  }
  instructions.push(...envWarnings(input, beforeEnv ?? {}, path));
  instructions.push(`claude   # now uses ${input.model} through the gateway (${claudeBaseUrl(input.baseUrl)}/v1/messages)`);
  return { client: 'claude', files: [file], instructions };
}
