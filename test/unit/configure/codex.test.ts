/** @module codex writer: golden config.toml edits that must parse (smol-toml) to the intended document. */
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { applyPlan, readText } from '../../../src/configure/apply.js';
import { codexHome, patchCodexConfig, planCodex } from '../../../src/configure/codex.js';
import { ConfigureError } from '../../../src/configure/types.js';
import { BASE_URL, expectCommentsKept, expectGolden, fixture, makeInput, mapReader, tempDir } from './helpers.js';

const LW = { name: 'LW Gateway', base_url: BASE_URL, env_key: 'LW_API_KEY', wire_api: 'responses' };
const opts = { model: 'gpt-4o-mini', baseUrl: BASE_URL };

type Table = Record<string, unknown>;
const parse = (text: string): Table => parseToml(text) as Table;

/** The document the edit must produce: the old one plus lw's keys, nothing else changed. */
function expected(before: Table, lw: Table = LW): Table {
  const providers = (before['model_providers'] ?? {}) as Table;
  return { ...before, model: 'gpt-4o-mini', model_provider: 'lw', model_providers: { ...providers, lw } };
}

describe('patchCodexConfig', () => {
  it('writes model, model_provider and a [model_providers.lw] block into an empty config', () => {
    const after = patchCodexConfig('', opts);
    expectGolden('codex', 'empty.after.toml', after);
    expect(parse(after)).toEqual({ model: 'gpt-4o-mini', model_provider: 'lw', model_providers: { lw: LW } });
    expect(patchCodexConfig('\n\n', opts)).toBe(after);
  });

  it('keeps comments, other providers, profiles and MCP servers', () => {
    const before = fixture('codex', 'rich.before.toml');
    const after = patchCodexConfig(before, opts);
    expectGolden('codex', 'rich.after.toml', after);
    expect(parse(after)).toEqual(expected(parse(before)));
    expectCommentsKept(before, after);
  });

  it('inserts the top-level keys above the first table header', () => {
    const before = fixture('codex', 'tables-only.before.toml');
    const after = patchCodexConfig(before, opts);
    expectGolden('codex', 'tables-only.after.toml', after);
    const doc = parse(after);
    expect(doc['model']).toBe('gpt-4o-mini'); // not features.model
    expect(doc).toEqual(expected(parse(before)));
    expect(after.indexOf('model = ')).toBeLessThan(after.indexOf('[features]'));
  });

  it('updates an existing lw provider in place, dropping auth that would bypass LW_API_KEY', () => {
    const before = fixture('codex', 'existing-lw.before.toml');
    const after = patchCodexConfig(before, opts);
    expectGolden('codex', 'existing-lw.after.toml', after);
    const doc = parse(after);
    const lw = (doc['model_providers'] as Table)['lw'] as Table;
    expect(lw).toEqual({
      ...LW,
      request_max_retries: 2,
      stream_idle_timeout_ms: 600000,
      http_headers: { 'X-Team': 'platform' },
    });
    expect(after).not.toContain('lw-oldsecret');
    expect(after).toContain('# my old gateway');
    expect(after.match(/\[model_providers\.lw\]/g)).toHaveLength(1);
  });

  it('is idempotent: a configured file comes back byte for byte', () => {
    for (const name of ['rich', 'tables-only', 'existing-lw']) {
      const once = patchCodexConfig(fixture('codex', `${name}.before.toml`), opts);
      expect(patchCodexConfig(once, opts)).toBe(once);
    }
  });

  it('handles an inline model_providers table and CRLF line endings', () => {
    const inline = 'model_providers = { ollama = { name = "Ollama" } }\n';
    expect(parse(patchCodexConfig(inline, opts))).toEqual(expected(parse(inline)));
    const crlf = '# c\r\nmodel = "o3"\r\n\r\n[tui]\r\nnotifications = true\r\n';
    const after = patchCodexConfig(crlf, opts);
    expect(parse(after)).toEqual(expected(parse(crlf)));
    expect(after.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('refuses a file that is not valid TOML', () => {
    expect(() => patchCodexConfig('model = [\n', opts)).toThrow(ConfigureError);
    expect(() => patchCodexConfig('model_providers = "x"\n', opts)).toThrow(/not a table/);
  });
});

describe('planCodex', () => {
  it('targets $CODEX_HOME/config.toml, default ~/.codex, and never writes the key', () => {
    expect(codexHome({}, '/home/u')).toBe('/home/u/.codex');
    expect(codexHome({ CODEX_HOME: '/x/codex' }, '/home/u')).toBe('/x/codex');
    const plan = planCodex(makeInput('/home/u', { key: 'lw-secret123' }), mapReader({}));
    expect(plan.files.map((f) => f.path)).toEqual(['/home/u/.codex/config.toml']);
    expect(plan.files[0]!.before).toBeNull();
    expect(plan.files[0]!.after).not.toContain('lw-secret123');
    expect(plan.instructions[0]).toMatch(/^export LW_API_KEY=lw-secret123 /);
  });

  it('writes $CODEX_HOME/<profile>.config.toml with --profile and flags a legacy [profiles.lw]', () => {
    const home = '/h';
    const base = '/h/.codex/config.toml';
    const plan = planCodex(makeInput(home), mapReader({ [base]: '[profiles.lw]\nmodel = "x"\n' }), { profile: 'lw' });
    expect(plan.files.map((f) => f.path)).toEqual(['/h/.codex/lw.config.toml']);
    expect(plan.files[0]!.after).toBe(patchCodexConfig('', opts));
    expect(plan.instructions.join('\n')).toContain('codex -p lw');
    expect(plan.instructions.join('\n')).toContain('remove the [profiles.lw] table');
    expect(() => planCodex(makeInput(home), mapReader({}), { profile: '../x' })).toThrow(ConfigureError);
  });

  it('applies once, then finds nothing to do', () => {
    const home = tempDir();
    const path = join(home, '.codex', 'config.toml');
    const input = makeInput(home);
    const first = applyPlan(planCodex(input, readText));
    expect(first).toMatchObject({ changed: [path], backups: [], unchanged: [] });
    const second = applyPlan(planCodex(input, readText));
    expect(second).toMatchObject({ changed: [], backups: [], unchanged: [path] });
    expect(readText(path)).toBe(patchCodexConfig('', opts));
  });
});
