/**
 * @module Provider presets: `lw providers add openai` (or groq, ollama, …) needs no URL. Each preset is a
 * table row (kind, base URL, key variable); first run registers the presets whose key is in the environment.
 */

export interface Preset {
  name: string;
  /** Wire format: `openai` for any OpenAI-compatible server, `anthropic` for the native Messages API. */
  kind: 'openai' | 'anthropic';
  /** Includes the version segment (`/v1`); adapters append `/chat/completions`, `/messages`, `/models`. */
  baseUrl: string;
  /** Environment variable holding the upstream key; null when the server takes none. */
  apiKeyEnv: string | null;
  /** Other variables the vendor's own SDKs read for the same key, tried after `apiKeyEnv`. */
  apiKeyEnvAlternatives?: readonly string[];
  /** The key is optional (local servers started with or without one); never used for env detection. */
  apiKeyOptional?: boolean;
  /** Has OpenAI's `POST /responses` (else lw translates Responses ↔ Chat Completions). */
  supportsResponses: boolean;
  /** Answers `GET {baseUrl}/models`, so `lw models sync` can import its models. */
  discovery: boolean;
  /** Runs on this machine (probed on first run rather than found through a key). */
  local: boolean;
  notes?: string;
}

const LOCAL = { apiKeyEnv: null, supportsResponses: false, discovery: true, local: true } as const;

function remote(name: string, baseUrl: string, apiKeyEnv: string, extra: Partial<Preset> = {}): Preset {
  const base = { kind: 'openai', supportsResponses: false, discovery: true, local: false } as const;
  return { name, baseUrl, apiKeyEnv, ...base, ...extra };
}

/** Every preset, in the order first-run detection lists them. */
export const PRESETS: readonly Preset[] = Object.freeze(
  [
    remote('openai', 'https://api.openai.com/v1', 'OPENAI_API_KEY', { supportsResponses: true }),
    remote('anthropic', 'https://api.anthropic.com/v1', 'ANTHROPIC_API_KEY', {
      kind: 'anthropic',
      notes: 'Native Messages API: x-api-key and anthropic-version headers.',
    }),
    remote('gemini', 'https://generativelanguage.googleapis.com/v1beta/openai', 'GEMINI_API_KEY', {
      apiKeyEnvAlternatives: ['GOOGLE_API_KEY'],
      notes: "Google's OpenAI-compatible endpoint; GET /models returns ids prefixed with models/.",
    }),
    remote('openrouter', 'https://openrouter.ai/api/v1', 'OPENROUTER_API_KEY', {
      notes: 'Model ids carry a vendor prefix (openai/gpt-4o, anthropic/claude-sonnet-4.5).',
    }),
    remote('groq', 'https://api.groq.com/openai/v1', 'GROQ_API_KEY'),
    remote('together', 'https://api.together.xyz/v1', 'TOGETHER_API_KEY', {
      notes: 'GET /models answers a bare JSON array rather than {"data": [...]}.',
    }),
    remote('deepseek', 'https://api.deepseek.com/v1', 'DEEPSEEK_API_KEY'),
    remote('mistral', 'https://api.mistral.ai/v1', 'MISTRAL_API_KEY'),
    remote('xai', 'https://api.x.ai/v1', 'XAI_API_KEY'),
    remote('fireworks', 'https://api.fireworks.ai/inference/v1', 'FIREWORKS_API_KEY', {
      notes: 'Model ids look like accounts/fireworks/models/<name>.',
    }),
    { name: 'ollama', kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', ...LOCAL },
    {
      name: 'vllm',
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:8000/v1',
      ...LOCAL,
      apiKeyEnv: 'VLLM_API_KEY',
      apiKeyOptional: true,
      notes: 'The key is needed only when the server was started with --api-key.',
    },
    { name: 'lmstudio', kind: 'openai', baseUrl: 'http://127.0.0.1:1234/v1', ...LOCAL },
    { name: 'llamacpp', kind: 'openai', baseUrl: 'http://127.0.0.1:8080/v1', ...LOCAL, notes: 'llama.cpp server' },
  ].map((p) => Object.freeze(p as Preset)),
);

/** Other names people type for a preset. */
const SYNONYMS: Readonly<Record<string, string>> = {
  google: 'gemini',
  claude: 'anthropic',
  grok: 'xai',
  'x.ai': 'xai',
  'x-ai': 'xai',
  togetherai: 'together',
  'together.ai': 'together',
  'lm-studio': 'lmstudio',
  'llama.cpp': 'llamacpp',
  'llama-cpp': 'llamacpp',
  'llama-server': 'llamacpp',
};

/**
 * The preset for a name (case-insensitive, common synonyms accepted).
 * @example findPreset('groq')?.baseUrl // 'https://api.groq.com/openai/v1'
 */
export function findPreset(name: string): Preset | undefined {
  const key = name.trim().toLowerCase();
  const canonical = SYNONYMS[key] ?? key;
  return PRESETS.find((p) => p.name === canonical);
}

/** Keys that are lw's own (clients pointed at this gateway export OPENAI_API_KEY=lw-…): never an upstream key. */
function isUsableKey(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '' && !value.trim().startsWith('lw-');
}

/**
 * Presets whose key variable is set (for first-run registration), each with `apiKeyEnv` naming the variable
 * found. Local servers are left out: they are found by probing their port, not by a key.
 * @example detectProvidersFromEnv({ GROQ_API_KEY: 'gsk_…' }).map((p) => p.name) // ['groq']
 */
export function detectProvidersFromEnv(env: Readonly<Record<string, string | undefined>>): Preset[] {
  const found: Preset[] = [];
  for (const preset of PRESETS) {
    if (preset.local || preset.apiKeyOptional || preset.apiKeyEnv === null) continue;
    const names = [preset.apiKeyEnv, ...(preset.apiKeyEnvAlternatives ?? [])];
    const hit = names.find((n) => isUsableKey(env[n]));
    if (hit) found.push({ ...preset, apiKeyEnv: hit });
  }
  return found;
}
