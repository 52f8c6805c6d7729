/** @module The apply step: unified diff, backups, atomic writes, modes, dry run and idempotency. */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPlan, diffText, readText } from '../../../src/configure/apply.js';
import type { ConfigurePlan, FilePlan } from '../../../src/configure/types.js';
import { tempDir } from './helpers.js';

const NOW = () => new Date('2026-01-02T03:04:05.678Z');
const plan = (...files: FilePlan[]): ConfigurePlan => ({ client: 'codex', files, instructions: [] });

describe('diffText', () => {
  it('is empty for equal texts', () => {
    expect(diffText('a\n', 'a\n', 'f')).toBe('');
  });

  it('prints a unified diff with 3 lines of context and separate hunks', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14'].join('\n') + '\n';
    const after = before.replace('2\n', 'two\n').replace('13\n', '13\nthirteen-and-a-half\n');
    expect(diffText(before, after, '~/.codex/config.toml')).toBe(
      [
        '--- ~/.codex/config.toml',
        '+++ ~/.codex/config.toml',
        '@@ -1,5 +1,5 @@',
        ' 1',
        '-2',
        '+two',
        ' 3',
        ' 4',
        ' 5',
        '@@ -11,4 +11,5 @@',
        ' 11',
        ' 12',
        ' 13',
        '+thirteen-and-a-half',
        ' 14',
        '',
      ].join('\n'),
    );
  });

  it('merges changes closer than 2×3 lines into one hunk', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const d = diffText(before, before.replace('b', 'B').replace('g', 'G'), 'f');
    expect(d.match(/^@@/gm)).toHaveLength(1);
    expect(d).toContain('@@ -1,8 +1,8 @@');
  });

  it('shows a new file against /dev/null and a missing final newline', () => {
    expect(diffText(null, 'x = 1\n', 'new.toml')).toBe('--- /dev/null\n+++ new.toml\n@@ -0,0 +1,1 @@\n+x = 1\n');
    expect(diffText('a', 'a\n', 'f')).toBe('--- f\n+++ f\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+a\n');
  });
});

describe('applyPlan', () => {
  it('creates new files with their parent directories and no backup', () => {
    const dir = tempDir();
    const path = join(dir, 'a', 'b', 'config.toml');
    const r = applyPlan(plan({ path, before: null, after: 'x = 1\n' }), { now: NOW });
    expect(r).toEqual({ changed: [path], backups: [], unchanged: [], backupOf: {} });
    expect(readText(path)).toBe('x = 1\n');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['config.toml']); // no temp file left behind
  });

  it('backs up the old content, keeps the file mode and is idempotent', () => {
    const dir = tempDir();
    const path = join(dir, 'settings.json');
    writeFileSync(path, '{"old":true}\n');
    chmodSync(path, 0o640);
    const p = plan({ path, before: '{"old":true}\n', after: '{"new":true}\n' });
    const r = applyPlan(p, { now: NOW });
    const backup = `${path}.bak-20260102T030405Z`;
    expect(r).toEqual({ changed: [path], backups: [backup], unchanged: [], backupOf: { [path]: backup } });
    expect(readText(backup)).toBe('{"old":true}\n');
    expect(readText(path)).toBe('{"new":true}\n');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(statSync(backup).mode & 0o777).toBe(0o640);

    const again = applyPlan(p, { now: NOW });
    expect(again).toEqual({ changed: [], backups: [], unchanged: [path], backupOf: {} });
    expect(readdirSync(dir).sort()).toEqual(['settings.json', 'settings.json.bak-20260102T030405Z']);
  });

  it('never overwrites an earlier backup taken in the same second', () => {
    const dir = tempDir();
    const path = join(dir, 'f');
    writeFileSync(path, 'one\n');
    applyPlan(plan({ path, before: 'one\n', after: 'two\n' }), { now: NOW });
    const r = applyPlan(plan({ path, before: 'two\n', after: 'three\n' }), { now: NOW });
    expect(r.backups).toEqual([`${path}.bak-20260102T030405Z-1`]);
    expect(readText(`${path}.bak-20260102T030405Z`)).toBe('one\n');
    expect(readText(`${path}.bak-20260102T030405Z-1`)).toBe('two\n');
  });

  it('writes secrets with mode 0600 whatever the umask or old mode', () => {
    const dir = tempDir();
    const path = join(dir, '.aider.conf.yml');
    writeFileSync(path, 'a: 1\n');
    chmodSync(path, 0o644);
    applyPlan(plan({ path, before: 'a: 1\n', after: 'openai-api-key: lw-x\n', mode: 0o600 }), { now: NOW });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('writes nothing in a dry run but reports what would change', () => {
    const dir = tempDir();
    const existing = join(dir, 'exists');
    writeFileSync(existing, 'old\n');
    const created = join(dir, 'sub', 'new');
    const r = applyPlan(
      plan({ path: existing, before: 'old\n', after: 'new\n' }, { path: created, before: null, after: 'x\n' }),
      { dryRun: true, now: NOW },
    );
    expect(r).toEqual({ changed: [existing, created], backups: [], unchanged: [], backupOf: {} });
    expect(readText(existing)).toBe('old\n');
    expect(existsSync(join(dir, 'sub'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['exists']);
  });

  it('edits the target of a symlink and keeps the link', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'dotfiles'));
    const real = join(dir, 'dotfiles', 'config.toml');
    const link = join(dir, 'config.toml');
    writeFileSync(real, 'a = 1\n');
    symlinkSync(real, link);
    applyPlan(plan({ path: link, before: 'a = 1\n', after: 'a = 2\n' }), { now: NOW });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readText(real)).toBe('a = 2\n');
  });

  it('refuses to overwrite a file that changed after planning', () => {
    const dir = tempDir();
    const path = join(dir, 'f');
    writeFileSync(path, 'edited meanwhile\n');
    expect(() => applyPlan(plan({ path, before: 'planned\n', after: 'new\n' }))).toThrow(/changed while/);
    expect(readText(path)).toBe('edited meanwhile\n');
  });
});
