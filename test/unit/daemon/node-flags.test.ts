/**
 * The daemon's V8 flags reach it by every way it starts: the launcher's shebang, `npm start`, the systemd
 * unit's default command, `--workers` processes; and a daemon started without them can tell.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultExecArgv } from '../../../src/cli/commands/service.js';
import { workerExec } from '../../../src/daemon/cluster/supervisor.js';
import { DAEMON_NODE_FLAGS, missingDaemonFlags } from '../../../src/daemon/node-flags.js';

const root = new URL('../../../', import.meta.url);

describe('DAEMON_NODE_FLAGS', () => {
  it('is what the lw launcher runs node with (its shebang), and the launcher runs', () => {
    const first = readFileSync(new URL('bin/lw.js', root), 'utf8').split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
    // executed as a program, so the shebang line is what starts node
    const out = execFileSync(new URL('bin/lw.js', root).pathname, ['--version'], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('is in `npm start`, the systemd unit’s default command and the --workers processes', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start']).toBe(`node ${DAEMON_NODE_FLAGS.join(' ')} bin/lw.js serve`);
    const argv = defaultExecArgv();
    expect(argv[0]).toBe(process.execPath);
    expect(argv.slice(1, 1 + DAEMON_NODE_FLAGS.length)).toEqual([...DAEMON_NODE_FLAGS]);
    expect(argv.at(-1)).toMatch(/bin\/lw\.js$/);
    expect(workerExec().execArgv.slice(0, DAEMON_NODE_FLAGS.length)).toEqual([...DAEMON_NODE_FLAGS]);
  });

  it('missingDaemonFlags: given on the command line or in NODE_OPTIONS (either spelling), or missing', () => {
    expect(missingDaemonFlags([...DAEMON_NODE_FLAGS], '')).toEqual([]);
    expect(missingDaemonFlags([], '--max_semi_space_size=4 --heap_growing_percent=25 --enable-source-maps')).toEqual([]);
    expect(missingDaemonFlags(['--max-semi-space-size=4'], '')).toEqual(['--heap-growing-percent=25']);
    expect(missingDaemonFlags(['--inspect'], '')).toEqual([...DAEMON_NODE_FLAGS]);
    expect(missingDaemonFlags([], '--max-old-space-size=512')).toEqual([...DAEMON_NODE_FLAGS]);
  });
});
