/**
 * Memory: the daemon's process must not carry what its request path never runs. `lw serve`'s program
 * has no other command (no client-config writers and their YAML / TOML-patch / JSONC parsers), and the
 * Hono app (models, usage and admin API: hono, its node adapter) is imported by the first request for
 * it, not by start-up nor by health, readiness and metrics, which the listener answers itself. Checked in
 * a fresh `node` process (sources through tsx) that records every module it resolves under those packages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess } from '../../helpers/process.js';
import { moduleTracePreamble } from '../../helpers/module-trace.js';
import { ROOT } from '../../helpers/serve-process.js';

const PACKAGES = ['hono', '@hono/node-server', 'yaml', '@decimalturn/toml-patch', 'jsonc-parser'];

const CHILD = moduleTracePreamble(PACKAGES) + String.raw`
import { pathToFileURL } from 'node:url';

const src = (p) => import(pathToFileURL(process.cwd() + '/' + p).href);
const packages = () => [...new Set(loaded().map((f) => (f.startsWith('@') ? f.split('/').slice(0, 2).join('/') : f.split('/')[0])))].sort();
const report = (phase, extra = {}) => console.log(JSON.stringify({ phase, loaded: packages(), ...extra }));
const quiet = { write: () => true };

const { run } = await src('src/cli/serve-program.ts');
const help = await run(['node', 'lw', 'serve', '--help'], { stdout: quiet, stderr: quiet });
report('cli', { code: help });

const { startTestDaemon } = await src('test/helpers/daemon.ts');
const gw = await startTestDaemon();
try {
  report('started');
  const statuses = [];
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const res = await fetch(gw.url + path);
    statuses.push([path, res.status, res.headers.get('x-request-id'), (await res.text()).slice(0, 20)]);
  }
  report('ops', { statuses });
  const models = await fetch(gw.url + '/v1/models');
  report('app', { status: models.status });
} finally {
  await gw.close();
}
`;

describe('the daemon loads its Hono app and the other commands only when asked', () => {
  const home = mkdtempSync(join(tmpdir(), 'lw-lazy-app-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('serve, start-up, health, readiness and metrics load none of them; the first API request loads the app', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LAZY_LOG: join(home, 'resolved.log'), LW_HOME: join(home, 'home') };
    for (const k of ['LW_DATABASE_URL', 'DATABASE_URL', 'LW_REDIS_URL', 'NODE_OPTIONS']) delete env[k];
    const r = await runProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, env });
    expect(r.code, r.stderr).toBe(0);
    const phases = new Map(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{"phase"'))
        .map((l) => JSON.parse(l) as { phase: string; loaded: string[]; [k: string]: unknown })
        .map((p) => [p.phase, p]),
    );
    const at = (phase: string) => {
      const p = phases.get(phase);
      if (!p) throw new Error(`no ${phase} line in:\n${r.stdout}\n${r.stderr}`);
      return p;
    };
    expect(at('cli')).toMatchObject({ code: 0, loaded: [] });
    expect(at('started').loaded).toEqual([]);
    expect(at('ops').loaded).toEqual([]);
    expect(at('ops')['statuses']).toEqual([
      ['/healthz', 200, expect.stringMatching(/^req_/), '{"status":"ok"}'],
      ['/readyz', 200, expect.stringMatching(/^req_/), '{"status":"ready"}'],
      ['/metrics', 200, expect.stringMatching(/^req_/), expect.stringMatching(/^# HELP /)],
    ]);
    // unauthenticated: the app answers 401, but it had to be loaded to do so
    expect(at('app')).toMatchObject({ status: 401, loaded: ['@hono/node-server', 'hono'] });
  }, 120_000);
});
