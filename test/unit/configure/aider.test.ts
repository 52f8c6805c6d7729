/** @module aider writer: exact per-token prices, YAML comments kept, key only with --write-key (golden files). */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  aiderPaths,
  metadataEntry,
  patchAiderConf,
  patchAiderMetadata,
  perTokenCost,
  planAider,
} from '../../../src/configure/aider.js';
import { applyPlan, readText } from '../../../src/configure/apply.js';
import { ConfigureError } from '../../../src/configure/types.js';
import { BASE_URL, MODELS, expectCommentsKept, expectGolden, fixture, makeInput, mapReader, tempDir } from './helpers.js';

const opts = { model: 'gpt-4o-mini', baseUrl: BASE_URL };
const LW_KEYS = {
  model: 'openai/gpt-4o-mini',
  'weak-model': 'openai/gpt-4o-mini',
  'openai-api-base': BASE_URL,
  'check-update': false,
  'analytics-disable': true,
};

describe('perTokenCost', () => {
  it('divides decimal prices per million exactly', () => {
    expect(perTokenCost('0.15')).toBe(1.5e-7);
    expect(perTokenCost('0.6')).toBe(6e-7);
    expect(perTokenCost('0.60')).toBe(6e-7);
    expect(perTokenCost('3')).toBe(0.000003);
    expect(perTokenCost('15')).toBe(0.000015);
    expect(perTokenCost('2.5')).toBe(0.0000025);
    expect(perTokenCost('0.000001')).toBe(1e-12);
    expect(perTokenCost('0')).toBe(0);
    expect(perTokenCost('1234.5678')).toBe(0.0012345678);
    expect(15 * 1e-6).not.toBe(0.000015); // why prices are not scaled with float arithmetic
    expect(() => perTokenCost('-1')).toThrow(ConfigureError);
  });
});

describe('patchAiderConf', () => {
  it('writes a new config with a header comment', () => {
    const after = patchAiderConf('', opts);
    expectGolden('aider', 'conf.new.after.yml', after);
    expect(parseYaml(after)).toEqual(LW_KEYS);
  });

  it('keeps comments and other options, and drops a key meant for another base URL', () => {
    const before = fixture('aider', 'conf.before.yml');
    const after = patchAiderConf(before, opts);
    expectGolden('aider', 'conf.after.yml', after);
    const { 'openai-api-key': _dropped, ...rest } = parseYaml(before) as Record<string, unknown>;
    expect(parseYaml(after)).toEqual({ ...rest, ...LW_KEYS });
    expect(after).not.toContain('sk-proj-realopenaikey');
    expectCommentsKept(before.replace(/^# talk to the real OpenAI\n/m, ''), after);
  });

  it('writes openai-api-key only when given the key', () => {
    const after = patchAiderConf(fixture('aider', 'conf.before.yml'), { ...opts, key: 'lw-abc123' });
    expectGolden('aider', 'conf.write-key.after.yml', after);
    expect((parseYaml(after) as Record<string, unknown>)['openai-api-key']).toBe('lw-abc123');
  });

  it('is idempotent and refuses broken YAML', () => {
    const once = patchAiderConf(fixture('aider', 'conf.before.yml'), opts);
    expect(patchAiderConf(once, opts)).toBe(once);
    expect(() => patchAiderConf('model: [unclosed\n', opts)).toThrow(ConfigureError);
    expect(() => patchAiderConf('- a list\n', opts)).toThrow(/mapping/);
  });
});

describe('patchAiderMetadata', () => {
  it('builds litellm entries with exact per-token prices, leaving unknowns out', () => {
    expect(metadataEntry(MODELS[0]!)).toEqual({
      max_tokens: 16384,
      max_input_tokens: 128000,
      max_output_tokens: 16384,
      input_cost_per_token: 1.5e-7,
      output_cost_per_token: 6e-7,
      litellm_provider: 'openai',
      mode: 'chat',
    });
    expect(metadataEntry(MODELS[2]!)).toEqual({ litellm_provider: 'openai', mode: 'chat' });
    const after = patchAiderMetadata('', MODELS);
    expectGolden('aider', 'metadata.new.after.json', after);
    expect(after).toContain('"input_cost_per_token": 1.5e-7');
  });

  it('merges into an existing object, keeping other entries and extra fields', () => {
    const before = fixture('aider', 'metadata.before.json');
    const after = patchAiderMetadata(before, MODELS);
    expectGolden('aider', 'metadata.after.json', after);
    const doc = JSON.parse(after) as Record<string, Record<string, unknown>>;
    expect(doc['anthropic/claude-3-5-sonnet']).toEqual(JSON.parse(before)['anthropic/claude-3-5-sonnet']);
    expect(doc['openai/gpt-4o-mini']).toMatchObject({ max_input_tokens: 128000, supports_prompt_caching: true });
    expect(patchAiderMetadata(after, MODELS)).toBe(after);
    expect(() => patchAiderMetadata('[1]', MODELS)).toThrow(ConfigureError);
    expect(() => patchAiderMetadata('{"a":', MODELS)).toThrow(ConfigureError);
  });
});

describe('planAider', () => {
  it('plans both files; the key is an instruction unless --write-key', () => {
    const paths = aiderPaths('/h');
    const plan = planAider(makeInput('/h', { key: 'lw-k1' }), mapReader({ [paths.conf]: fixture('aider', 'conf.before.yml') }));
    expect(plan.files.map((f) => f.path)).toEqual([paths.conf, paths.metadata]);
    expect(plan.files[0]!.mode).toBeUndefined();
    expect(plan.files.some((f) => f.after.includes('lw-k1'))).toBe(false);
    expect(plan.instructions[0]).toMatch(/^export OPENAI_API_KEY=lw-k1 /);
    expect(plan.instructions.join('\n')).toContain('removed openai-api-key');

    const withKey = planAider(makeInput('/h', { key: 'lw-k1' }), mapReader({}), { writeKey: true });
    expect(withKey.files[0]!.after).toContain('openai-api-key: lw-k1');
    expect(withKey.files[0]!.mode).toBe(0o600);
    expect(() => planAider(makeInput('/h'), mapReader({}), { writeKey: true })).toThrow(/--key/);
  });

  it('warns about environment variables that override the file', () => {
    const env = { OPENAI_API_BASE: 'https://api.openai.com/v1', AIDER_MODEL: 'gpt-4o' };
    const text = planAider(makeInput('/h', { env }), mapReader({})).instructions.join('\n');
    expect(text).toContain('unset OPENAI_API_BASE');
    expect(text).toContain('unset AIDER_MODEL');
  });

  it('applies with a 0600 secrets file, then finds nothing to do', () => {
    const home = tempDir();
    const input = makeInput(home, { key: 'lw-k1' });
    const first = applyPlan(planAider(input, readText, { writeKey: true }));
    expect(first.changed).toEqual([join(home, '.aider.conf.yml'), join(home, '.aider.model.metadata.json')]);
    expect(statSync(join(home, '.aider.conf.yml')).mode & 0o777).toBe(0o600);
    const second = applyPlan(planAider(input, readText, { writeKey: true }));
    expect(second).toMatchObject({ changed: [], backups: [] });
    expect(second.unchanged).toHaveLength(2);
  });
});
