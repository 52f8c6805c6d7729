/**
 * @module The root of the `lw` program, shared by the full program (`program.ts`: every command) and
 * `lw serve`'s (`serve-program.ts`: that command alone): the global options, output routing, exit
 * override and help settings; `runProgram`, which parses, runs and turns every failure into one
 * `error:` line and an exit code; and `commandName`, which tells from a command line which program it needs.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
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

/** The root command with the global options and no subcommand yet; `finishProgram` once they are added. */
export function rootProgram(deps: CliDeps, ctx: CliContext): Command {
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
  return program;
}

/** Every command inherits the root's output routing, exit override and help settings. */
export function finishProgram(cmd: Command): Command {
  for (const sub of cmd.commands) {
    sub.copyInheritedSettings(cmd);
    finishProgram(sub);
  }
  return cmd;
}

/** The root's options that take a value (`--db <url>` or `--db=<url>`). */
const ROOT_VALUE_OPTIONS = new Set(['--db', '--url', '--admin-key', '--home']);

/**
 * The command a command line (process.argv shape) names: its first argument after the root's options.
 * Null when the root itself answers (no command, `--help`, `--version`, an option the root does not know).
 * @example commandName(['node', 'lw', '--home', '/srv/lw', 'serve', '--port', '0']) // 'serve'
 */
export function commandName(argv: readonly string[]): string | null {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) return a;
    if (a === '--json') continue;
    if (ROOT_VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    const eq = a.indexOf('=');
    if (eq !== -1 && ROOT_VALUE_OPTIONS.has(a.slice(0, eq))) continue;
    return null;
  }
  return null;
}

/** Commands that never render ink views: their processes should not carry ink, react and yoga (~40 MB). */
const NO_INK_COMMANDS = new Set(['serve']);

/** Whether this command line can render ink output: not `--json`, not `lw serve`. */
function wantsInk(argv: readonly string[]): boolean {
  if (argv.slice(2).includes('--json')) return false;
  const command = commandName(argv);
  return command === null || !NO_INK_COMMANDS.has(command);
}

/**
 * Parses `argv` (process.argv shape: node, script, ...args) with the program `build` makes, runs the
 * command and returns the exit code. Never throws and never calls process.exit.
 */
export async function runProgram(argv: readonly string[], deps: CliDeps, build: (deps: CliDeps, ctx: CliContext) => Command): Promise<number> {
  if (deps.inkKit === undefined && wantsInk(argv)) deps = { ...deps, inkKit: await loadInkKit() };
  const ctx = createContext(deps);
  const stderr = createOutput({ json: false, isTTY: false, ...(deps.stderr ? { stderr: deps.stderr } : {}) });
  try {
    await build(deps, ctx).parseAsync([...argv]);
    return 0;
  } catch (err) {
    return handleCliError(err, stderr, ctx.env);
  }
}
