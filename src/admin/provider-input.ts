/**
 * @module `providers add` input: a known name (openai, anthropic, groq, ollama…) needs no URL, the
 * preset fills what was not given and explicit fields win; everything is validated with a message
 * that says what to type instead.
 */
import { findPreset, PRESETS } from '../daemon/providers/presets.js';
import * as v from './input.js';
import { AdminError, type ProviderKind } from './types.js';

export interface ProviderFields {
  name: string;
  kind: ProviderKind;
  baseUrl: string;
  apiKeyEnv: string | null;
  headers: Record<string, string>;
  timeouts: { connectMs?: number; firstByteMs?: number; idleMs?: number };
  supportsResponses: boolean;
}

const missing = (x: unknown) => x === undefined || x === null || x === '';

export function providerFields(i: Record<string, unknown>): ProviderFields {
  const name = v.assertSlug(i['name'], 'provider');
  const preset = missing(i['base_url']) ? findPreset(name) : undefined;
  if (!preset && missing(i['base_url'])) {
    throw new AdminError(`base_url is required: '${name}' is not a preset (presets: ${PRESETS.map((p) => p.name).join(', ')})`);
  }
  if (i['supports_responses'] !== undefined && typeof i['supports_responses'] !== 'boolean') {
    throw new AdminError('bad supports_responses: true or false');
  }
  return {
    name,
    kind: v.oneOf(i['kind'], ['openai', 'anthropic'] as const, 'kind') ?? preset?.kind ?? 'openai',
    baseUrl: v.parseBaseUrl(preset ? preset.baseUrl : i['base_url']),
    apiKeyEnv: i['api_key_env'] === undefined && preset ? preset.apiKeyEnv : (v.parseEnvName(i['api_key_env']) ?? null),
    headers: v.parseHeaders(i['headers']) ?? {},
    timeouts: v.parseTimeouts(i['timeouts']) ?? {},
    supportsResponses: i['supports_responses'] === undefined ? (preset?.supportsResponses ?? false) : i['supports_responses'] === true,
  };
}
