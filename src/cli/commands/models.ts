/**
 * @module `lw models list|add|alias|remove|enable|disable|sync`: public model ids, their aliases and
 * the provider deployments behind them.
 */
import { Command } from 'commander';
import { z } from 'zod';
import type { AdminService, ModelAdded, ModelAddInput, ModelSyncResult, ModelView } from '../../admin/types.js';
import type { CliContext } from '../context.js';
import { formatInt, formatList, formatUsd, type Column } from '../format.js';
import { examples } from '../help.js';
import { csv, usd, wholeNumber } from '../options.js';
import type { Output } from '../output.js';

const addOptions = z.object({
  provider: z.string().trim().min(1, 'a provider name is required'),
  upstreamModel: z.string().trim().min(1).optional(),
  alias: csv.optional(),
  context: wholeNumber.optional(),
  maxOutput: wholeNumber.optional(),
  priceIn: usd.optional(),
  priceOut: usd.optional(),
  priceCachedIn: usd.optional(),
  embedding: z.literal(true).optional(),
});

export function parseModelAdd(id: string, opts: Record<string, unknown>): ModelAddInput {
  const o = addOptions.parse(opts);
  return {
    id,
    provider: o.provider,
    ...(o.upstreamModel ? { upstream_model: o.upstreamModel } : {}),
    ...(o.alias ? { aliases: o.alias } : {}),
    ...(o.context !== undefined ? { context_window: o.context } : {}),
    ...(o.maxOutput !== undefined ? { max_output: o.maxOutput } : {}),
    ...(o.priceIn !== undefined ? { price_in: o.priceIn } : {}),
    ...(o.priceOut !== undefined ? { price_out: o.priceOut } : {}),
    ...(o.priceCachedIn !== undefined ? { price_cached_in: o.priceCachedIn } : {}),
    ...(o.embedding ? { kind: 'embedding' as const } : {}),
  };
}

export const handleModelsList = (s: AdminService): Promise<ModelView[]> => s.models.list();
export const handleModelsAdd = (s: AdminService, input: ModelAddInput): Promise<ModelAdded> => s.models.add(input);
export const handleModelsAlias = (s: AdminService, id: string, alias: string): Promise<ModelView> =>
  s.models.alias(id, alias);
export const handleModelsRemove = (s: AdminService, id: string): Promise<{ removed: string }> => s.models.remove(id);
export const handleModelsEnable = (s: AdminService, id: string): Promise<ModelView> => s.models.enable(id);
export const handleModelsDisable = (s: AdminService, id: string): Promise<ModelView> => s.models.disable(id);

export const handleModelsSync = (s: AdminService, provider: string): Promise<ModelSyncResult> => s.models.sync(provider);

const price = (m: ModelView): string =>
  m.price_in === null && m.price_out === null ? 'no price' : `${formatUsd(m.price_in)} / ${formatUsd(m.price_out)}`;

export const modelColumns: Column<ModelView>[] = [
  { header: 'ID', value: (m) => m.id, tone: (m) => (m.enabled ? undefined : 'muted') },
  { header: 'KIND', value: (m) => m.kind },
  { header: 'DEPLOYMENTS', value: (m) => formatList(m.deployments.map((d) => `${d.provider}/${d.upstream_model}`), 'none') },
  { header: 'ALIASES', value: (m) => formatList(m.aliases) },
  { header: 'CONTEXT', value: (m) => formatInt(m.context_window), align: 'right' },
  { header: 'PRICE IN/OUT (1M)', value: price, tone: (m) => (m.price_in === null ? 'warn' : undefined) },
  { header: 'STATUS', value: (m) => (m.enabled ? m.status : 'disabled'), tone: (m) => (m.enabled ? 'ok' : 'muted') },
];

function renderModel(out: Output, model: ModelView, message: string): void {
  if (out.isJson) return out.json(model);
  out.success(message);
  out.table(modelColumns, [model]);
}

function renderSync(out: Output, r: ModelSyncResult): void {
  if (out.isJson) return out.json(r);
  out.success(`synced ${r.provider}: ${r.added.length} added, ${r.updated.length} updated, ${r.skipped.length} skipped`);
  for (const [label, ids] of [['added', r.added], ['updated', r.updated], ['skipped', r.skipped]] as const) {
    if (ids.length) out.line(`${label}: ${ids.join(', ')}`);
  }
}

type Opts = Record<string, unknown>;

export function modelsCommand(ctx: CliContext): Command {
  const models = new Command('models')
    .description('public model ids, aliases and the provider deployments behind them')
    .addHelpText('after', examples('lw models add gpt-4o-mini --provider openai --price-in 0.15 --price-out 0.60', 'lw models list'));

  models
    .command('list')
    .description('list models')
    .addHelpText('after', examples('lw models list', 'lw models list --json | jq -r ".[].id"'))
    .action(async (_opts: Opts, cmd: Command) => {
      const list = await ctx.withService(cmd, handleModelsList);
      const out = ctx.output(cmd);
      if (out.isJson) out.json(list);
      else out.table(modelColumns, list, 'no models yet: add one with `lw models add ID --provider P`');
    });

  models
    .command('add')
    .argument('<id>', 'public model id clients ask for')
    .description('add a model (or another deployment of an existing one)')
    .requiredOption('--provider <name>', 'provider that serves it')
    .option('--upstream-model <name>', "the provider's model name (default: the id)")
    .option('--alias <list>', 'comma-separated aliases')
    .option('--context <n>', 'context window in tokens')
    .option('--max-output <n>', 'max output tokens')
    .option('--price-in <usd>', 'USD per million input tokens')
    .option('--price-out <usd>', 'USD per million output tokens')
    .option('--price-cached-in <usd>', 'USD per million cached input tokens')
    .option('--embedding', 'an embedding model (default: chat)')
    .addHelpText(
      'after',
      examples(
        'lw models add gpt-4o-mini --provider openai --price-in 0.15 --price-out 0.60 --context 128000',
        'lw models add claude-sonnet-4.6 --provider anthropic --upstream-model claude-sonnet-4-6 --alias sonnet',
        'lw models add text-embedding-3-small --provider openai --embedding --price-in 0.02 --price-out 0',
      ),
    )
    .action(async (id: string, opts: Opts, cmd: Command) => {
      const input = parseModelAdd(id, opts);
      const model = await ctx.withService(cmd, (s) => handleModelsAdd(s, input));
      const out = ctx.output(cmd);
      const dep = model.deployments.at(-1);
      const message =
        model.added === 'deployment' && dep
          ? `added deployment ${dep.provider}/${dep.upstream_model} to ${model.id}`
          : `added model ${model.id}`;
      renderModel(out, model, message);
      if (!out.isJson && model.price_in === null) out.warn(`${model.id} has no price: its usage will not be billed`);
    });

  models
    .command('alias')
    .argument('<id>', 'model id')
    .argument('<alias>', 'another name clients may use')
    .description('add an alias to a model')
    .addHelpText('after', examples('lw models alias gpt-5.4 codex'))
    .action(async (id: string, alias: string, _opts: Opts, cmd: Command) => {
      const model = await ctx.withService(cmd, (s) => handleModelsAlias(s, id, alias));
      renderModel(ctx.output(cmd), model, `${alias} now points to ${model.id}`);
    });

  models
    .command('remove')
    .argument('<id>', 'model id')
    .description('remove a model with its aliases and deployments')
    .addHelpText('after', examples('lw models remove gpt-4o-mini'))
    .action(async (id: string, _opts: Opts, cmd: Command) => {
      const result = await ctx.withService(cmd, (s) => handleModelsRemove(s, id));
      const out = ctx.output(cmd);
      if (out.isJson) out.json(result);
      else out.success(`removed model ${result.removed}`);
    });

  for (const [name, verb, handler] of [
    ['enable', 'enabled', handleModelsEnable],
    ['disable', 'disabled', handleModelsDisable],
  ] as const) {
    models
      .command(name)
      .argument('<id>', 'model id')
      .description(`${name} a model (clients ${name === 'enable' ? 'can' : 'cannot'} use it)`)
      .addHelpText('after', examples(`lw models ${name} gpt-4o-mini`))
      .action(async (id: string, _opts: Opts, cmd: Command) => {
        const model = await ctx.withService(cmd, (s) => handler(s, id));
        renderModel(ctx.output(cmd), model, `${verb} model ${model.id}`);
      });
  }

  models
    .command('sync')
    .argument('<provider>', 'provider name')
    .description("add the models a provider lists in its GET /v1/models")
    .addHelpText('after', examples('lw models sync ollama', 'lw models sync openrouter --json'))
    .action(async (provider: string, _opts: Opts, cmd: Command) => {
      const result = await ctx.withService(cmd, (s) => handleModelsSync(s, provider));
      renderSync(ctx.output(cmd), result);
    });

  return models;
}
