/**
 * @module `lw configure zed`: adds an OpenAI-compatible provider `lw` with the gateway's models to
 * Zed's settings.json (JSONC: comments and trailing commas survive) and makes it the agent's
 * default model. Zed reads the key from `LW_API_KEY` (derived from the provider id), never from
 * the file. See CLIENTS.md §3.
 */
import { join } from 'node:path';
import { applyEdits, modify, parse, printParseErrorCode } from 'jsonc-parser';
import type { FormattingOptions, ParseError } from 'jsonc-parser';
import { ConfigureError, KEY_PLACEHOLDER } from './types.js';
import type { CatalogModelInfo, ConfigureInput, ConfigurePlan, ReadText } from './types.js';
import { isObject, sameJson } from './json.js';

export const ZED_PROVIDER_ID = 'lw';
/** Zed derives the variable from the provider id: `lw` → `LW_API_KEY`. */
export const ZED_KEY_ENV = 'LW_API_KEY';
/** `max_tokens` is required by Zed; used when the catalog does not know a model's context window. */
export const ZED_DEFAULT_CONTEXT = 128_000;

/** Zed's settings file: `$FLATPAK_XDG_CONFIG_HOME` / `$XDG_CONFIG_HOME` (default `~/.config`) + `/zed/settings.json`. */
export function zedSettingsPath(env: NodeJS.ProcessEnv, homeDir: string, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return join(homeDir, '.config', 'zed', 'settings.json');
  if (platform === 'win32' && env['APPDATA']) return join(env['APPDATA'], 'Zed', 'settings.json');
  const base = env['FLATPAK_XDG_CONFIG_HOME'] || env['XDG_CONFIG_HOME'] || join(homeDir, '.config');
  return join(base, 'zed', 'settings.json');
}

export interface ZedModel {
  name: string;
  display_name: string;
  max_tokens: number;
  max_output_tokens?: number;
  capabilities: {
    tools: boolean;
    images: boolean;
    parallel_tool_calls: boolean;
    prompt_cache_key: boolean;
    chat_completions: boolean;
  };
}

/** One `available_models` entry (Zed's `OpenAiCompatibleAvailableModel`). */
export function zedModel(m: CatalogModelInfo): ZedModel {
  return {
    name: m.id,
    display_name: `${m.id} (lw)`,
    max_tokens: m.contextWindow ?? ZED_DEFAULT_CONTEXT,
    ...(m.maxOutput !== null ? { max_output_tokens: m.maxOutput } : {}),
    capabilities: {
      tools: m.tools ?? true,
      images: m.vision ?? false,
      parallel_tool_calls: false,
      prompt_cache_key: false,
      chat_completions: true,
    },
  };
}

/** Formatting of inserted JSON follows the file: its indentation unit and line ending. */
export function detectFormatting(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)["/}\]]/m.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 4, eol };
  return { insertSpaces: true, tabSize: indent ? indent.length : 2, eol };
}

function parseSettings(text: string, path: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  const first = errors[0];
  if (first) {
    const line = text.slice(0, first.offset).split('\n').length;
    throw new ConfigureError(`${path} is not valid JSONC (line ${line}: ${printParseErrorCode(first.error)}), so lw leaves it alone`);
  }
  return value;
}

/** The value at `path`, or undefined; throws when a parent on the way is not an object. */
function valueAt(root: unknown, path: string[], file: string): unknown {
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (node === undefined) return undefined;
    if (!isObject(node)) throw new ConfigureError(`${file}: \`${path.slice(0, i).join('.')}\` is not an object`);
    node = node[path[i]!];
  }
  return node;
}

/**
 * Sets the `lw` provider (api_url, available_models) and `agent.default_model` in Zed settings
 * text, keeping comments, trailing commas and every other setting. Unchanged input → same text.
 * @example patchZedSettings('{}', { baseUrl: 'http://127.0.0.1:8040/v1', model: 'm', models });
 */
export function patchZedSettings(
  text: string,
  opts: { baseUrl: string; model: string; models: CatalogModelInfo[] },
  path = 'settings.json',
): string {
  const root = parseSettings(text, path);
  if (root !== undefined && !isObject(root)) throw new ConfigureError(`${path}: expected a JSON object`);
  const provider = ['language_models', 'openai_compatible', ZED_PROVIDER_ID];
  const edits: Array<[string[], unknown]> = [
    [[...provider, 'api_url'], opts.baseUrl],
    [[...provider, 'available_models'], opts.models.map(zedModel)],
    [['agent', 'default_model'], { provider: ZED_PROVIDER_ID, model: opts.model }],
  ];
  const todo = edits.filter(([p, v]) => !sameJson(valueAt(root, p, path), v));
  if (todo.length === 0) return text;
  let out = text;
  const formattingOptions = detectFormatting(text);
  if (root === undefined) {
    // Empty or comments only: give the edits an object to work in.
    const eol = formattingOptions.eol ?? '\n';
    out = out.trim() === '' ? '{}' : `${out.replace(/\s*$/, eol)}{}`;
  }
  for (const [p, v] of todo) out = applyEdits(out, modify(out, p, v, { formattingOptions }));
  return out.endsWith('\n') ? out : out + (formattingOptions.eol ?? '\n');
}

/**
 * Plans the Zed settings edit; the key is only ever an instruction (Zed reads `LW_API_KEY`).
 * @example const plan = planZed(input, readText);
 */
export function planZed(input: ConfigureInput, read: ReadText, platform: NodeJS.Platform = process.platform): ConfigurePlan {
  const path = zedSettingsPath(input.env, input.homeDir, platform);
  const before = read(path);
  const after = patchZedSettings(before ?? '', { baseUrl: input.baseUrl, model: input.model, models: input.models }, path);
  return {
    client: 'zed',
    files: [{ path, before, after }],
    instructions: [
      `export ${ZED_KEY_ENV}=${input.key ?? KEY_PLACEHOLDER}   # Zed reads it from its own environment (provider id "lw")`,
      'start Zed from that shell (GUI launches may not see shell exports), or paste the key in Zed: Agent settings → LLM Providers → lw',
    ],
  };
}
