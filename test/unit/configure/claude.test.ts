/** @module Claude Code writer: the env block of ~/.claude/settings.json, key only with --write-key (golden files). */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handleConfigure } from '../../../src/cli/commands/configure.js';
import { applyPlan, readText } from '../../../src/configure/apply.js';
import { claudeBaseUrl, claudeSettingsPath, patchClaudeSettings, planClaude } from '../../../src/configure/claude.js';
import { ConfigureError, KEY_PLACEHOLDER } from '../../../src/configure/types.js';
import { BASE_URL, expectGolden, fixture, makeInput, mapReader, tempDir } from './helpers.js';

const opts = { baseUrl: BASE_URL, model: 'gpt-4o-mini' };

describe('patchClaudeSettings', () => {
  it('creates the env block: origin without /v1, the model, the same model for background tasks', () => {
    const after = patchClaudeSettings('', opts);
    expectGolden('claude', 'new.after.json', after);
    expect(JSON.parse(after)).toEqual({
      env: {
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:8040',
        ANTHROPIC_MODEL: 'gpt-4o-mini',
        ANTHROPIC_DEFAULT_HAIKU_MODEL: 'gpt-4o-mini',
      },
    });
  });

  it('keeps every other key, the file’s indentation and a background model the user chose', () => {
    const after = patchClaudeSettings(fixture('claude', 'settings.before.json'), opts);
    expectGolden('claude', 'settings.after.json', after);
    const doc = JSON.parse(after) as Record<string, unknown>;
    expect(doc['env']).toEqual({
      DISABLE_TELEMETRY: '1',
      ANTHROPIC_DEFAULT_HAIKU_MODEL: 'gpt-4o-mini',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:8040',
      ANTHROPIC_MODEL: 'gpt-4o-mini',
    });
    expect(doc['permissions']).toEqual({ allow: ['Bash(npm run test:*)', 'Read(~/.zshrc)'], deny: [] });
    expect(doc['includeCoAuthoredBy']).toBe(false);
    expect(after).toContain('\n    "permissions": {\n        "allow"');
    const other = patchClaudeSettings(fixture('claude', 'settings.before.json'), { ...opts, model: 'claude-sonnet-4.6' });
    expect((JSON.parse(other) as { env: Record<string, string> }).env['ANTHROPIC_DEFAULT_HAIKU_MODEL']).toBe('gpt-4o-mini');
  });

  it('writes the key only when given, and removes a stale one otherwise', () => {
    const withKey = patchClaudeSettings(fixture('claude', 'settings.before.json'), { ...opts, key: 'lw-secret1' });
    expectGolden('claude', 'write-key.after.json', withKey);
    expect((JSON.parse(withKey) as { env: Record<string, string> }).env['ANTHROPIC_AUTH_TOKEN']).toBe('lw-secret1');
    const removed = patchClaudeSettings(fixture('claude', 'token.before.json'), opts);
    expectGolden('claude', 'token.after.json', removed);
    expect(removed).not.toContain('lw-oldtoken123');
    expect((JSON.parse(removed) as Record<string, unknown>)['model']).toBe('opus');
  });

  it('is idempotent and refuses what it cannot edit safely', () => {
    const once = patchClaudeSettings(fixture('claude', 'settings.before.json'), opts);
    expect(patchClaudeSettings(once, opts)).toBe(once);
    expect(() => patchClaudeSettings('{ "a": 1, // no comments in JSON\n }', opts)).toThrow(ConfigureError);
    expect(() => patchClaudeSettings('[]', opts)).toThrow(/expected a JSON object/);
    expect(() => patchClaudeSettings('{ "env": "x" }', opts)).toThrow(/`env` is not an object/);
  });

  it('derives the base URL Claude Code wants (it appends /v1/messages itself)', () => {
    expect(claudeBaseUrl('http://127.0.0.1:8040/v1')).toBe('http://127.0.0.1:8040');
    expect(claudeBaseUrl('https://gw.example.com/lw/v1/')).toBe('https://gw.example.com/lw');
  });
});

describe('planClaude', () => {
  it('uses $CLAUDE_CONFIG_DIR or ~/.claude and keeps the key out of the file by default', () => {
    expect(claudeSettingsPath({}, '/h')).toBe('/h/.claude/settings.json');
    expect(claudeSettingsPath({ CLAUDE_CONFIG_DIR: '/c' }, '/h')).toBe('/c/settings.json');
    const plan = planClaude(makeInput('/h', { key: 'lw-zz9' }), mapReader({}));
    expect(plan.client).toBe('claude');
    expect(plan.files[0]!.after).not.toContain('lw-zz9');
    expect(plan.files[0]!.mode).toBeUndefined();
    expect(plan.instructions[0]).toMatch(/^export ANTHROPIC_AUTH_TOKEN=lw-zz9 /);
    expect(planClaude(makeInput('/h'), mapReader({})).instructions[0]).toContain(KEY_PLACEHOLDER);
  });

  it('--write-key stores the key with mode 0600 and needs the plaintext key', () => {
    const plan = planClaude(makeInput('/h', { key: 'lw-zz9' }), mapReader({}), { writeKey: true });
    expect(plan.files[0]!.after).toContain('"ANTHROPIC_AUTH_TOKEN": "lw-zz9"');
    expect(plan.files[0]!.mode).toBe(0o600);
    expect(() => planClaude(makeInput('/h'), mapReader({}), { writeKey: true })).toThrow(/--write-key needs/);
  });

  it('says what it removed and which environment variables get in the way', () => {
    const path = '/h/.claude/settings.json';
    const plan = planClaude(
      makeInput('/h', { env: { ANTHROPIC_API_KEY: 'sk-ant-x', ANTHROPIC_BASE_URL: 'https://api.anthropic.com' } }),
      mapReader({ [path]: fixture('claude', 'token.before.json') }),
    );
    const text = plan.instructions.join('\n');
    expect(text).toContain(`removed ANTHROPIC_AUTH_TOKEN from ${path}`);
    expect(text).toContain('unset ANTHROPIC_BASE_URL');
    expect(text).toContain('remove ANTHROPIC_API_KEY from your environment');
  });

  it('lw configure claude --write-key writes the settings with mode 0600, then finds nothing to do', async () => {
    const home = tempDir();
    const printed: string[] = [];
    const deps = {
      env: { HOME: home },
      homeDir: home,
      hostname: 'box',
      output: { out: (t: string) => void printed.push(t), json: () => {} },
      getAdmin: () => Promise.reject(new Error('daemon unreachable')),
    };
    const r = await handleConfigure('claude', { key: 'lw-given1', model: 'gpt-4o', baseUrl: 'http://h:1/v1', writeKey: true }, deps);
    const path = join(home, '.claude', 'settings.json');
    expect(r.files).toEqual([expect.objectContaining({ path, changed: true, created: true })]);
    expect(JSON.parse(readText(path)!)).toEqual({
      env: { ANTHROPIC_BASE_URL: 'http://h:1', ANTHROPIC_MODEL: 'gpt-4o', ANTHROPIC_AUTH_TOKEN: 'lw-given1', ANTHROPIC_DEFAULT_HAIKU_MODEL: 'gpt-4o' },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const input = makeInput(home, { baseUrl: 'http://h:1/v1', model: 'gpt-4o', key: 'lw-given1' });
    expect(applyPlan(planClaude(input, readText, { writeKey: true }))).toMatchObject({ changed: [], backups: [] });
    await expect(handleConfigure('codex', { key: 'lw-x', model: 'm', writeKey: true }, deps)).rejects.toThrow(/aider and claude only/);
  });
});
