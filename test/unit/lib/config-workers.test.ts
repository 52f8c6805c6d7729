/**
 * `workers` in the configuration: default 1, `--workers` over LW_WORKERS over `workers` in lw.toml,
 * 0 or 'auto' meaning one per CPU (workerCount), anything else refused with a message naming the field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, workerCount } from '../../../src/lib/config.js';

describe('workers configuration', () => {
  const home = mkdtempSync(join(tmpdir(), 'lw-cfg-'));
  const env = { LW_HOME: home };
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('defaults to one process', () => {
    const c = loadConfig({}, env);
    expect(c.workers).toBe(1);
    expect(workerCount(c, 8)).toBe(1);
  });

  it('takes the flag over LW_WORKERS over lw.toml', () => {
    const file = join(home, 'workers.toml');
    writeFileSync(file, 'workers = 3\n');
    expect(loadConfig({ config: file }, env).workers).toBe(3);
    expect(loadConfig({ config: file }, { ...env, LW_WORKERS: '5' }).workers).toBe(5);
    expect(loadConfig({ config: file, workers: '2' }, { ...env, LW_WORKERS: '5' }).workers).toBe(2);
  });

  it("reads 0 and 'auto' as one worker per CPU", () => {
    expect(workerCount(loadConfig({ workers: 'auto' }, env), 6)).toBe(6);
    expect(workerCount(loadConfig({}, { ...env, LW_WORKERS: '0' }), 4)).toBe(4);
    expect(workerCount(loadConfig({ workers: 'auto' }, env), 1)).toBe(1);
  });

  it('refuses a count that is not a whole number from 0 to 256', () => {
    for (const bad of ['-1', 'two', '1.5', '1000']) {
      expect(() => loadConfig({ workers: bad }, env)).toThrow(ConfigError);
      expect(() => loadConfig({ workers: bad }, env)).toThrow(/workers/);
    }
  });
});
