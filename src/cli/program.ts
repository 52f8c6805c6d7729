/**
 * @module The `lw` program: the root (`root.ts`) with one `.addCommand()` per group, and `run(argv)` which
 * parses, runs and turns every failure into one `error:` line and an exit code (1 failure, 2 wrong usage).
 * `lw serve` runs `serve-program.ts` instead (main.ts picks), so the daemon loads none of the other commands.
 */
import type { Command } from 'commander';
import { serveCommand } from './commands/serve.js';
import { keysCommand } from './commands/keys.js';
import { modelsCommand } from './commands/models.js';
import { providersCommand } from './commands/providers.js';
import { tiersCommand } from './commands/tiers.js';
import { usageCommand } from './commands/usage.js';
import { configureCommand } from './commands/configure.js';
import { serviceCommand } from './commands/service.js';
import { doctorCommand } from './commands/doctor.js';
import { createContext, type CliContext, type CliDeps } from './context.js';
import { finishProgram, rootProgram, runProgram } from './root.js';

/**
 * @example
 * const program = buildProgram({ stdout, stderr, getAdmin: async () => fakeBackend });
 * await program.parseAsync(['keys', 'list', '--json'], { from: 'user' });
 */
export function buildProgram(deps: CliDeps = {}, ctx: CliContext = createContext(deps)): Command {
  const program = rootProgram(deps, ctx);
  program.addCommand(serveCommand());
  program.addCommand(keysCommand(ctx));
  program.addCommand(tiersCommand(ctx));
  program.addCommand(providersCommand(ctx));
  program.addCommand(modelsCommand(ctx));
  program.addCommand(usageCommand(ctx));
  program.addCommand(configureCommand(ctx));
  program.addCommand(serviceCommand(ctx));
  program.addCommand(doctorCommand(ctx));
  return finishProgram(program);
}

/**
 * Parses `argv` (process.argv shape: node, script, ...args), runs the command and returns the exit code.
 * Never throws and never calls process.exit.
 */
export function run(argv: readonly string[], deps: CliDeps = {}): Promise<number> {
  return runProgram(argv, deps, buildProgram);
}
