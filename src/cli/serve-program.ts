/**
 * @module `lw serve`'s program: the root (`root.ts`, the same global options and help) with the serve
 * command alone. main.ts runs it when the command line names `serve`, so the daemon's process never
 * loads the admin commands, the client-config writers and their parsers (YAML, TOML patching, JSONC):
 * about 2 MB of heap the daemon would carry for its whole life.
 */
import type { Command } from 'commander';
import { serveCommand } from './commands/serve.js';
import { createContext, type CliContext, type CliDeps } from './context.js';
import { finishProgram, rootProgram, runProgram } from './root.js';

export function buildServeProgram(deps: CliDeps = {}, ctx: CliContext = createContext(deps)): Command {
  const program = rootProgram(deps, ctx);
  program.addCommand(serveCommand());
  return finishProgram(program);
}

/** `run` of program.ts for a command line whose command is `serve`. */
export function run(argv: readonly string[], deps: CliDeps = {}): Promise<number> {
  return runProgram(argv, deps, buildServeProgram);
}
