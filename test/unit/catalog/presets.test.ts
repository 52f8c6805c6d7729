/** @module Provider presets: every preset the spec names resolves with the right URL and key variable. */
import { describe, expect, it } from 'vitest';
import { PRESETS, detectProvidersFromEnv, findPreset } from '../../../src/daemon/providers/presets.js';

describe('findPreset', () => {
  it.each([
    ['openai', 'openai', 'https://api.openai.com/v1', 'OPENAI_API_KEY'],
    ['anthropic', 'anthropic', 'https://api.anthropic.com/v1', 'ANTHROPIC_API_KEY'],
    ['gemini', 'openai', 'https://generativelanguage.googleapis.com/v1beta/openai', 'GEMINI_API_KEY'],
    ['openrouter', 'openai', 'https://openrouter.ai/api/v1', 'OPENROUTER_API_KEY'],
    ['groq', 'openai', 'https://api.groq.com/openai/v1', 'GROQ_API_KEY'],
    ['together', 'openai', 'https://api.together.xyz/v1', 'TOGETHER_API_KEY'],
    ['deepseek', 'openai', 'https://api.deepseek.com/v1', 'DEEPSEEK_API_KEY'],
    ['mistral', 'openai', 'https://api.mistral.ai/v1', 'MISTRAL_API_KEY'],
    ['xai', 'openai', 'https://api.x.ai/v1', 'XAI_API_KEY'],
    ['fireworks', 'openai', 'https://api.fireworks.ai/inference/v1', 'FIREWORKS_API_KEY'],
    ['ollama', 'openai', 'http://127.0.0.1:11434/v1', null],
    ['vllm', 'openai', 'http://127.0.0.1:8000/v1', 'VLLM_API_KEY'],
    ['lmstudio', 'openai', 'http://127.0.0.1:1234/v1', null],
    ['llamacpp', 'openai', 'http://127.0.0.1:8080/v1', null],
  ])('%s', (name, kind, baseUrl, apiKeyEnv) => {
    expect(findPreset(name)).toMatchObject({ name, kind, baseUrl, apiKeyEnv });
  });

  it('is case-insensitive and knows common synonyms', () => {
    expect(findPreset('OpenAI')?.name).toBe('openai');
    expect(findPreset('google')?.name).toBe('gemini');
    expect(findPreset('llama.cpp')?.name).toBe('llamacpp');
    expect(findPreset('LM-Studio')?.name).toBe('lmstudio');
    expect(findPreset('nope')).toBeUndefined();
  });

  it('marks only OpenAI as speaking the Responses API, local servers as local, and every preset discoverable', () => {
    expect(PRESETS.filter((p) => p.supportsResponses).map((p) => p.name)).toEqual(['openai']);
    expect(PRESETS.filter((p) => p.local).map((p) => p.name)).toEqual(['ollama', 'vllm', 'lmstudio', 'llamacpp']);
    expect(PRESETS.every((p) => p.discovery)).toBe(true);
    expect(findPreset('vllm')?.apiKeyOptional).toBe(true);
  });

  it('has well-formed, unique entries', () => {
    expect(new Set(PRESETS.map((p) => p.name)).size).toBe(PRESETS.length);
    for (const p of PRESETS) {
      const url = new URL(p.baseUrl);
      expect(p.baseUrl.endsWith('/'), p.name).toBe(false);
      expect(url.protocol, p.name).toBe(p.local ? 'http:' : 'https:');
    }
  });
});

describe('detectProvidersFromEnv', () => {
  it('returns the presets whose key variable is set, in table order', () => {
    const found = detectProvidersFromEnv({ GROQ_API_KEY: 'gsk_x', OPENAI_API_KEY: 'sk-x', HOME: '/root' });
    expect(found.map((p) => p.name)).toEqual(['openai', 'groq']);
    expect(found[0]).toMatchObject({ baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' });
  });

  it('finds every remote preset by its variable', () => {
    const env = Object.fromEntries(PRESETS.filter((p) => !p.local).map((p) => [p.apiKeyEnv!, 'k']));
    expect(detectProvidersFromEnv(env).map((p) => p.name)).toEqual(PRESETS.filter((p) => !p.local).map((p) => p.name));
  });

  it('accepts GOOGLE_API_KEY for gemini and names the variable it found', () => {
    expect(detectProvidersFromEnv({ GOOGLE_API_KEY: 'g' })).toMatchObject([{ name: 'gemini', apiKeyEnv: 'GOOGLE_API_KEY' }]);
    expect(detectProvidersFromEnv({ GOOGLE_API_KEY: 'g', GEMINI_API_KEY: 'k' })[0]?.apiKeyEnv).toBe('GEMINI_API_KEY');
  });

  it('ignores empty values, lw keys (a client pointed at this gateway) and local servers', () => {
    expect(
      detectProvidersFromEnv({
        OPENAI_API_KEY: 'lw-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
        ANTHROPIC_API_KEY: '',
        MISTRAL_API_KEY: '   ',
        VLLM_API_KEY: 'token',
        OLLAMA_HOST: '127.0.0.1',
      }),
    ).toEqual([]);
  });

  it('returns copies: callers cannot alter the table', () => {
    const [openai] = detectProvidersFromEnv({ OPENAI_API_KEY: 'sk-x' });
    openai!.baseUrl = 'http://evil';
    expect(findPreset('openai')?.baseUrl).toBe('https://api.openai.com/v1');
    expect(Object.isFrozen(findPreset('openai'))).toBe(true);
  });
});
