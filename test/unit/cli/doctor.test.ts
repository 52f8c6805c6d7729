/** `lw doctor` checks, against a fake admin service and client files in a temporary home. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDoctor, type Check } from '../../../src/cli/commands/doctor.js';
import { fakeAdmin, type FakeAdmin } from './fake-admin.js';

const find = (checks: Check[], area: string) => checks.find((c) => c.area === area);

describe('lw doctor', () => {
  let home: string;
  let admin: FakeAdmin;
  const env = (): NodeJS.ProcessEnv => ({ HOME: home, LW_HOME: join(home, 'lw'), XDG_CONFIG_HOME: join(home, '.config') });
  const open = async () => ({ service: admin as FakeAdmin, location: '/tmp/store', mode: 'direct', close: async () => {} });

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'lw-doctor-'));
    admin = fakeAdmin();
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('says what to fix on an empty store: no provider, no model, no key; clients not configured', async () => {
    const checks = await runDoctor({ env: env(), homeDir: home, open });
    expect(find(checks, 'store')).toMatchObject({ status: 'ok' });
    expect(find(checks, 'providers')).toMatchObject({ status: 'fail', fix: expect.stringContaining('lw providers add') });
    expect(find(checks, 'models')).toMatchObject({ status: 'fail' });
    expect(find(checks, 'keys')).toMatchObject({ status: 'warn', fix: 'lw keys create --name NAME' });
    expect(find(checks, 'codex')).toMatchObject({ status: 'info', fix: 'lw configure codex' });
    expect(find(checks, 'daemon')).toMatchObject({ status: 'info', fix: 'lw serve' });
  });

  it('reports a provider whose key variable is missing, and one that answers', async () => {
    await admin.providers.add({ name: 'up', base_url: 'http://127.0.0.1:9/v1' });
    await admin.providers.add({ name: 'keyed', base_url: 'http://127.0.0.1:9/v1', api_key_env: 'NOT_SET_ANYWHERE' });
    const checks = await runDoctor({ env: env(), homeDir: home, open });
    expect(find(checks, 'provider up')).toMatchObject({ status: 'ok' });
    expect(find(checks, 'provider keyed')).toMatchObject({ status: 'fail', detail: expect.stringContaining('NOT_SET_ANYWHERE is not set') });
  });

  it('checks the client files lw configure wrote', async () => {
    mkdirSync(join(home, '.codex'), { recursive: true });
    writeFileSync(join(home, '.codex', 'config.toml'), 'model_provider = "lw"\n[model_providers.lw]\nbase_url = "http://127.0.0.1:8040/v1"\nenv_key = "LW_API_KEY"\nwire_api = "chat"\n');
    let checks = await runDoctor({ env: env(), homeDir: home, open });
    expect(find(checks, 'codex')).toMatchObject({ status: 'fail', detail: expect.stringContaining('wire_api') });
    writeFileSync(join(home, '.codex', 'config.toml'), 'model_provider = "lw"\n[model_providers.lw]\nbase_url = "http://127.0.0.1:8040/v1"\nenv_key = "LW_API_KEY"\nwire_api = "responses"\n');
    checks = await runDoctor({ env: env(), homeDir: home, open });
    expect(find(checks, 'codex')).toMatchObject({ status: 'warn', fix: 'export LW_API_KEY=lw-…' });
    checks = await runDoctor({ env: { ...env(), LW_API_KEY: 'lw-x' }, homeDir: home, open });
    expect(find(checks, 'codex')).toMatchObject({ status: 'ok' });
    writeFileSync(join(home, '.codex', 'config.toml'), 'model = [broken');
    checks = await runDoctor({ env: env(), homeDir: home, open });
    expect(find(checks, 'codex')).toMatchObject({ status: 'fail', detail: expect.stringContaining('not valid TOML') });
  });

  it('fails the store check with the reason when the store cannot be opened', async () => {
    const checks = await runDoctor({
      env: env(),
      homeDir: home,
      open: async () => {
        throw new Error('connection refused at 127.0.0.1:5432');
      },
    });
    expect(find(checks, 'store')).toMatchObject({ status: 'fail', detail: 'connection refused at 127.0.0.1:5432' });
  });
});
