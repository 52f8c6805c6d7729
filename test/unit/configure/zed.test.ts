/** @module Zed writer: JSONC edits keep comments and trailing commas (golden files). */
import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { applyPlan, readText } from '../../../src/configure/apply.js';
import { ConfigureError } from '../../../src/configure/types.js';
import { detectFormatting, patchZedSettings, planZed, zedModel, zedSettingsPath } from '../../../src/configure/zed.js';
import { BASE_URL, MODELS, expectCommentsKept, expectGolden, fixture, makeInput, mapReader, tempDir } from './helpers.js';

const opts = { baseUrl: BASE_URL, model: 'gpt-4o-mini', models: MODELS };
const jsonc = (text: string): Record<string, unknown> =>
  parseJsonc(text, [], { allowTrailingComma: true }) as Record<string, unknown>;

const AVAILABLE = [
  {
    name: 'gpt-4o-mini',
    display_name: 'gpt-4o-mini (lw)',
    max_tokens: 128000,
    max_output_tokens: 16384,
    capabilities: { tools: true, images: false, parallel_tool_calls: false, prompt_cache_key: false, chat_completions: true },
  },
  {
    name: 'claude-sonnet-4.6',
    display_name: 'claude-sonnet-4.6 (lw)',
    max_tokens: 200000,
    max_output_tokens: 64000,
    capabilities: { tools: true, images: true, parallel_tool_calls: false, prompt_cache_key: false, chat_completions: true },
  },
  {
    name: 'local-llama',
    display_name: 'local-llama (lw)',
    max_tokens: 128000,
    capabilities: { tools: true, images: false, parallel_tool_calls: false, prompt_cache_key: false, chat_completions: true },
  },
];

describe('patchZedSettings', () => {
  it('creates settings with the lw provider and the agent default model', () => {
    const after = patchZedSettings('', opts);
    expectGolden('zed', 'new.after.json', after);
    expect(JSON.parse(after)).toEqual({
      language_models: { openai_compatible: { lw: { api_url: BASE_URL, available_models: AVAILABLE } } },
      agent: { default_model: { provider: 'lw', model: 'gpt-4o-mini' } },
    });
  });

  it('keeps comments, trailing commas, other providers and the user’s custom headers', () => {
    const before = fixture('zed', 'settings.before.json');
    const after = patchZedSettings(before, opts);
    expectGolden('zed', 'settings.after.json', after);
    expectCommentsKept(before, after, '//');
    expect(after).toContain('/* fonts */');
    const doc = jsonc(after);
    const lm = doc['language_models'] as { openai_compatible: Record<string, Record<string, unknown>> };
    expect(lm.openai_compatible['other']).toEqual({
      api_url: 'http://other.example/v1',
      available_models: [{ name: 'm1', max_tokens: 8192 }],
    });
    expect(lm.openai_compatible['lw']).toEqual({
      api_url: BASE_URL,
      custom_headers: { 'X-LW-Client': 'zed' },
      available_models: AVAILABLE,
    });
    expect(doc['agent']).toEqual({
      default_model: { provider: 'lw', model: 'gpt-4o-mini' },
      always_allow_tool_actions: false,
    });
    expect(doc['theme']).toBe('One Dark');
  });

  it('follows the file’s indentation (tabs) and keeps a comments-only file’s comments', () => {
    const after = patchZedSettings(fixture('zed', 'tabs.before.json'), opts);
    expectGolden('zed', 'tabs.after.json', after);
    expect(after).toContain('\n\t"language_models": {\n\t\t"openai_compatible"');
    expect(detectFormatting('{\n    "a": 1\n}')).toMatchObject({ insertSpaces: true, tabSize: 4 });
    const commentsOnly = patchZedSettings('// nothing yet\n', opts);
    expect(commentsOnly.startsWith('// nothing yet\n{')).toBe(true);
    expect(jsonc(commentsOnly)).toEqual(JSON.parse(patchZedSettings('', opts)));
  });

  it('is idempotent and refuses what it cannot edit safely', () => {
    const once = patchZedSettings(fixture('zed', 'settings.before.json'), opts);
    expect(patchZedSettings(once, opts)).toBe(once);
    expect(() => patchZedSettings('{ "a": }', opts)).toThrow(ConfigureError);
    expect(() => patchZedSettings('[]', opts)).toThrow(/object/);
    expect(() => patchZedSettings('{ "language_models": 3 }', opts)).toThrow(/not an object/);
  });
});

describe('planZed', () => {
  it('uses $XDG_CONFIG_HOME/zed/settings.json (default ~/.config) and keeps the key out of the file', () => {
    expect(zedSettingsPath({}, '/h', 'linux')).toBe('/h/.config/zed/settings.json');
    expect(zedSettingsPath({ XDG_CONFIG_HOME: '/x' }, '/h', 'linux')).toBe('/x/zed/settings.json');
    expect(zedSettingsPath({ XDG_CONFIG_HOME: '/x' }, '/h', 'darwin')).toBe('/h/.config/zed/settings.json');
    const plan = planZed(makeInput('/h', { key: 'lw-zz9' }), mapReader({}), 'linux');
    expect(plan.files[0]!.after).not.toContain('lw-zz9');
    expect(plan.instructions[0]).toMatch(/^export LW_API_KEY=lw-zz9 /);
    expect(zedModel({ ...MODELS[2]!, vision: true, tools: false }).capabilities).toMatchObject({ images: true, tools: false });
  });

  it('applies once, then finds nothing to do', () => {
    const home = tempDir();
    const input = makeInput(home, { env: { XDG_CONFIG_HOME: join(home, 'cfg') } });
    const first = applyPlan(planZed(input, readText, 'linux'));
    expect(first.changed).toEqual([join(home, 'cfg', 'zed', 'settings.json')]);
    expect(applyPlan(planZed(input, readText, 'linux'))).toMatchObject({ changed: [], backups: [] });
  });
});
