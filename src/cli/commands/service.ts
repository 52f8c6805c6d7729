/**
 * @module `lw service install [--user]`: writes a systemd unit for `lw serve` plus a 0600
 * EnvironmentFile for secrets, then says which systemctl commands to run.
 */
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { applyPlan, diffText, readText } from '../../configure/apply.js';
import { defaultEnvFile, planService } from '../../configure/service.js';
import { ConfigureError } from '../../configure/types.js';
import type { ReadText } from '../../configure/types.js';
import { resolveHome } from '../../lib/paths.js';
import { DAEMON_NODE_FLAGS } from '../../daemon/node-flags.js';
import type { CommandHost, CommandOutput } from './configure.js';

export interface ServiceDeps {
  output: CommandOutput;
  /** Defaults: process.env, $HOME / os.homedir(), the real clock and file reader. */
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  now?: () => Date;
  read?: ReadText;
  /** How systemd should start lw; default: this Node binary + this package's `bin/lw.js`. */
  execArgv?: string[];
  /** Whether this process may write system units; default: uid 0. */
  isRoot?: () => boolean;
}

const optionsSchema = z.object({
  user: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  json: z.boolean().default(false),
  envFile: z.string().min(1).optional(),
  runAs: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*\$?$/i, 'not a user name')
    .optional(),
  exec: z.string().min(1).optional(),
});

export type ServiceInstallOptions = z.input<typeof optionsSchema>;

export interface ServiceReport {
  client: 'service';
  dry_run: boolean;
  user: boolean;
  files: Array<{ path: string; changed: boolean; created: boolean; backup: string | null; diff?: string }>;
  instructions: string[];
}

/** `node <daemon flags> /abs/bin/lw.js`: absolute paths, so systemd's minimal PATH does not matter. */
export function defaultExecArgv(): string[] {
  return [process.execPath, ...DAEMON_NODE_FLAGS, fileURLToPath(new URL('../../../bin/lw.js', import.meta.url))];
}

/**
 * Plans and (unless `dryRun`) writes the unit and env file.
 * @example await handleServiceInstall({ user: true }, { output });
 */
export async function handleServiceInstall(raw: ServiceInstallOptions, deps: ServiceDeps): Promise<ServiceReport> {
  const opts = optionsSchema.parse(raw);
  const env = deps.env ?? process.env;
  const homeDir = deps.homeDir ?? (env['HOME'] || homedir());
  const isRoot = deps.isRoot ?? (() => process.getuid?.() === 0);
  if (!opts.user && !opts.dryRun && !isRoot()) {
    throw new ConfigureError('a system unit goes to /etc/systemd/system: run with sudo, or use --user');
  }
  const execPath = opts.exec ? opts.exec.trim().split(/\s+/) : (deps.execArgv ?? defaultExecArgv());
  const plan = planService(
    {
      user: opts.user,
      execPath,
      home: resolveHome(env),
      envFile: opts.envFile ?? defaultEnvFile(opts.user, homeDir, env),
      runAs: opts.user ? undefined : (opts.runAs ?? env['SUDO_USER']),
      homeDir,
      env,
    },
    deps.read ?? readText,
  );
  const result = applyPlan(plan, { dryRun: opts.dryRun, now: deps.now });
  const report: ServiceReport = {
    client: 'service',
    dry_run: opts.dryRun,
    user: opts.user,
    files: plan.files.map((f) => {
      const changed = result.changed.includes(f.path);
      const entry: ServiceReport['files'][number] = {
        path: f.path,
        changed,
        created: changed && f.before === null,
        backup: result.backupOf[f.path] ?? null,
      };
      if (opts.dryRun && changed) entry.diff = diffText(f.before, f.after, f.path);
      return entry;
    }),
    instructions: plan.instructions,
  };
  if (opts.json) deps.output.json(report);
  else deps.output.out(renderServiceReport(report));
  return report;
}

export function renderServiceReport(r: ServiceReport): string {
  const lines: string[] = [];
  for (const f of r.files) {
    if (r.dry_run && f.diff) lines.push(f.diff.trimEnd());
    else if (!f.changed) lines.push(`unchanged ${f.path}`);
    else lines.push(f.created ? `created ${f.path}` : `updated ${f.path} (backup: ${f.backup})`);
  }
  if (r.dry_run) lines.push('dry run: nothing written');
  lines.push('', 'Next:', ...r.instructions.map((i) => `  ${i}`));
  return lines.join('\n');
}

/**
 * The `lw service` command group; the daemon's data dir is the program's `--home` / `LW_HOME`.
 * @example program.addCommand(serviceCommand(ctx));
 */
export function serviceCommand(host: Pick<CommandHost, 'env' | 'output'>, deps: Partial<ServiceDeps> = {}): Command {
  const install = new Command('install')
    .description('write a systemd unit for `lw serve` and a 0600 EnvironmentFile for provider keys')
    .option('--user', 'a user unit (~/.config/systemd/user/lw.service) instead of /etc/systemd/system/lw.service')
    .option('--env-file <path>', 'secrets file (default: ~/.config/lw/lw.env, or /etc/lw/lw.env for a system unit)')
    .option('--run-as <user>', 'system unit: run as this user (default: $SUDO_USER, else root)')
    .option('--exec <command>', 'how to start lw (default: this node + this package’s bin/lw.js)')
    .option('--dry-run', 'show the files and write nothing')
    .addHelpText(
      'after',
      `
Examples:
  lw service install --user && systemctl --user enable --now lw
  sudo lw --home /var/lib/lw service install --run-as lw
  lw service install --user --dry-run`,
    )
    .action(async (opts: ServiceInstallOptions, cmd: Command) => {
      const out = host.output(cmd);
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      await handleServiceInstall(
        { ...opts, json },
        { env: host.env, ...deps, output: { out: (text) => out.line(text), json: (value) => out.json(value) } },
      );
    });
  return new Command('service').description('run lw as a systemd service').addCommand(install);
}
