import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AdminError } from '../../../src/admin/types.js';
import { CliError, describeError, handleCliError } from '../../../src/cli/errors.js';
import { ConfigError } from '../../../src/lib/config.js';

function sink() {
  const lines: string[] = [];
  return {
    lines,
    error: (text: string, hint?: string) => void lines.push(`error: ${text}`, ...(hint ? [`hint: ${hint}`] : [])),
    debug: (text: string) => void lines.push(`debug: ${text}`),
  };
}

describe('handleCliError', () => {
  it('prints one line (and a hint) and returns the exit code', () => {
    const s = sink();
    expect(handleCliError(new CliError('nothing to change', 2, 'pass a flag'), s, {})).toBe(2);
    expect(s.lines).toEqual(['error: nothing to change', 'hint: pass a flag']);
  });

  it('maps AdminError to its message, 401 with a token hint', () => {
    expect(describeError(new AdminError("unknown tier 'gold'", 404))).toEqual({ message: "unknown tier 'gold'", hint: undefined, exitCode: 1 });
    expect(describeError(new AdminError('bad admin token', 401)).hint).toMatch(/--admin-key/);
  });

  it('lists zod issues as flags', () => {
    const r = z.object({ monthlyTokens: z.number(), rpm: z.number() }).safeParse({ monthlyTokens: 'x', rpm: 'y' });
    const report = describeError(r.error);
    expect(report.message).toMatch(/^invalid --monthly-tokens: .+; --rpm: /);
    expect(report.exitCode).toBe(1);
  });

  it('maps ConfigError with a hint, and a refused connection naming its code', () => {
    expect(describeError(new ConfigError('invalid configuration: port: too big'))).toMatchObject({
      message: 'invalid configuration: port: too big',
      hint: expect.stringContaining('lw.toml'),
    });
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8040'), { code: 'ECONNREFUSED' }),
    });
    expect(describeError(refused).message).toBe('network error (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:8040');
  });

  it('is silent for commander errors it already printed: 0 for help, 2 for usage', () => {
    expect(describeError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toMatchObject({ exitCode: 0, silent: true });
    expect(describeError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toMatchObject({ exitCode: 2, silent: true });
    const s = sink();
    expect(handleCliError(new CommanderError(1, 'commander.unknownOption', 'x'), s, {})).toBe(2);
    expect(s.lines).toEqual([]);
  });

  it('never prints a key, keeps only the first line, and prints the stack only with LW_DEBUG=1', () => {
    const err = new Error('key lw-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG was refused\nsecond line');
    const quiet = sink();
    handleCliError(err, quiet, {});
    expect(quiet.lines).toEqual(['error: key lw-*** was refused']);
    const loud = sink();
    handleCliError(err, loud, { LW_DEBUG: '1' });
    expect(loud.lines[1]).toMatch(/^debug: Error: key lw-\*\*\* was refused/);
    expect(loud.lines.join('\n')).not.toContain('abcdefghijkl');
  });

  it('handles non-Error throws', () => {
    expect(describeError('boom')).toEqual({ message: 'boom', exitCode: 1 });
  });
});
