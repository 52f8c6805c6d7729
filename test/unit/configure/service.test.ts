/** @module systemd unit and EnvironmentFile planning (golden units, `systemd-analyze verify` when present). */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPlan, readText } from '../../../src/configure/apply.js';
import {
  ENV_FILE_TEMPLATE,
  defaultEnvFile,
  planService,
  planSystemdUnit,
  systemdUnitPath,
} from '../../../src/configure/service.js';
import { expectGolden, mapReader, tempDir } from './helpers.js';

const NODE_ARGV = ['/usr/bin/node', '/opt/lw/bin/lw.js'];

/** `Key=value` lines of one `[Section]` of a unit. */
function section(unit: string, name: string): string[] {
  const body = unit.split(`[${name}]\n`)[1] ?? '';
  return body.split('\n[')[0]!.split('\n').filter((l) => l && !l.startsWith('#'));
}

describe('planSystemdUnit', () => {
  it('writes a user unit', () => {
    const unit = planSystemdUnit({
      user: true,
      execPath: NODE_ARGV,
      home: '/home/ana/.local/share/lw',
      envFile: '/home/ana/.config/lw/lw.env',
    });
    expectGolden('service', 'user.service', unit);
    expect(section(unit, 'Service')).toEqual(
      expect.arrayContaining([
        'Type=simple',
        'ExecStart=/usr/bin/node /opt/lw/bin/lw.js serve',
        'Restart=on-failure',
        'RestartSec=2',
        'Environment=LW_HOME=/home/ana/.local/share/lw',
        'EnvironmentFile=-/home/ana/.config/lw/lw.env',
        'KillSignal=SIGTERM',
        'TimeoutStopSec=45',
        'NoNewPrivileges=true',
      ]),
    );
    expect(section(unit, 'Unit')).toContain('After=network-online.target');
    expect(section(unit, 'Install')).toEqual(['WantedBy=default.target']);
    expect(unit).not.toContain('ProtectSystem'); // system-only sandboxing would fail in a user manager
  });

  it('writes a hardened system unit running as a given user', () => {
    const unit = planSystemdUnit({
      user: false,
      execPath: '/usr/local/bin/lw',
      home: '/var/lib/lw',
      envFile: '/etc/lw/lw.env',
      runAs: 'lw',
    });
    expectGolden('service', 'system.service', unit);
    expect(section(unit, 'Service')).toEqual(
      expect.arrayContaining(['ExecStart=/usr/local/bin/lw serve', 'User=lw', 'ProtectSystem=full', 'PrivateTmp=true']),
    );
    expect(section(unit, 'Unit')).toContain('Wants=network-online.target');
    expect(section(unit, 'Install')).toEqual(['WantedBy=multi-user.target']);
  });

  it('escapes specifiers, variables and spaces', () => {
    const unit = planSystemdUnit({
      user: true,
      execPath: ['/opt/my apps/node', '/x/100%/lw.js', '$HOME'],
      home: '/data/my lw',
      envFile: '/e/%h.env',
    });
    expect(unit).toContain('ExecStart="/opt/my apps/node" /x/100%%/lw.js $$HOME serve');
    expect(unit).toContain('Environment="LW_HOME=/data/my lw"');
    expect(unit).toContain('EnvironmentFile=-/e/%%h.env');
  });
});

/** `systemd-analyze verify` complaints about a unit text ('' = none); null when systemd is not installed. */
function verifyUnit(unit: string): string | null {
  const dir = tempDir('lw-unit-');
  const path = join(dir, 'lw.service');
  writeFileSync(path, unit);
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return null;
  return r.stderr.split('\n').filter((l) => l.includes(path)).join('\n');
}

describe.skipIf(verifyUnit('[Unit]\nDescription=probe\n') === null)('systemd-analyze verify', () => {
  it('accepts both units without a warning', () => {
    const script = join(tempDir(), 'lw.js');
    writeFileSync(script, '');
    const common = { execPath: [process.execPath, script], home: '/var/lib/lw', envFile: '/etc/lw/lw.env' };
    expect(verifyUnit(planSystemdUnit({ ...common, user: true }))).toBe('');
    expect(verifyUnit(planSystemdUnit({ ...common, user: false, runAs: 'root' }))).toBe('');
    // …and the check does catch a bad line.
    expect(verifyUnit(planSystemdUnit({ ...common, user: true }).replace('RestartSec=2', 'RestartSec=soon'))).toMatch(
      /RestartSec|sec value/,
    );
  });
});

describe('planService', () => {
  const base = { execPath: NODE_ARGV, home: '/h/.local/share/lw', homeDir: '/h', env: {} };

  it('puts units where systemd looks and says how to start them', () => {
    expect(systemdUnitPath(true, '/h', {})).toBe('/h/.config/systemd/user/lw.service');
    expect(systemdUnitPath(true, '/h', { XDG_CONFIG_HOME: '/x' })).toBe('/x/systemd/user/lw.service');
    expect(systemdUnitPath(false, '/h', {})).toBe('/etc/systemd/system/lw.service');
    expect(defaultEnvFile(true, '/h', {})).toBe('/h/.config/lw/lw.env');
    expect(defaultEnvFile(false, '/h', {})).toBe('/etc/lw/lw.env');

    const user = planService({ ...base, user: true, envFile: '/h/.config/lw/lw.env' }, mapReader({}));
    expect(user.instructions).toContain('systemctl --user daemon-reload && systemctl --user enable --now lw');
    expect(user.instructions.join('\n')).toContain('loginctl enable-linger $USER');
    const system = planService({ ...base, user: false, envFile: '/etc/lw/lw.env' }, mapReader({}));
    expect(system.instructions).toContain('systemctl daemon-reload && systemctl enable --now lw');
    expect(system.instructions.join('\n')).not.toContain('linger');
  });

  it('creates the env file once (0600, all comments) and never rewrites it', () => {
    expectGolden('service', 'lw.env', ENV_FILE_TEMPLATE);
    expect(ENV_FILE_TEMPLATE.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
    const fresh = planService({ ...base, user: true, envFile: '/h/lw.env' }, mapReader({}));
    expect(fresh.files[1]).toEqual({ path: '/h/lw.env', before: null, after: ENV_FILE_TEMPLATE, mode: 0o600 });
    const kept = planService({ ...base, user: true, envFile: '/h/lw.env' }, mapReader({ '/h/lw.env': 'OPENAI_API_KEY=sk-1\n' }));
    expect(kept.files[1]!.after).toBe('OPENAI_API_KEY=sk-1\n');
  });

  it('applies to a temp home: 0600 env file, idempotent, replaces a stale unit with a backup', () => {
    const homeDir = tempDir();
    const opts = { ...base, user: true, homeDir, env: {}, envFile: defaultEnvFile(true, homeDir, {}) };
    const unitPath = systemdUnitPath(true, homeDir, {});
    mkdirSync(dirname(unitPath), { recursive: true });
    writeFileSync(unitPath, '[Service]\nExecStart=/old/lw serve\n');
    const first = applyPlan(planService(opts, readText));
    expect(first.changed).toEqual([unitPath, opts.envFile]);
    expect(first.backups).toHaveLength(1);
    expect(readText(first.backups[0]!)).toBe('[Service]\nExecStart=/old/lw serve\n');
    expect(statSync(opts.envFile).mode & 0o777).toBe(0o600);
    expect(readText(join(homeDir, '.config', 'lw', 'lw.env'))).toBe(ENV_FILE_TEMPLATE);
    const second = applyPlan(planService(opts, readText));
    expect(second).toMatchObject({ changed: [], backups: [], unchanged: [unitPath, opts.envFile] });
  });
});
