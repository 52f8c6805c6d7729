/**
 * @module `lw service install`: a systemd unit for `lw serve` (user or system) and its
 * EnvironmentFile for secrets (mode 0600, created once with a commented template, never
 * overwritten). Pure planners; `apply.ts` writes.
 */
import { join } from 'node:path';
import type { ConfigurePlan, FilePlan, ReadText } from './types.js';

export interface SystemdUnitOptions {
  /** A user unit (`systemctl --user`) instead of a system unit. */
  user: boolean;
  /** How to run lw: `/usr/local/bin/lw`, or `[process.execPath, '/path/bin/lw.js']`. */
  execPath: string | string[];
  /** The data directory the daemon uses (`LW_HOME`). */
  home: string;
  /** Secrets file (`EnvironmentFile=-…`): provider keys, database URL. */
  envFile: string;
  /** System units only: run as this account (`User=`) instead of root. */
  runAs?: string;
}

/** Drain is 30 s (config `drainMs`); systemd waits a little longer before SIGKILL. */
export const STOP_TIMEOUT_SEC = 45;

/** systemd expands `%` specifiers everywhere and `$VAR` in ExecStart: escape both, quote when needed. */
function execArg(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (!/[\s"'\\;]/.test(escaped) && escaped !== '') return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function envAssignment(name: string, value: string): string {
  const v = value.replace(/%/g, '%%');
  return /[\s"\\]/.test(v) ? `"${name}=${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `${name}=${v}`;
}

/**
 * The unit text for `lw serve`.
 * @example
 * planSystemdUnit({ user: true, execPath: '/usr/bin/lw', home: '/home/me/.local/share/lw', envFile: '/home/me/.config/lw/lw.env' });
 */
export function planSystemdUnit(opts: SystemdUnitOptions): string {
  const argv = typeof opts.execPath === 'string' ? [opts.execPath] : opts.execPath;
  const unit = [
    `# Written by \`lw service install${opts.user ? ' --user' : ''}\`. Secrets go in ${opts.envFile}, not here.`,
    '[Unit]',
    'Description=lw AI gateway (lw serve)',
    'After=network-online.target',
  ];
  if (!opts.user) unit.push('Wants=network-online.target');
  unit.push(
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[...argv, 'serve'].map(execArg).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=2',
    `Environment=${envAssignment('LW_HOME', opts.home)}`,
    `EnvironmentFile=-${opts.envFile.replace(/%/g, '%%')}`,
    '# SIGTERM starts a graceful drain (30 s); SIGKILL only after this.',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${STOP_TIMEOUT_SEC}`,
    'SyslogIdentifier=lw',
    'UMask=0077',
    'NoNewPrivileges=true',
  );
  if (!opts.user) {
    if (opts.runAs) unit.push(`User=${opts.runAs}`);
    // A data dir under /var/lib is created by systemd, owned by User=.
    const state = /^\/var\/lib\/([A-Za-z0-9._-]+)\/?$/.exec(opts.home)?.[1];
    if (state) unit.push(`StateDirectory=${state}`);
    unit.push(
      'PrivateTmp=true',
      'ProtectSystem=full',
      'ProtectKernelTunables=true',
      'ProtectKernelModules=true',
      'ProtectControlGroups=true',
      'RestrictSUIDSGID=true',
      'LockPersonality=true',
    );
  }
  unit.push('', '[Install]', `WantedBy=${opts.user ? 'default.target' : 'multi-user.target'}`);
  return unit.join('\n') + '\n';
}

/** The EnvironmentFile written when none exists: every line a comment, so it changes nothing yet. */
export const ENV_FILE_TEMPLATE = `# Environment for \`lw serve\`, read by systemd (EnvironmentFile=). Keep it mode 0600.
# One NAME=value per line; no \`export\`, no shell expansion. Restart the service after editing.
#
# Upstream provider keys (lw registers the providers it finds at start-up):
# OPENAI_API_KEY=sk-...
# ANTHROPIC_API_KEY=sk-ant-...
# GEMINI_API_KEY=...
# OPENROUTER_API_KEY=...
#
# Shared store and limits (optional; the default is the embedded store in LW_HOME):
# LW_DATABASE_URL=postgres://lw:secret@127.0.0.1:5432/lw
# LW_REDIS_URL=redis://127.0.0.1:6379
`;

/** `~/.config/systemd/user/lw.service` (honours `$XDG_CONFIG_HOME`) or `/etc/systemd/system/lw.service`. */
export function systemdUnitPath(user: boolean, homeDir: string, env: NodeJS.ProcessEnv): string {
  if (!user) return '/etc/systemd/system/lw.service';
  return join(env['XDG_CONFIG_HOME'] || join(homeDir, '.config'), 'systemd', 'user', 'lw.service');
}

/** Default secrets file: `~/.config/lw/lw.env` for a user unit, `/etc/lw/lw.env` for a system unit. */
export function defaultEnvFile(user: boolean, homeDir: string, env: NodeJS.ProcessEnv): string {
  if (!user) return '/etc/lw/lw.env';
  return join(env['XDG_CONFIG_HOME'] || join(homeDir, '.config'), 'lw', 'lw.env');
}

export interface ServicePlanOptions extends SystemdUnitOptions {
  homeDir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Plans the unit file and, when absent, the EnvironmentFile (0600). An existing EnvironmentFile is
 * never rewritten.
 * @example const plan = planService({ user: true, execPath, home, envFile, homeDir, env }, readText);
 */
export function planService(opts: ServicePlanOptions, read: ReadText): ConfigurePlan {
  const unitPath = systemdUnitPath(opts.user, opts.homeDir, opts.env);
  const unit: FilePlan = { path: unitPath, before: read(unitPath), after: planSystemdUnit(opts) };
  const envBefore = read(opts.envFile);
  const envFile: FilePlan = { path: opts.envFile, before: envBefore, after: envBefore ?? ENV_FILE_TEMPLATE, mode: 0o600 };
  const ctl = opts.user ? 'systemctl --user' : 'systemctl';
  const instructions = [
    `put provider keys (OPENAI_API_KEY=…) in ${opts.envFile}`,
    `${ctl} daemon-reload && ${ctl} enable --now lw`,
  ];
  if (unit.before !== null && unit.before !== unit.after) instructions.push(`${ctl} restart lw   # if it was already running`);
  if (opts.user) instructions.push('loginctl enable-linger $USER   # keep it running after you log out and start it at boot');
  instructions.push(`journalctl ${opts.user ? '--user ' : ''}-u lw -f   # follow its logs`);
  return { client: 'service', files: [unit, envFile], instructions };
}
