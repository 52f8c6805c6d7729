/**
 * @module `lw configure codex|aider|zed|claude`: resolve the base URL, model and key, plan the client's
 * config edit (`src/configure`), then show the diff (`--dry-run`) or apply it with backups.
 */
import { hostname as osHostname, homedir } from 'node:os';
import { Argument, Command } from 'commander';
import { z } from 'zod';
import type { AdminService, ModelView } from '../../admin/types.js';
import { applyPlan, diffText, readText } from '../../configure/apply.js';
import type { ApplyResult } from '../../configure/apply.js';
import { baseUrlFor, catalogFromModels, normalizeBaseUrl, planClient, withSelectedModel } from '../../configure/plan.js';
import { CLIENT_TARGETS, ConfigureError } from '../../configure/types.js';
import type { CatalogModelInfo, ClientTarget, ConfigurePlan, ReadText } from '../../configure/types.js';
import { loadConfig } from '../../lib/config.js';

/** Where a command's output goes (`src/cli/output.ts` provides it): plain text lines or one JSON value. */
export interface CommandOutput {
  out(text: string): void;
  json(value: unknown): void;
}

export interface ConfigureDeps {
  /** The admin service (daemon API or direct store); called at most once, only when needed. */
  getAdmin(): Promise<AdminService>;
  output: CommandOutput;
  /** Defaults: process.env, $HOME / os.homedir(), os.hostname(), the real clock and file reader. */
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  hostname?: string;
  now?: () => Date;
  read?: ReadText;
}

const optionsSchema = z.object({
  key: z.string().regex(/^lw-\S+$/, 'a gateway key looks like lw-…').optional(),
  model: z.string().min(1).optional(),
  baseUrl: z.string().min(1).optional(),
  dryRun: z.boolean().default(false),
  json: z.boolean().default(false),
  tier: z.string().min(1).optional(),
  keyName: z.string().min(1).optional(),
  writeKey: z.boolean().default(false),
  profile: z.string().min(1).optional(),
});

export type ConfigureOptions = z.input<typeof optionsSchema>;

/** How the key was obtained; `key` (plaintext) only when it was created by this run. */
export interface KeyOutcome {
  source: 'given' | 'created' | 'reused' | 'would-create';
  name?: string;
  prefix?: string;
  tier?: string;
  key?: string;
}

/** `lw configure <client> --json`. */
export interface ConfigureReport {
  client: ClientTarget;
  dry_run: boolean;
  base_url: string;
  model: string;
  files: Array<{ path: string; changed: boolean; created: boolean; backup: string | null; diff?: string }>;
  instructions: string[];
  key: KeyOutcome;
}

function defaultKeyName(client: ClientTarget, host: string): string {
  const short = (host.split('.')[0] ?? '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return short ? `${client}-${short}` : client;
}

async function loadCatalog(
  getAdmin: () => Promise<AdminService>,
  needed: boolean,
): Promise<{ views: ModelView[]; catalog: CatalogModelInfo[]; warning?: string }> {
  try {
    const views = await (await getAdmin()).models.list();
    return { views, catalog: catalogFromModels(views) };
  } catch (e) {
    if (needed) throw e;
    return { views: [], catalog: [], warning: `model catalog unavailable (${(e as Error).message}); limits and prices left out` };
  }
}

async function resolveKey(
  client: ClientTarget,
  opts: z.infer<typeof optionsSchema>,
  deps: ConfigureDeps,
  host: string,
): Promise<KeyOutcome> {
  if (opts.key) return { source: 'given' };
  const name = opts.keyName ?? defaultKeyName(client, host);
  const admin = await deps.getAdmin();
  const existing = await admin.keys.show(name).catch((e: unknown) => {
    if ((e as { status?: number }).status === 404) return null;
    throw e;
  });
  if (existing && existing.name === name) {
    if (existing.status !== 'active') {
      throw new ConfigureError(`key "${name}" is ${existing.status}: pass --key-name with another name, or --key lw-…`);
    }
    return { source: 'reused', name, prefix: existing.prefix, tier: existing.tier };
  }
  if (opts.dryRun) return { source: 'would-create', name, tier: opts.tier };
  const created = await admin.keys.create({ name, tier: opts.tier });
  return { source: 'created', name, prefix: created.prefix, tier: created.tier, key: created.key };
}

function keyLines(k: KeyOutcome): string[] {
  switch (k.source) {
    case 'created':
      return [`Created key "${k.name}" (tier ${k.tier}): ${k.key}`, 'It is shown only this once: store it now.'];
    case 'reused':
      return [
        `Using the existing key "${k.name}" (${k.prefix}…); lw cannot show it again.`,
        `Lost it? \`lw keys rotate ${k.name}\` prints a new one.`,
      ];
    case 'would-create':
      return [`Would create key "${k.name}"${k.tier ? ` (tier ${k.tier})` : ''} and print it once.`];
    case 'given':
      return [];
  }
}

/**
 * Runs `lw configure <client>` and returns its report (also printed through `deps.output`).
 * @example await handleConfigure('codex', { dryRun: true }, deps);
 */
export async function handleConfigure(client: ClientTarget, raw: ConfigureOptions, deps: ConfigureDeps): Promise<ConfigureReport> {
  const opts = optionsSchema.parse(raw);
  const openAdmin = deps.getAdmin.bind(deps);
  let admin: Promise<AdminService> | undefined;
  deps = { ...deps, getAdmin: () => (admin ??= openAdmin()) };
  if (opts.writeKey && client !== 'aider' && client !== 'claude') throw new ConfigureError('--write-key applies to aider and claude only');
  if (opts.profile !== undefined && client !== 'codex') throw new ConfigureError('--profile applies to codex only');
  const env = deps.env ?? process.env;
  const homeDir = deps.homeDir ?? (env['HOME'] || homedir());
  const host = deps.hostname ?? osHostname();
  const read = deps.read ?? readText;
  const baseUrl = normalizeBaseUrl(opts.baseUrl ?? (() => {
    const cfg = loadConfig({}, env);
    return baseUrlFor(cfg.host, cfg.port);
  })());

  const { views, catalog, warning } = await loadCatalog(deps.getAdmin, !opts.model || !opts.key);
  const model = opts.model ?? catalog[0]?.id;
  if (!model) throw new ConfigureError('no enabled chat model in the catalog: add one with `lw models add`, or pass --model');
  const known = catalog.some((m) => m.id === model) || views.some((v) => v.aliases.includes(model));
  const models = withSelectedModel(model, catalog, views);
  const clientOptions = { profile: opts.profile, writeKey: opts.writeKey };
  const input = { baseUrl, model, key: opts.key, models, env, homeDir };

  // Plan once before creating a key, so a file lw refuses to edit costs no new key.
  planClient(client, { ...input, key: input.key ?? 'lw-preflight' }, read, clientOptions);
  const keyOutcome = await resolveKey(client, opts, deps, host);
  const plan: ConfigurePlan = planClient(client, { ...input, key: opts.key ?? keyOutcome.key }, read, clientOptions);
  const result = applyPlan(plan, { dryRun: opts.dryRun, now: deps.now });

  const instructions = [...plan.instructions];
  if (warning) instructions.push(`note: ${warning}`);
  if (!known && views.length > 0) instructions.push(`note: model "${model}" is not in the gateway catalog (lw models list)`);
  const report = buildReport(client, opts.dryRun, baseUrl, model, plan, result, instructions, keyOutcome);
  if (opts.json) deps.output.json(report);
  else deps.output.out(renderReport(report));
  return report;
}

function buildReport(
  client: ClientTarget,
  dryRun: boolean,
  baseUrl: string,
  model: string,
  plan: ConfigurePlan,
  result: ApplyResult,
  instructions: string[],
  key: KeyOutcome,
): ConfigureReport {
  const files = plan.files.map((f) => {
    const changed = result.changed.includes(f.path);
    const entry: ConfigureReport['files'][number] = {
      path: f.path,
      changed,
      created: changed && f.before === null,
      backup: result.backupOf[f.path] ?? null,
    };
    if (dryRun && changed) entry.diff = diffText(f.before, f.after, f.path);
    return entry;
  });
  return { client, dry_run: dryRun, base_url: baseUrl, model, files, instructions, key };
}

/** Plain-text rendering of a report: diffs (dry run) or what was written, then the next steps. */
export function renderReport(r: ConfigureReport): string {
  const lines: string[] = [];
  for (const f of r.files) {
    if (r.dry_run && f.diff) lines.push(f.diff.trimEnd());
    else if (!f.changed) lines.push(`unchanged ${f.path}`);
    else if (r.dry_run) lines.push(`would write ${f.path}`);
    else lines.push(f.created ? `created ${f.path}` : `updated ${f.path} (backup: ${f.backup})`);
  }
  if (r.dry_run) lines.push('dry run: nothing written');
  lines.push(...keyLines(r.key));
  if (r.instructions.length > 0) lines.push('', 'Next:', ...r.instructions.map((i) => `  ${i}`));
  return lines.join('\n');
}

/**
 * What the command factories need of the program; `CliContext` (`../context.ts`) fits as is.
 * The admin backend is opened only when a command needs it, and closed afterwards.
 */
export interface CommandHost {
  readonly env: NodeJS.ProcessEnv;
  output(cmd: Command): { line(text?: string): void; json(value: unknown): void };
  open(cmd: Command): Promise<{ service: AdminService; close(): Promise<void> }>;
}

interface HostGlobals {
  json?: boolean;
  url?: string;
}

/**
 * The `lw configure` command. `--json` is the program's global flag; a remote `--url` / `LW_URL`
 * is the default base URL (a local daemon's is `http://<host>:<port>/v1` from the config).
 * @example program.addCommand(configureCommand(ctx));
 */
export function configureCommand(host: CommandHost): Command {
  return new Command('configure')
    .description("point a client's own config at this gateway (merges, keeps comments, backs up, idempotent)")
    .addArgument(new Argument('<client>', 'client to configure').choices(CLIENT_TARGETS))
    .option('--key <key>', 'gateway key (lw-…) to use; default: create one named --key-name')
    .option('--key-name <name>', 'name of the key to reuse or create (default: <client>-<hostname>)')
    .option('--tier <tier>', 'tier of a newly created key')
    .option('--model <model>', 'default model (default: the first enabled chat model)')
    .option('--base-url <url>', 'gateway URL the client calls (default: --url, else http://<host>:<port>/v1)')
    .option('--profile <name>', 'codex: write $CODEX_HOME/<name>.config.toml, used with `codex -p <name>`')
    .option('--write-key', 'aider, claude: store the key in the client config (mode 0600) instead of an env var')
    .option('--dry-run', 'show the diff and write nothing (no key is created)')
    .addHelpText(
      'after',
      `
Examples:
  lw configure codex                     # ~/.codex/config.toml → lw provider, key in $LW_API_KEY
  lw configure codex --profile lw        # ~/.codex/lw.config.toml, run \`codex -p lw\`
  lw configure aider --model gpt-4o-mini # ~/.aider.conf.yml + ~/.aider.model.metadata.json
  lw configure zed --dry-run             # show the settings.json diff only
  lw configure claude --model gpt-4o     # ~/.claude/settings.json env block, key in $ANTHROPIC_AUTH_TOKEN
  lw configure codex --key lw-… --json   # {client, files, instructions, key}`,
    )
    .action(async (client: ClientTarget, opts: ConfigureOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<HostGlobals>();
      const out = host.output(cmd);
      let backend: Promise<{ service: AdminService; close(): Promise<void> }> | undefined;
      try {
        await handleConfigure(
          client,
          { ...opts, json: globals.json === true, baseUrl: opts.baseUrl ?? globals.url ?? host.env['LW_URL'] },
          {
            env: host.env,
            output: { out: (text) => out.line(text), json: (value) => out.json(value) },
            getAdmin: async () => (await (backend ??= host.open(cmd))).service,
          },
        );
      } finally {
        if (backend) await (await backend).close();
      }
    });
}
