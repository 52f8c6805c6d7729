import { describe, expect, it } from 'vitest';
import type { AdminBackend, BackendOptions } from '../../../src/cli/backend.js';
import { buildProgram, run } from '../../../src/cli/program.js';
import { Capture } from './capture.js';
import { fakeAdmin, runCli } from './fake-admin.js';

describe('lw program', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help lists every group, the global options and examples', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const group of ['serve', 'keys', 'tiers', 'providers', 'models', 'usage']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${group}\\b`, 'm'));
    }
    for (const flag of ['--json', '--db <url>', '--url <url>', '--admin-key <token>', '--home <dir>']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('Examples:');
  });

  it('subcommand help shows the global options too', async () => {
    const r = await runCli(['keys', 'list', '--help']);
    expect(r.stdout).toContain('Global Options:');
    expect(r.stdout).toContain('--json');
  });

  it('an unknown command or option is one line on stderr and exit 2', async () => {
    const cmd = await runCli(['kyes']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toMatch(/^error: unknown command 'kyes'/);
    const opt = await runCli(['keys', 'list', '--bogus']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toBe("error: unknown option '--bogus'\n");
    const missing = await runCli(['keys', 'show']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("error: missing required argument 'key'\n");
  });

  it('a group without a subcommand shows its help and exits 2', async () => {
    const r = await runCli(['keys']);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain('Usage: lw keys');
  });

  it('global options reach the backend wherever they are placed; --home sets LW_HOME', async () => {
    const seen: BackendOptions[] = [];
    const service = fakeAdmin();
    const env: NodeJS.ProcessEnv = {};
    const getAdmin = async (opts: BackendOptions): Promise<AdminBackend> => {
      seen.push(opts);
      return { service, mode: 'remote', location: 'x', embedded: false, close: async () => {} };
    };
    const stdout = new Capture();
    const argv = ['node', 'lw', '--url', 'http://h:1', 'keys', 'list', '--admin-key', 'tok', '--home', '/tmp/h', '--json'];
    const code = await run(argv, { stdout, stderr: new Capture(), env, getAdmin, isTTY: false });
    expect(code).toBe(0);
    expect(seen).toEqual([{ url: 'http://h:1', adminKey: 'tok', home: '/tmp/h', db: undefined, config: undefined }]);
    expect(env['LW_HOME']).toBe('/tmp/h');
    expect(JSON.parse(stdout.text)).toEqual([]);
  });

  it('a failing backend is one error line, exit 1, and nothing on stdout', async () => {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await run(['node', 'lw', 'keys', 'list', '--json'], {
      stdout,
      stderr,
      env: {},
      getAdmin: async () => {
        throw new Error('the embedded store at /x is in use by another lw command (pid 1)');
      },
    });
    expect(code).toBe(1);
    expect(stdout.text).toBe('');
    expect(stderr.text).toBe('error: the embedded store at /x is in use by another lw command (pid 1)\n');
  });

  it('buildProgram has no side effects and can be built twice', () => {
    const a = buildProgram({ env: {} });
    const b = buildProgram({ env: {} });
    expect(a.commands.map((c) => c.name())).toEqual(b.commands.map((c) => c.name()));
  });
});
