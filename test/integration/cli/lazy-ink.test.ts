/**
 * Memory: ink, react and yoga (~40 MB of RSS) must not be loaded by the daemon's process. `lw serve`
 * goes through the same program as every command, so the CLI loads its ink kit only for commands that
 * render (ui/load.ts): checked in a fresh `node` process (sources through tsx) with a resolve hook that
 * records every module it resolves under those packages, then a rendering command loads them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../helpers/process.js';
import { moduleTracePreamble } from '../../helpers/module-trace.js';
import { ROOT } from '../../helpers/serve-process.js';

const CHILD = moduleTracePreamble(['ink', 'react', 'yoga-layout']) + String.raw`
import { pathToFileURL } from 'node:url';

/** Packages (not files) seen so far. */
const packages = () => [...new Set(loaded().map((f) => f.split('/')[0]))].sort();
const quiet = { write: () => true };

const { run } = await import(pathToFileURL(process.cwd() + '/src/cli/program.ts').href);
await import(pathToFileURL(process.cwd() + '/src/daemon/server.ts').href);
console.log(JSON.stringify({ phase: 'imported', loaded: packages() }));
const serveHelp = await run(['node', 'lw', 'serve', '--help'], { stdout: quiet, stderr: quiet, isTTY: true });
console.log(JSON.stringify({ phase: 'serve', code: serveHelp, loaded: packages() }));
const json = await run(['node', 'lw', 'tiers', 'list', '--json'], { stdout: quiet, stderr: quiet, isTTY: true });
console.log(JSON.stringify({ phase: 'json', code: json, loaded: packages() }));
const tty = await run(['node', 'lw', 'tiers', 'list'], { stdout: quiet, stderr: quiet, isTTY: true });
console.log(JSON.stringify({ phase: 'tty', code: tty, loaded: packages() }));
`;

describe('the ink kit is loaded only by commands that render', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-lazy-ink-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lw serve and --json never load ink, react or yoga; a command rendering on a TTY does', async () => {
    const r = await runProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, LAZY_LOG: join(dir, 'log'), LW_HOME: join(dir, 'home'), LW_DATABASE_URL: '', DATABASE_URL: '' },
    });
    expect(r.code, r.stderr).toBe(0);
    const phases = Object.fromEntries(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { phase: string; loaded: string[] })
        .map((p) => [p.phase, p.loaded]),
    );
    expect(phases['imported']).toEqual([]);
    expect(phases['serve']).toEqual([]);
    expect(phases['json']).toEqual([]);
    expect(phases["tty"], r.stdout + r.stderr).toEqual(expect.arrayContaining(['ink', 'react']));
  }, 120_000);
});
