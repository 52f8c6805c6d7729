/**
 * @module The `lw` program: global options, one `.addCommand()` per group, and `run(argv)` which parses,
 * runs and turns every failure into one `error:` line and an exit code (1 failure, 2 wrong usage).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
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
import { handleCliError } from './errors.js';
import { examples } from './help.js';
import { createOutput } from './output.js';
import { loadInkKit } from './ui/load.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Every command inherits the root's output routing, exit override and help settings. */
function inheritSettings(cmd: Command): void {
  for (const sub of cmd.commands) {
    sub.copyInheritedSettings(cmd);
    inheritSettings(sub);
  }
}

/**
 * @example
 * const program = buildProgram({ stdout, stderr, getAdmin: async () => fakeBackend });
 * await program.parseAsync(['keys', 'list', '--json'], { from: 'user' });
 */
export function buildProgram(deps: CliDeps = {}, ctx: CliContext = createContext(deps)): Command {
  const err = deps.stderr ?? process.stderr;
  const out = deps.stdout ?? process.stdout;
  const program = new Command('lw')
    .description('lw: a self-hosted, OpenAI-compatible AI gateway and its admin CLI')
    .version(version(), '-v, --version')
    .option('--json', 'print machine-readable JSON (stable fields, see the README)')
    .option('--db <url>', 'Postgres URL of the store (env: LW_DATABASE_URL, DATABASE_URL)')
    .option('--url <url>', 'administer the daemon at this URL (env: LW_URL)')
    .option('--admin-key <token>', 'admin token for --url (env: LW_ADMIN_KEY)')
    .option('--home <dir>', 'data directory (env: LW_HOME; default ~/.local/share/lw)')
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) })
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .addHelpText(
      'after',
      examples(
        'lw serve',
        'lw providers add openai --api-key-env OPENAI_API_KEY',
        'lw models add gpt-4o-mini --provider openai --price-in 0.15 --price-out 0.60',
        'lw keys create --name alice',
        'lw usage --since 7d --by model',
      ),
    );

  program.hook('preAction', (_root, action) => {
    const home = action.optsWithGlobals<{ home?: string }>().home;
    if (home) ctx.env['LW_HOME'] = home;
  });

  program.addCommand(serveCommand());
  program.addCommand(keysCommand(ctx));
  program.addCommand(tiersCommand(ctx));
  program.addCommand(providersCommand(ctx));
  program.addCommand(modelsCommand(ctx));
  program.addCommand(usageCommand(ctx));
  program.addCommand(configureCommand(ctx));
  program.addCommand(serviceCommand(ctx));
  program.addCommand(doctorCommand(ctx));

  inheritSettings(program);
  return program;
}

/** Commands that never render ink views: their processes should not carry ink, react and yoga (~40 MB). */
const NO_INK_COMMANDS = new Set(['serve']);

/** Whether this command line can render ink output: not `--json`, not `lw serve`. */
function wantsInk(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  if (args.includes('--json')) return false;
  const command = args.find((a) => !a.startsWith('-'));
  return command === undefined || !NO_INK_COMMANDS.has(command);
}

/**
 * Parses `argv` (process.argv shape: node, script, ...args), runs the command and returns the exit code.
 * Never throws and never calls process.exit.
 */
export async function run(argv: readonly string[], deps: CliDeps = {}): Promise<number> {
  if (deps.inkKit === undefined && wantsInk(argv)) deps = { ...deps, inkKit: await loadInkKit() };
  const ctx = createContext(deps);
  const stderr = createOutput({ json: false, isTTY: false, ...(deps.stderr ? { stderr: deps.stderr } : {}) });
  try {
    await buildProgram(deps, ctx).parseAsync([...argv]);
    return 0;
  } catch (err) {
    return handleCliError(err, stderr, ctx.env);
  }
}
