/**
 * @module `lw configure aider`: `~/.aider.conf.yml` (model `openai/<id>`, base URL, no update checks
 * or analytics; comments kept) and `~/.aider.model.metadata.json` (context windows and exact
 * per-token prices, so aider stops warning about unknown models). See CLIENTS.md §2.
 *
 * The key: aider has no `LW_API_KEY`-style indirection — it reads `OPENAI_API_KEY` (or
 * `openai-api-key` in the yml). lw writes the key into the yml (mode 0600) only with
 * `--write-key`; by default it tells the user to export `OPENAI_API_KEY`, so no secret lands on
 * disk unasked.
 */
import { join } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { ConfigureError, KEY_PLACEHOLDER } from './types.js';
import type { CatalogModelInfo, ConfigureInput, ConfigurePlan, FilePlan, ReadText } from './types.js';
import { isObject, sameJson } from './json.js';

export interface AiderOptions {
  /** Write `openai-api-key` into `~/.aider.conf.yml` (plaintext, file mode 0600). Needs the key. */
  writeKey?: boolean;
}

export function aiderPaths(homeDir: string): { conf: string; metadata: string } {
  return { conf: join(homeDir, '.aider.conf.yml'), metadata: join(homeDir, '.aider.model.metadata.json') };
}

/** aider/litellm name of a gateway model: litellm strips `openai/` and sends the rest as `model`. */
export function aiderModelName(id: string): string {
  return `openai/${id}`;
}

/**
 * USD per million tokens (exact decimal string) → USD per token, computed on the decimal digits so
 * the result is the double nearest the exact value.
 * @example perTokenCost('0.15') // 1.5e-7
 */
export function perTokenCost(perMillion: string): number {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(perMillion);
  if (!m) throw new ConfigureError(`not a decimal price: ${JSON.stringify(perMillion)}`);
  const digits = `${m[1]}${m[2] ?? ''}`.replace(/^0+/, '');
  if (digits === '') return 0;
  const scale = (m[2]?.length ?? 0) + 6;
  const padded = digits.padStart(scale + 1, '0');
  return Number(`${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`);
}

interface ConfOptions {
  model: string;
  baseUrl: string;
  /** Set → written as `openai-api-key`; undefined → any `openai-api-key` is removed. */
  key?: string;
}

/**
 * Sets lw's keys in an aider YAML config, keeping comments and every other key. Returns the text
 * unchanged when nothing differs.
 * @example patchAiderConf('', { model: 'gpt-4o-mini', baseUrl: 'http://127.0.0.1:8040/v1' });
 */
export function patchAiderConf(text: string, opts: ConfOptions, path = '.aider.conf.yml'): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigureError(`${path} is not valid YAML, so lw leaves it alone: ${doc.errors[0]!.message}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ConfigureError(`${path}: expected a mapping of aider options at the top level`);
  }
  const wanted: Array<[string, string | boolean]> = [
    ['model', aiderModelName(opts.model)],
    ['weak-model', aiderModelName(opts.model)],
    ['openai-api-base', opts.baseUrl],
    ['check-update', false],
    ['analytics-disable', true],
  ];
  if (opts.key !== undefined) wanted.push(['openai-api-key', opts.key]);
  const drop = opts.key === undefined && doc.has('openai-api-key');
  if (!drop && wanted.every(([k, v]) => doc.get(k) === v)) return text;
  if (doc.contents === null && !text.includes('#')) {
    doc.commentBefore = ' Written by `lw configure aider`: aider talks to the lw gateway.';
  }
  for (const [k, v] of wanted) if (doc.get(k) !== v) doc.set(k, v);
  if (drop) doc.delete('openai-api-key');
  return doc.toString({ lineWidth: 0 });
}

type Json = Record<string, unknown>;

/** The litellm model-info entry for one gateway model; unknown fields are left out, not invented. */
export function metadataEntry(m: CatalogModelInfo): Json {
  const entry: Json = {};
  const maxTokens = m.maxOutput ?? m.contextWindow;
  if (maxTokens !== null) entry['max_tokens'] = maxTokens;
  if (m.contextWindow !== null) entry['max_input_tokens'] = m.contextWindow;
  if (m.maxOutput !== null) entry['max_output_tokens'] = m.maxOutput;
  if (m.priceIn !== null) entry['input_cost_per_token'] = perTokenCost(m.priceIn);
  if (m.priceOut !== null) entry['output_cost_per_token'] = perTokenCost(m.priceOut);
  entry['litellm_provider'] = 'openai';
  entry['mode'] = 'chat';
  if (m.vision !== undefined) entry['supports_vision'] = m.vision;
  if (m.tools !== undefined) entry['supports_function_calling'] = m.tools;
  return entry;
}

/**
 * Merges one `openai/<id>` entry per model into an aider model-metadata JSON object, keeping other
 * entries and extra fields of ours. Returns the text unchanged when nothing differs.
 */
export function patchAiderMetadata(text: string, models: CatalogModelInfo[], path = '.aider.model.metadata.json'): string {
  let current: unknown = {};
  if (text.trim() !== '') {
    try {
      current = JSON.parse(text);
    } catch (e) {
      throw new ConfigureError(`${path} is not valid JSON, so lw leaves it alone: ${(e as Error).message}`);
    }
  }
  if (!isObject(current)) throw new ConfigureError(`${path}: expected a JSON object of model entries`);
  const next: Json = { ...current };
  for (const m of models) {
    const name = aiderModelName(m.id);
    const old = current[name];
    next[name] = { ...(isObject(old) ? old : {}), ...metadataEntry(m) };
  }
  if (text.trim() !== '' && sameJson(current, next)) return text;
  return JSON.stringify(next, null, 2) + '\n';
}

function envWarnings(input: ConfigureInput): string[] {
  const out: string[] = [];
  const base = input.env['AIDER_OPENAI_API_BASE'] ?? input.env['OPENAI_API_BASE'];
  if (base && base !== input.baseUrl) {
    out.push(`unset OPENAI_API_BASE AIDER_OPENAI_API_BASE   # set to ${base}; aider lets the environment override the file`);
  }
  const model = input.env['AIDER_MODEL'];
  if (model && model !== aiderModelName(input.model)) {
    out.push(`unset AIDER_MODEL   # set to ${model}; it overrides the file`);
  }
  return out;
}

/**
 * Plans both aider files. Without `writeKey` the key stays out of the yml and the instructions say
 * which variable to export.
 * @example
 * const plan = planAider(input, readText, { writeKey: false });
 */
export function planAider(input: ConfigureInput, read: ReadText, options: AiderOptions = {}): ConfigurePlan {
  if (options.writeKey && !input.key) {
    throw new ConfigureError('--write-key needs the plaintext key: pass --key lw-… (an existing key cannot be shown again)');
  }
  const paths = aiderPaths(input.homeDir);
  const confBefore = read(paths.conf);
  const key = options.writeKey ? input.key : undefined;
  const conf: FilePlan = {
    path: paths.conf,
    before: confBefore,
    after: patchAiderConf(confBefore ?? '', { model: input.model, baseUrl: input.baseUrl, key }, paths.conf),
  };
  if (key !== undefined) conf.mode = 0o600;
  const metaBefore = read(paths.metadata);
  const metadata: FilePlan = {
    path: paths.metadata,
    before: metaBefore,
    after: patchAiderMetadata(metaBefore ?? '', input.models, paths.metadata),
  };
  const instructions: string[] = [];
  if (key === undefined) {
    const shown = input.key ?? KEY_PLACEHOLDER;
    instructions.push(`export OPENAI_API_KEY=${shown}   # aider has no other key variable; add it to your shell profile`);
    instructions.push(`alias aider='OPENAI_API_KEY=${shown} aider'   # instead, to keep OPENAI_API_KEY for OpenAI itself`);
    if (confBefore !== null && parseDocument(confBefore).has('openai-api-key')) {
      instructions.push(`removed openai-api-key from ${paths.conf} (the old value is in the backup)`);
    }
  } else {
    instructions.push(`the key is stored in ${paths.conf} (mode 0600); an exported OPENAI_API_KEY still takes precedence`);
  }
  instructions.push(...envWarnings(input));
  instructions.push(`aider   # uses ${aiderModelName(input.model)} through the gateway`);
  return { client: 'aider', files: [conf, metadata], instructions };
}
