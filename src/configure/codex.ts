/**
 * @module `lw configure codex`: points Codex CLI at the gateway through a custom `lw` model provider
 * (`$CODEX_HOME/config.toml`, Responses wire, key read from `LW_API_KEY`), keeping every other
 * setting and comment. See CLIENTS.md §1.2–1.3.
 */
import { join } from 'node:path';
import { parse as tpParse, parseDocument as tpParseDocument, patch as tpPatch } from '@decimalturn/toml-patch';
import { parse as parseToml } from 'smol-toml';
import { ConfigureError, KEY_PLACEHOLDER } from './types.js';
import type { ConfigureInput, ConfigurePlan, FilePlan, ReadText } from './types.js';

export const CODEX_PROVIDER_ID = 'lw';
export const CODEX_KEY_ENV = 'LW_API_KEY';

/** Provider fields that would make codex take the key from somewhere other than `LW_API_KEY`. */
const CONFLICTING_AUTH = ['experimental_bearer_token', 'auth', 'requires_openai_auth', 'aws'];

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return Object.prototype.toString.call(v) === '[object Object]';
}

/** `$CODEX_HOME`, default `~/.codex`. */
export function codexHome(env: NodeJS.ProcessEnv, homeDir: string): string {
  return env['CODEX_HOME'] || join(homeDir, '.codex');
}

/** The `[model_providers.lw]` table lw wants, keeping the user's extra fields (retries, headers…). */
function providerTable(existing: unknown, baseUrl: string): Table {
  const kept = isTable(existing)
    ? Object.fromEntries(Object.entries(existing).filter(([k]) => !CONFLICTING_AUTH.includes(k)))
    : {};
  return { ...kept, name: 'LW Gateway', base_url: baseUrl, env_key: CODEX_KEY_ENV, wire_api: 'responses' };
}

function withTopLevel(doc: Table, model: string): Table {
  return { ...doc, model, model_provider: CODEX_PROVIDER_ID };
}

function withLw(doc: Table, model: string, baseUrl: string, path: string): Table {
  const providers = doc['model_providers'] ?? {};
  if (!isTable(providers)) throw new ConfigureError(`${path}: \`model_providers\` is not a table`);
  const lw = providerTable(providers[CODEX_PROVIDER_ID], baseUrl);
  return { ...withTopLevel(doc, model), model_providers: { ...providers, [CODEX_PROVIDER_ID]: lw } };
}

/** Order-insensitive structural key of a parsed TOML value, for "is this the document we want?". */
function canonical(v: unknown): string {
  if (isTable(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Date) return `D${String(v)}`;
  return JSON.stringify(v) ?? 'undefined';
}

function tomlString(s: string): string {
  return JSON.stringify(s); // a JSON string is a valid TOML basic string for the values we write
}

/** A literal `[model_providers.lw]` block, the readable form CLIENTS.md §1.2 shows. */
function providerBlock(baseUrl: string, eol: string): string {
  return [
    '# Added by `lw configure codex`: codex sends $LW_API_KEY as the bearer token.',
    `[model_providers.${CODEX_PROVIDER_ID}]`,
    `name = "LW Gateway"`,
    `base_url = ${tomlString(baseUrl)}`,
    `env_key = "${CODEX_KEY_ENV}"`,
    `wire_api = "responses"`,
  ].join(eol) + eol;
}

function appendBlock(head: string, block: string, eol: string): string {
  if (head.trim() === '') return block;
  let body = head.endsWith('\n') ? head : head + eol;
  if (!body.endsWith(eol + eol)) body += eol;
  return body + block;
}

interface CstBlock {
  type: string;
  loc: { start: { line: number }; end: { line: number } };
}

/**
 * Inserts top-level `key = value` lines where TOML puts top-level keys: after the last top-level
 * key, else above the first table header (and above the comment block attached to it).
 */
function insertTopLevel(text: string, kvLines: string[], eol: string): string {
  const cst = tpParseDocument(text).cst as unknown as CstBlock[];
  const lines = text.split('\n');
  const cr = eol === '\r\n' ? '\r' : '';
  const firstTable = cst.findIndex((b) => b.type === 'Table' || b.type === 'TableArray');
  const top = firstTable === -1 ? cst : cst.slice(0, firstTable);
  const lastKv = top.filter((b) => b.type === 'KeyValue').pop();
  const insert = kvLines.map((l) => l + cr);
  let at: number;
  if (lastKv) {
    at = lastKv.loc.end.line; // 1-based line of the key → index of the line after it
  } else if (firstTable === -1) {
    at = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  } else {
    at = cst[firstTable]!.loc.start.line - 1;
    while (at > 0 && /^\s*#/.test(lines[at - 1]!)) at--;
    if ((lines[at] ?? '').trim() !== '') insert.push(cr);
  }
  lines.splice(at, 0, ...insert);
  return lines.join('\n');
}

/**
 * The edit, in the least invasive form: values that exist are patched in place (toml-patch keeps
 * comments), missing top-level keys are inserted above the first table, and a missing provider is
 * appended as a literal `[model_providers.lw]` block.
 */
function minimalEdit(text: string, current: Table, model: string, baseUrl: string, path: string): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const providers = current['model_providers'];
  const hasLw = isTable(providers) && providers[CODEX_PROVIDER_ID] !== undefined;
  const top: Table = { model, model_provider: CODEX_PROVIDER_ID };
  const present = Object.keys(top).filter((k) => current[k] !== undefined);
  const missing = Object.keys(top).filter((k) => current[k] === undefined);
  let out = text;
  if (hasLw || present.some((k) => current[k] !== top[k])) {
    const doc = tpParse(text) as Table;
    for (const k of present) doc[k] = top[k];
    out = tpPatch(text, hasLw ? withLw(doc, model, baseUrl, path) : doc);
  }
  if (missing.length > 0) {
    const kv = missing.map((k) => `${k} = ${tomlString(String(top[k]))}`);
    out = out.trim() === '' ? kv.join(eol) + eol : insertTopLevel(out, kv, eol);
  }
  return hasLw ? out : appendBlock(out, providerBlock(baseUrl, eol), eol);
}

/**
 * Sets `model`, `model_provider = "lw"` and the `[model_providers.lw]` table in a Codex config.toml,
 * keeping every other key and comment. Returns the text unchanged when it already says that.
 * Every candidate is re-parsed and must equal the intended document, so a top-level key can never
 * land under a table header by accident.
 * @example
 * patchCodexConfig('', { model: 'gpt-4o-mini', baseUrl: 'http://127.0.0.1:8040/v1' });
 */
export function patchCodexConfig(text: string, opts: { model: string; baseUrl: string; path?: string }): string {
  const path = opts.path ?? 'config.toml';
  let current: Table;
  try {
    current = parseToml(text) as Table;
  } catch (e) {
    throw new ConfigureError(`${path} is not valid TOML, so lw leaves it alone: ${(e as Error).message}`);
  }
  const expected = canonical(withLw(current, opts.model, opts.baseUrl, path));
  if (canonical(current) === expected) return text;
  const edits = [
    () => minimalEdit(text, current, opts.model, opts.baseUrl, path),
    () => tpPatch(text, withLw(tpParse(text) as Table, opts.model, opts.baseUrl, path)),
  ];
  for (const make of edits) {
    try {
      const out = make();
      if (canonical(parseToml(out)) === expected) return out;
    } catch {
      // try the next candidate
    }
  }
  throw new ConfigureError(`${path}: could not add the lw provider without changing other settings; edit it by hand`);
}

export interface CodexOptions {
  /** Write `$CODEX_HOME/<profile>.config.toml` (used with `codex -p <profile>`) instead of config.toml. */
  profile?: string;
}

/**
 * Plans the Codex config edit. The key never goes into the file: codex reads it from `LW_API_KEY`.
 * @example
 * const plan = planCodex({ baseUrl, model: 'gpt-4o-mini', models, env: process.env, homeDir }, readText);
 */
export function planCodex(input: ConfigureInput, read: ReadText, options: CodexOptions = {}): ConfigurePlan {
  const home = codexHome(input.env, input.homeDir);
  const profile = options.profile;
  if (profile !== undefined && !/^[A-Za-z0-9_-]+$/.test(profile)) {
    throw new ConfigureError(`invalid codex profile name ${JSON.stringify(profile)} (letters, digits, - and _)`);
  }
  const path = join(home, profile === undefined ? 'config.toml' : `${profile}.config.toml`);
  const before = read(path);
  const after = patchCodexConfig(before ?? '', { model: input.model, baseUrl: input.baseUrl, path });
  const file: FilePlan = { path, before, after };
  const instructions = [
    `export ${CODEX_KEY_ENV}=${input.key ?? KEY_PLACEHOLDER}   # codex reads the key from this variable; add it to your shell profile`,
  ];
  if (profile === undefined) {
    instructions.push(`codex   # now uses model ${input.model} through the gateway`);
  } else {
    instructions.push(`codex -p ${profile}   # layers ${path} on top of config.toml`);
    const base = read(join(home, 'config.toml'));
    if (base !== null && hasLegacyProfile(base, profile)) {
      instructions.push(
        `remove the [profiles.${profile}] table from ${join(home, 'config.toml')}: codex refuses -p ${profile} while it exists`,
      );
    }
  }
  return { client: 'codex', files: [file], instructions };
}

function hasLegacyProfile(text: string, profile: string): boolean {
  try {
    const profiles = (parseToml(text) as Table)['profiles'];
    return isTable(profiles) && profiles[profile] !== undefined;
  } catch {
    return false;
  }
}
