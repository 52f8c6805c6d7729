/**
 * @module `lw keys create|list|show|revoke|rotate|set` (KEY = id, name or prefix). Each `handleX` returns
 * data from the admin service; rendering (JSON, ink, plain) is separate.
 */
import { Command } from 'commander';
import { z } from 'zod';
import type { AdminService, CreatedKey, KeyCreateInput, KeySetInput, KeyView } from '../../admin/types.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { formatInt, formatList, formatTime, formatUsd, type Column } from '../format.js';
import { examples } from '../help.js';
import { csv, csvOrNone, definedOnly, limit, usd, usdOrNone } from '../options.js';
import type { Output } from '../output.js';

const createOptions = z.object({
  name: z.string().trim().min(1, 'a key name is required'),
  tier: z.string().trim().min(1).optional(),
  models: csv.optional(),
  expires: z.string().trim().min(1).optional(),
  credits: usd.optional(),
});

const setOptions = z.object({
  tier: z.string().trim().min(1).optional(),
  models: csvOrNone.optional(),
  credits: usdOrNone.optional(),
  rpm: limit.optional(),
  tpm: limit.optional(),
  monthlyTokens: limit.optional(),
  maxConcurrent: limit.optional(),
  expires: z.string().trim().min(1).optional(),
});

export function parseKeyCreate(opts: Record<string, unknown>): KeyCreateInput {
  return createOptions.parse(opts);
}

/** `lw keys set` flags → the fields to change; at least one is required. */
export function parseKeySet(opts: Record<string, unknown>): KeySetInput {
  const o = setOptions.parse(opts);
  const input: KeySetInput = definedOnly({
    tier: o.tier,
    models: o.models,
    credits: o.credits,
    rpm: o.rpm,
    tpm: o.tpm,
    quota_tokens: o.monthlyTokens,
    max_concurrent: o.maxConcurrent,
    expires: o.expires,
  });
  if (Object.keys(input).length === 0) {
    throw new CliError('nothing to change', 2, 'pass at least one of --tier, --models, --credits, --rpm, --tpm, ...');
  }
  return input;
}

export const handleKeysCreate = (s: AdminService, input: KeyCreateInput): Promise<CreatedKey> => s.keys.create(input);
export const handleKeysList = (s: AdminService): Promise<KeyView[]> => s.keys.list();
export const handleKeysShow = (s: AdminService, ref: string): Promise<KeyView> => s.keys.show(ref);
export const handleKeysRevoke = (s: AdminService, ref: string): Promise<KeyView> => s.keys.revoke(ref);
export const handleKeysRotate = (s: AdminService, ref: string): Promise<CreatedKey> => s.keys.rotate(ref);
export const handleKeysSet = (s: AdminService, ref: string, input: KeySetInput): Promise<KeyView> =>
  s.keys.set(ref, input);

const STATUS_TONE = { active: 'ok', revoked: 'error', expired: 'warn' } as const;

export const keyColumns: Column<KeyView>[] = [
  { header: 'NAME', value: (k) => k.name },
  { header: 'PREFIX', value: (k) => `${k.prefix}…` },
  { header: 'TIER', value: (k) => k.tier },
  { header: 'STATUS', value: (k) => k.status, tone: (k) => STATUS_TONE[k.status] },
  { header: 'CREATED', value: (k) => formatTime(k.created_at) },
  { header: 'LAST USED', value: (k) => formatTime(k.last_used_at) },
];

const inherited = (n: number | null): string => (n === null ? 'from tier' : formatInt(n));

export function keyFields(k: KeyView): Array<[string, string]> {
  return [
    ['id', k.id],
    ['name', k.name],
    ['prefix', `${k.prefix}…`],
    ['tier', k.tier],
    ['status', k.status],
    ['models', formatList(k.models, 'from tier')],
    ['credits', formatUsd(k.credits, 'no limit')],
    ['rpm', inherited(k.rpm)],
    ['tpm', inherited(k.tpm)],
    ['monthly tokens', inherited(k.quota_tokens)],
    ['max concurrent', inherited(k.max_concurrent)],
    ['expires', formatTime(k.expires_at)],
    ['created', formatTime(k.created_at)],
    ['last used', formatTime(k.last_used_at)],
  ];
}

/** The one place a plaintext key is printed: KeyReveal on a TTY, `key: lw-…` in plain text. */
export function renderCreatedKey(out: Output, created: CreatedKey, action: 'created' | 'rotated'): void {
  if (out.isJson) return out.json(created);
  if (out.mode === 'ink') return out.renderInk((k) => k.createElement(k.KeyReveal, { created, action }));
  out.line(`${action} key ${created.name} (tier ${created.tier}, id ${created.id})`);
  out.line(`key: ${created.key}`);
  out.line('store it now, it will not be shown again');
}

function renderKey(out: Output, key: KeyView, message?: string): void {
  if (out.isJson) return out.json(key);
  if (message) out.success(message);
  out.fields(keyFields(key));
}

type Opts = Record<string, unknown>;

export function keysCommand(ctx: CliContext): Command {
  const keys = new Command('keys')
    .description('create, list and manage API keys (KEY = id, name or prefix)')
    .addHelpText('after', examples('lw keys create --name alice --tier pro', 'lw keys list --json'));

  keys
    .command('create')
    .description('create a key; the key itself is printed once')
    .requiredOption('--name <name>', 'who or what the key is for')
    .option('--tier <tier>', 'tier (default: the default tier)')
    .option('--models <list>', 'comma-separated model allowlist (default: the tier’s)')
    .option('--expires <when>', 'expiry: a span like 30d, 12h, or an ISO date')
    .option('--credits <usd>', 'prepaid balance in USD, e.g. 25 or 12.50')
    .addHelpText(
      'after',
      examples(
        'lw keys create --name alice',
        'lw keys create --name ci --tier pro --models gpt-4o-mini,claude-sonnet-4.6 --expires 30d',
        'lw keys create --name trial --credits 5 --json | jq -r .key',
      ),
    )
    .action(async (opts: Opts, cmd: Command) => {
      const input = parseKeyCreate(opts);
      const created = await ctx.withService(cmd, (s) => handleKeysCreate(s, input));
      renderCreatedKey(ctx.output(cmd), created, 'created');
    });

  keys
    .command('list')
    .description('list keys (never the keys themselves, only their prefixes)')
    .addHelpText('after', examples('lw keys list', 'lw keys list --json | jq -r ".[].name"'))
    .action(async (_opts: Opts, cmd: Command) => {
      const list = await ctx.withService(cmd, handleKeysList);
      const out = ctx.output(cmd);
      if (out.isJson) out.json(list);
      else out.table(keyColumns, list, 'no keys yet: create one with `lw keys create --name NAME`');
    });

  keys
    .command('show')
    .argument('<key>', 'id, name or prefix')
    .description('show one key with its limits')
    .addHelpText('after', examples('lw keys show alice', 'lw keys show lw-ab12cd34 --json'))
    .action(async (ref: string, _opts: Opts, cmd: Command) => {
      renderKey(ctx.output(cmd), await ctx.withService(cmd, (s) => handleKeysShow(s, ref)));
    });

  keys
    .command('revoke')
    .argument('<key>', 'id, name or prefix')
    .description('revoke a key (refused by the daemon within a second)')
    .addHelpText('after', examples('lw keys revoke alice'))
    .action(async (ref: string, _opts: Opts, cmd: Command) => {
      const key = await ctx.withService(cmd, (s) => handleKeysRevoke(s, ref));
      const out = ctx.output(cmd);
      if (out.isJson) out.json(key);
      else out.success(`revoked key ${key.name} (${key.prefix}…)`);
    });

  keys
    .command('rotate')
    .argument('<key>', 'id, name or prefix')
    .description('replace a key with a new secret (same name, tier and limits); prints it once')
    .addHelpText('after', examples('lw keys rotate alice', 'lw keys rotate alice --json | jq -r .key'))
    .action(async (ref: string, _opts: Opts, cmd: Command) => {
      const created = await ctx.withService(cmd, (s) => handleKeysRotate(s, ref));
      renderCreatedKey(ctx.output(cmd), created, 'rotated');
    });

  keys
    .command('set')
    .argument('<key>', 'id, name or prefix')
    .description("change a key's tier or override its limits ('none' goes back to the tier's value)")
    .option('--tier <tier>', 'move the key to another tier')
    .option('--models <list>', "comma-separated model allowlist, or 'none' for the tier's")
    .option('--credits <usd>', "set the prepaid balance in USD, or 'none' for no credit limit")
    .option('--rpm <n>', "requests per minute, or 'none'")
    .option('--tpm <n>', "tokens per minute, or 'none'")
    .option('--monthly-tokens <n>', "token quota per period, or 'none'")
    .option('--max-concurrent <n>', "concurrent requests, or 'none'")
    .option('--expires <when>', "a span like 30d, an ISO date, or 'never'")
    .addHelpText(
      'after',
      examples('lw keys set alice --tier enterprise', 'lw keys set ci --rpm 10 --monthly-tokens 1000000', 'lw keys set ci --rpm none'),
    )
    .action(async (ref: string, opts: Opts, cmd: Command) => {
      const input = parseKeySet(opts);
      const key = await ctx.withService(cmd, (s) => handleKeysSet(s, ref, input));
      renderKey(ctx.output(cmd), key, `updated key ${key.name}`);
    });

  return keys;
}
