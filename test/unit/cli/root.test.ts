import { describe, expect, it } from 'vitest';
import { commandName } from '../../../src/cli/root.js';
import { buildServeProgram } from '../../../src/cli/serve-program.js';
import { buildProgram } from '../../../src/cli/program.js';
import { Capture } from './capture.js';

const argv = (...args: string[]) => ['node', 'lw', ...args];

describe('commandName', () => {
  it('is the first argument after the root options, skipping their values', () => {
    expect(commandName(argv('serve', '--port', '0'))).toBe('serve');
    expect(commandName(argv('--home', '/srv/lw', 'serve'))).toBe('serve');
    expect(commandName(argv('--json', '--db', 'postgres://h/db', 'keys', 'list'))).toBe('keys');
    expect(commandName(argv('--url=http://h:1', '--admin-key', 'serve', 'keys'))).toBe('keys');
    expect(commandName(argv('--home', 'serve', 'tiers'))).toBe('tiers');
  });

  it('is null when the root itself answers: no command, help, version or an option it does not know', () => {
    expect(commandName(argv())).toBeNull();
    expect(commandName(argv('--help', 'serve'))).toBeNull();
    expect(commandName(argv('-v'))).toBeNull();
    expect(commandName(argv('--bogus', 'serve'))).toBeNull();
    expect(commandName(argv('--home'))).toBeNull();
  });
});

describe("lw serve's program", () => {
  const helpOf = async (build: typeof buildProgram, args: string[]) => {
    const stdout = new Capture();
    const program = build({ stdout, stderr: new Capture() });
    await program.parseAsync(args, { from: 'user' }).catch(() => {});
    return stdout.text;
  };

  it('prints the same serve help as the full program, global options included', async () => {
    const full = await helpOf(buildProgram, ['serve', '--help']);
    expect(full).toContain('Global Options:');
    expect(await helpOf(buildServeProgram, ['serve', '--help'])).toBe(full);
    expect(await helpOf(buildServeProgram, ['--home', '/tmp/h', 'serve', '--help'])).toBe(full);
  });
});
