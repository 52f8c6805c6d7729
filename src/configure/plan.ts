/**
 * @module Entry point of the client writers: picks the planner for a client, turns the admin
 * catalog into {@link CatalogModelInfo}s and normalises the base URL every client gets.
 */
import type { ModelView } from '../admin/types.js';
import { planAider } from './aider.js';
import { planClaude } from './claude.js';
import { planCodex } from './codex.js';
import { ConfigureError } from './types.js';
import type { CatalogModelInfo, ClientTarget, ConfigureInput, ConfigurePlan, ReadText } from './types.js';
import { planZed } from './zed.js';

export interface ClientOptions {
  /** codex: write `$CODEX_HOME/<profile>.config.toml` for `codex -p <profile>`. */
  profile?: string;
  /** aider / claude: store the key in the client's config file (mode 0600). */
  writeKey?: boolean;
}

/**
 * @example planClient('zed', input, readText) // → { client: 'zed', files: [...], instructions: [...] }
 */
export function planClient(client: ClientTarget, input: ConfigureInput, read: ReadText, options: ClientOptions = {}): ConfigurePlan {
  switch (client) {
    case 'codex':
      return planCodex(input, read, { profile: options.profile });
    case 'aider':
      return planAider(input, read, { writeKey: options.writeKey });
    case 'zed':
      return planZed(input, read);
    case 'claude':
      return planClaude(input, read, { writeKey: options.writeKey });
    default: {
      const never: never = client;
      throw new ConfigureError(`unknown client ${String(never)}`);
    }
  }
}

/**
 * The OpenAI base URL clients need: http(s), no trailing slash, ending in `/v1` (added if missing).
 * @example normalizeBaseUrl('http://127.0.0.1:8040/') // 'http://127.0.0.1:8040/v1'
 */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigureError(`--base-url: not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigureError(`--base-url: expected http:// or https://, got ${url.protocol}`);
  }
  if (url.search || url.hash) throw new ConfigureError('--base-url: no query string or fragment, please');
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/v1') ? path : `${path}/v1`;
  return url.toString().replace(/\/$/, '');
}

/** `http://<host>:<port>/v1` for a daemon listening on host:port (wildcard addresses → loopback). */
export function baseUrlFor(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host;
  return `http://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}/v1`;
}

/** Enabled chat models of the catalog, in catalog order. */
export function catalogFromModels(models: ModelView[]): CatalogModelInfo[] {
  return models
    .filter((m) => m.enabled && m.kind === 'chat')
    .map((m) => ({
      id: m.id,
      contextWindow: m.context_window,
      maxOutput: m.max_output,
      priceIn: m.price_in,
      priceOut: m.price_out,
    }));
}

/**
 * The catalog list a plan gets, with `model` guaranteed in it: an alias gets its target's info
 * under the alias name; an unknown id gets an entry with unknown limits.
 */
export function withSelectedModel(model: string, catalog: CatalogModelInfo[], views: ModelView[]): CatalogModelInfo[] {
  if (catalog.some((m) => m.id === model)) return catalog;
  const target = views.find((v) => v.aliases.includes(model));
  const info = target ? catalog.find((m) => m.id === target.id) : undefined;
  const entry: CatalogModelInfo = info
    ? { ...info, id: model }
    : { id: model, contextWindow: null, maxOutput: null, priceIn: null, priceOut: null };
  return [entry, ...catalog];
}
