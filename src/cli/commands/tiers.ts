/** @module `lw tiers list|create|set|delete`: rate limits, token quotas and model allowlists per tier. */
import { Command } from 'commander';
import { z } from 'zod';
import type { AdminService, TierInput, TierView } from '../../admin/types.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { formatInt, formatList, type Column } from '../format.js';
import { examples } from '../help.js';
import { csv, definedOnly, limit } from '../options.js';

const tierOptions = z.object({
  rpm: limit.optional(),
  tpm: limit.optional(),
  monthlyTokens: limit.optional(),
  period: z.enum(['month', 'week', 'day']).optional(),
  maxConcurrent: limit.optional(),
  models: z.union([z.enum(['*', 'all']).transform((): string[] => []), csv]).optional(),
  default: z.literal(true).optional(),
});

/** Tier flags → the fields given (unset flags stay unset). */
export function parseTierOptions(opts: Record<string, unknown>): TierInput {
  const o = tierOptions.parse(opts);
  return definedOnly({
    rpm: o.rpm,
    tpm: o.tpm,
    quota_tokens: o.monthlyTokens,
    quota_period: o.period,
    max_concurrent: o.maxConcurrent,
    models: o.models,
    is_default: o.default,
  });
}

export const handleTiersList = (s: AdminService): Promise<TierView[]> => s.tiers.list();
export const handleTiersCreate = (s: AdminService, name: string, input: TierInput): Promise<TierView> =>
  s.tiers.create(name, input);
export const handleTiersSet = (s: AdminService, name: string, input: TierInput): Promise<TierView> =>
  s.tiers.set(name, input);
export const handleTiersDelete = (s: AdminService, name: string): Promise<{ deleted: string }> => s.tiers.delete(name);

const unlimited = (n: number | null): string => formatInt(n, 'unlimited');

export const tierColumns: Column<TierView>[] = [
  { header: 'NAME', value: (t) => t.name + (t.is_default ? ' (default)' : ''), tone: (t) => (t.is_default ? 'accent' : undefined) },
  { header: 'RPM', value: (t) => unlimited(t.rpm), align: 'right' },
  { header: 'TPM', value: (t) => unlimited(t.tpm), align: 'right' },
  { header: 'QUOTA', value: (t) => (t.quota_tokens === null ? 'unlimited' : `${formatInt(t.quota_tokens)}/${t.quota_period}`), align: 'right' },
  { header: 'CONCURRENT', value: (t) => unlimited(t.max_concurrent), align: 'right' },
  { header: 'MODELS', value: (t) => formatList(t.models, 'all') },
];

function addLimitOptions(cmd: Command): Command {
  return cmd
    .option('--tpm <n>', "tokens per minute, or 'unlimited'")
    .option('--monthly-tokens <n>', "token quota per period, or 'unlimited'")
    .option('--period <period>', 'quota period: month, week or day (default month)')
    .option('--max-concurrent <n>', "concurrent requests per key, or 'unlimited'")
    .option('--models <globs>', "comma-separated model globs like gpt-*,claude-*, or '*' for all")
    .option('--default', 'make this the tier new keys get');
}

export function tiersCommand(ctx: CliContext): Command {
  const tiers = new Command('tiers')
    .description('rate limits, token quotas and model allowlists that keys inherit')
    .addHelpText('after', examples('lw tiers list', 'lw tiers create team --rpm 120 --tpm 200000'));

  tiers
    .command('list')
    .description('list tiers')
    .addHelpText('after', examples('lw tiers list', 'lw tiers list --json'))
    .action(async (_opts: Record<string, unknown>, cmd: Command) => {
      const list = await ctx.withService(cmd, handleTiersList);
      const out = ctx.output(cmd);
      if (out.isJson) out.json(list);
      else out.table(tierColumns, list, 'no tiers');
    });

  addLimitOptions(
    tiers
      .command('create')
      .argument('<name>', 'tier name')
      .description('create a tier')
      .requiredOption('--rpm <n>', "requests per minute, or 'unlimited'"),
  )
    .addHelpText(
      'after',
      examples(
        'lw tiers create team --rpm 120 --tpm 200000 --monthly-tokens 50000000',
        'lw tiers create cheap --rpm 30 --models "gpt-*-mini,claude-haiku-*" --default',
      ),
    )
    .action(async (name: string, opts: Record<string, unknown>, cmd: Command) => {
      const input = parseTierOptions(opts);
      const tier = await ctx.withService(cmd, (s) => handleTiersCreate(s, name, input));
      const out = ctx.output(cmd);
      if (out.isJson) return out.json(tier);
      out.success(`created tier ${tier.name}`);
      out.table(tierColumns, [tier]);
    });

  addLimitOptions(
    tiers
      .command('set')
      .argument('<name>', 'tier name')
      .description('change a tier (keys on it follow within a second)')
      .option('--rpm <n>', "requests per minute, or 'unlimited'"),
  )
    .addHelpText('after', examples('lw tiers set beta --rpm 100', 'lw tiers set pro --monthly-tokens unlimited', 'lw tiers set pro --default'))
    .action(async (name: string, opts: Record<string, unknown>, cmd: Command) => {
      const input = parseTierOptions(opts);
      if (Object.keys(input).length === 0) {
        throw new CliError('nothing to change', 2, 'pass at least one of --rpm, --tpm, --monthly-tokens, --models, ...');
      }
      const tier = await ctx.withService(cmd, (s) => handleTiersSet(s, name, input));
      const out = ctx.output(cmd);
      if (out.isJson) return out.json(tier);
      out.success(`updated tier ${tier.name}`);
      out.table(tierColumns, [tier]);
    });

  tiers
    .command('delete')
    .argument('<name>', 'tier name')
    .description('delete a tier that no key uses')
    .addHelpText('after', examples('lw tiers delete team'))
    .action(async (name: string, _opts: Record<string, unknown>, cmd: Command) => {
      const result = await ctx.withService(cmd, (s) => handleTiersDelete(s, name));
      const out = ctx.output(cmd);
      if (out.isJson) out.json(result);
      else out.success(`deleted tier ${result.deleted}`);
    });

  return tiers;
}
