/** @module An in-memory AdminService for CLI tests, plus `runCli` which runs the program with captured output. */
import {
  AdminError,
  type AdminService,
  type CreatedKey,
  type KeyView,
  type ModelView,
  type ProviderView,
  type TierView,
  type UsageReport,
} from '../../../src/admin/types.js';
import type { AdminBackend } from '../../../src/cli/backend.js';
import { run } from '../../../src/cli/program.js';
import { Capture } from './capture.js';

export { Capture } from './capture.js';

const T0 = '2025-01-02T03:04:05.000Z';

function tier(name: string, rpm: number | null, isDefault = false): TierView {
  return {
    id: `tier_${name}`,
    name,
    rpm,
    tpm: null,
    quota_tokens: null,
    quota_period: 'month',
    max_concurrent: null,
    models: [],
    is_default: isDefault,
  };
}

export interface FakeAdmin extends AdminService {
  calls: Array<[string, unknown[]]>;
  usageReport: UsageReport;
}

export function fakeAdmin(): FakeAdmin {
  const keys = new Map<string, KeyView>();
  const tiers = new Map<string, TierView>([
    ['beta', tier('beta', 60, true)],
    ['pro', tier('pro', 250)],
    ['enterprise', tier('enterprise', null)],
  ]);
  const providers = new Map<string, ProviderView>();
  const models = new Map<string, ModelView>();
  const calls: Array<[string, unknown[]]> = [];
  let seq = 0;
  const log = (name: string, ...args: unknown[]) => void calls.push([name, args]);

  const findKey = (ref: string): KeyView => {
    const k = [...keys.values()].find((x) => x.id === ref || x.name === ref || x.prefix.startsWith(ref));
    if (!k) throw new AdminError(`no key matches '${ref}'`, 404);
    return k;
  };
  const findModel = (id: string): ModelView => {
    const m = models.get(id);
    if (!m) throw new AdminError(`unknown model '${id}'`, 404);
    return m;
  };
  const mint = (base: KeyView): CreatedKey => {
    seq++;
    const key = `lw-${String(seq).padStart(8, '0')}${'x'.repeat(35)}`;
    const view = { ...base, prefix: key.slice(0, 11) };
    keys.set(view.id, view);
    return { ...view, key };
  };

  const service: FakeAdmin = {
    calls,
    usageReport: {
      totals: { requests: 3, prompt_tokens: 300, completion_tokens: 150, cached_tokens: 10, cost: '0.00123' },
      rows: [
        { group: '2025-01-01', requests: 1, prompt_tokens: 100, completion_tokens: 50, cached_tokens: 0, cost: '0.0004' },
        { group: '2025-01-02', requests: 2, prompt_tokens: 200, completion_tokens: 100, cached_tokens: 10, cost: '0.00083' },
      ],
      by: 'day',
      since: '2024-12-26T00:00:00.000Z',
    },
    keys: {
      async create(input) {
        log('keys.create', input);
        if ([...keys.values()].some((k) => k.name === input.name)) throw new AdminError(`a key named '${input.name}' exists`, 409);
        const tierName = input.tier ?? 'beta';
        if (!tiers.has(tierName)) throw new AdminError(`unknown tier '${tierName}'`, 404);
        return mint({
          id: `key_${keys.size + 1}`,
          name: input.name,
          prefix: '',
          tier: tierName,
          status: 'active',
          models: input.models ?? null,
          credits: input.credits ?? null,
          rpm: null,
          tpm: null,
          quota_tokens: null,
          max_concurrent: null,
          expires_at: null,
          created_at: T0,
          last_used_at: null,
        });
      },
      async list() {
        return [...keys.values()];
      },
      async show(ref) {
        return findKey(ref);
      },
      async revoke(ref) {
        const k = { ...findKey(ref), status: 'revoked' as const };
        keys.set(k.id, k);
        return k;
      },
      async rotate(ref) {
        return mint(findKey(ref));
      },
      async set(ref, input) {
        log('keys.set', ref, input);
        const k = findKey(ref);
        const next: KeyView = {
          ...k,
          ...(input.tier !== undefined ? { tier: input.tier } : {}),
          ...(input.models !== undefined ? { models: input.models } : {}),
          ...(input.credits !== undefined ? { credits: input.credits } : {}),
          ...(input.rpm !== undefined ? { rpm: input.rpm } : {}),
          ...(input.tpm !== undefined ? { tpm: input.tpm } : {}),
          ...(input.quota_tokens !== undefined ? { quota_tokens: input.quota_tokens } : {}),
          ...(input.max_concurrent !== undefined ? { max_concurrent: input.max_concurrent } : {}),
        };
        keys.set(k.id, next);
        return next;
      },
    },
    tiers: {
      async list() {
        return [...tiers.values()];
      },
      async create(name, input) {
        log('tiers.create', name, input);
        if (tiers.has(name)) throw new AdminError(`tier '${name}' exists`, 409);
        const t: TierView = { ...tier(name, input.rpm ?? null), ...definedTier(input) };
        tiers.set(name, t);
        return t;
      },
      async set(name, input) {
        log('tiers.set', name, input);
        const t = tiers.get(name);
        if (!t) throw new AdminError(`unknown tier '${name}'`, 404);
        const next = { ...t, ...definedTier(input) };
        tiers.set(name, next);
        return next;
      },
      async delete(name) {
        if (!tiers.delete(name)) throw new AdminError(`unknown tier '${name}'`, 404);
        return { deleted: name };
      },
    },
    providers: {
      async add(input) {
        log('providers.add', input);
        if (providers.has(input.name)) throw new AdminError(`provider '${input.name}' exists`, 409);
        const p: ProviderView = {
          id: `prov_${input.name}`,
          name: input.name,
          kind: input.kind ?? 'openai',
          base_url: input.base_url ?? 'https://api.openai.com/v1',
          api_key_env: input.api_key_env ?? null,
          api_key_present: false,
          headers: input.headers ?? {},
          timeouts: {},
          supports_responses: input.supports_responses ?? false,
          enabled: true,
        };
        providers.set(p.name, p);
        return p;
      },
      async list() {
        return [...providers.values()];
      },
      async remove(name) {
        if (!providers.delete(name)) throw new AdminError(`unknown provider '${name}'`, 404);
        const orphaned = [...models.values()].filter((m) => m.deployments.every((d) => d.provider === name));
        return { removed: name, orphaned_models: orphaned.map((m) => m.id) };
      },
      async test(name) {
        if (!providers.has(name)) throw new AdminError(`unknown provider '${name}'`, 404);
        const ok = name !== 'down';
        return {
          provider: name,
          ok,
          status: ok ? 200 : null,
          latency_ms: 12,
          models: ok ? ['m1', 'm2'] : [],
          message: ok ? 'ok' : 'connection refused by http://127.0.0.1:9',
        };
      },
    },
    models: {
      async list() {
        return [...models.values()];
      },
      async add(input) {
        log('models.add', input);
        if (!providers.has(input.provider)) throw new AdminError(`unknown provider '${input.provider}'`, 404);
        const existing = models.get(input.id);
        const deployment = {
          provider: input.provider,
          upstream_model: input.upstream_model ?? input.id,
          priority: existing?.deployments.length ?? 0,
          weight: 1,
        };
        if (existing) {
          const next = { ...existing, deployments: [...existing.deployments, deployment] };
          models.set(next.id, next);
          return { ...next, added: 'deployment' as const };
        }
        const m: ModelView = {
          id: input.id,
          kind: input.kind ?? 'chat',
          aliases: input.aliases ?? [],
          deployments: [deployment],
          context_window: input.context_window ?? null,
          max_output: input.max_output ?? null,
          status: 'GA',
          price_in: input.price_in ?? null,
          price_out: input.price_out ?? null,
          price_cached_in: input.price_cached_in ?? null,
          enabled: true,
        };
        models.set(m.id, m);
        return { ...m, added: 'model' as const };
      },
      async alias(id, alias) {
        const m = { ...findModel(id) };
        m.aliases = [...m.aliases, alias];
        models.set(id, m);
        return m;
      },
      async remove(id) {
        findModel(id);
        models.delete(id);
        return { removed: id };
      },
      async enable(id) {
        const m = { ...findModel(id), enabled: true };
        models.set(id, m);
        return m;
      },
      async disable(id) {
        const m = { ...findModel(id), enabled: false };
        models.set(id, m);
        return m;
      },
      async sync(provider) {
        log('models.sync', provider);
        if (!providers.has(provider)) throw new AdminError(`unknown provider '${provider}'`, 404);
        for (const id of ['m1', 'm2']) if (!models.has(id)) await this.add({ id, provider });
        return { provider, added: ['m1', 'm2'], updated: ['gpt-4o'], skipped: ['whisper-1'] };
      },
    },
    usage: {
      async report(query) {
        log('usage.report', query);
        if (query.by && query.by !== 'day') {
          return { ...service.usageReport, by: query.by, rows: [{ ...service.usageReport.rows[1]!, group: 'gpt-4o-mini' }] };
        }
        return service.usageReport;
      },
    },
  };
  return service;
}

function definedTier(input: Parameters<AdminService['tiers']['set']>[1]): Partial<TierView> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<TierView>;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  service: FakeAdmin;
  /** How many backends were opened and closed (every command must close what it opens). */
  opened: number;
  closed: number;
}

/** Runs `lw <args>` in-process against the fake service. */
export async function runCli(
  args: string[],
  opts: { service?: FakeAdmin; isTTY?: boolean; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<CliRun> {
  const service = opts.service ?? fakeAdmin();
  const stdout = new Capture();
  const stderr = new Capture();
  const count = { opened: 0, closed: 0 };
  const backend = async (): Promise<AdminBackend> => {
    count.opened++;
    return { service, mode: 'direct', location: 'memory://', embedded: false, close: async () => void count.closed++ };
  };
  const code = await run(['node', 'lw', ...args], {
    stdout,
    stderr,
    isTTY: opts.isTTY ?? false,
    columns: 100,
    env: opts.env ?? {},
    getAdmin: backend,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { code, stdout: stdout.text, stderr: stderr.text, service, ...count };
}
