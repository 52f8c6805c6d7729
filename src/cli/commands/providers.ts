/** @module `lw providers add|list|remove|test`: upstream servers (any OpenAI-compatible one, or Anthropic). */
import { Command } from 'commander';
import { z } from 'zod';
import type {
  AdminService,
  ProviderAddInput,
  ProviderRemoved,
  ProviderTestResult,
  ProviderView,
} from '../../admin/types.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { formatInt, formatList, type Column } from '../format.js';
import { examples } from '../help.js';
import { collect, headerPairs } from '../options.js';

const addOptions = z.object({
  kind: z.enum(['openai', 'anthropic']).optional(),
  baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL like https://api.openai.com/v1' }).optional(),
  apiKeyEnv: z
    .string()
    .trim()
    .regex(/^\$?[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable NAME like OPENAI_API_KEY (not the key)')
    .transform((s) => s.replace(/^\$/, ''))
    .optional(),
  header: headerPairs.optional(),
  responses: z.literal(true).optional(),
});

export function parseProviderAdd(name: string, opts: Record<string, unknown>): ProviderAddInput {
  const o = addOptions.parse(opts);
  return {
    name,
    ...(o.kind ? { kind: o.kind } : {}),
    ...(o.baseUrl ? { base_url: o.baseUrl } : {}),
    ...(o.apiKeyEnv ? { api_key_env: o.apiKeyEnv } : {}),
    ...(o.header ? { headers: o.header } : {}),
    ...(o.responses ? { supports_responses: true } : {}),
  };
}

export const handleProvidersAdd = (s: AdminService, input: ProviderAddInput): Promise<ProviderView> =>
  s.providers.add(input);
export const handleProvidersList = (s: AdminService): Promise<ProviderView[]> => s.providers.list();
export const handleProvidersRemove = (s: AdminService, name: string): Promise<ProviderRemoved> =>
  s.providers.remove(name);
export const handleProvidersTest = (s: AdminService, name: string): Promise<ProviderTestResult> => s.providers.test(name);

function apiKeyCell(p: ProviderView): string {
  if (!p.api_key_env) return 'none';
  return `${p.api_key_env} ${p.api_key_present ? '✓' : '(not set)'}`;
}

export const providerColumns: Column<ProviderView>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'KIND', value: (p) => p.kind },
  { header: 'BASE URL', value: (p) => p.base_url },
  { header: 'API KEY', value: apiKeyCell, tone: (p) => (p.api_key_env && !p.api_key_present ? 'warn' : undefined) },
  { header: 'RESPONSES', value: (p) => (p.supports_responses ? 'yes' : 'no') },
  { header: 'ENABLED', value: (p) => (p.enabled ? 'yes' : 'no'), tone: (p) => (p.enabled ? 'ok' : 'muted') },
];

export function providersCommand(ctx: CliContext): Command {
  const providers = new Command('providers')
    .description('upstream servers the gateway forwards to')
    .addHelpText('after', examples('lw providers add openai --api-key-env OPENAI_API_KEY', 'lw providers list'));

  providers
    .command('add')
    .argument('<name>', 'provider name (known names like openai, anthropic, groq fill in the rest)')
    .description('register an upstream provider; its key stays in an environment variable')
    .option('--kind <kind>', 'wire format: openai (any OpenAI-compatible server) or anthropic')
    .option('--base-url <url>', 'API base URL, e.g. http://127.0.0.1:8000/v1')
    .option('--api-key-env <VAR>', 'NAME of the environment variable holding the upstream key')
    .option('--header <K=V>', 'extra header sent upstream (repeatable)', collect)
    .option('--responses', 'the upstream serves /v1/responses natively (passthrough)')
    .addHelpText(
      'after',
      examples(
        'lw providers add openai --api-key-env OPENAI_API_KEY --responses',
        'lw providers add anthropic --kind anthropic --api-key-env ANTHROPIC_API_KEY',
        'lw providers add vllm --kind openai --base-url http://10.0.0.5:8000/v1',
        'lw providers add openrouter --base-url https://openrouter.ai/api/v1 --api-key-env OPENROUTER_API_KEY --header X-Title=lw',
      ),
    )
    .action(async (name: string, opts: Record<string, unknown>, cmd: Command) => {
      const input = parseProviderAdd(name, opts);
      const provider = await ctx.withService(cmd, (s) => handleProvidersAdd(s, input));
      const out = ctx.output(cmd);
      if (out.isJson) return out.json(provider);
      out.success(`added provider ${provider.name} (${provider.kind}, ${provider.base_url})`);
      if (provider.api_key_env && !provider.api_key_present) {
        out.warn(`${provider.api_key_env} is not set here; export it where lw serve runs`);
      }
    });

  providers
    .command('list')
    .description('list providers and whether their key variable is set')
    .addHelpText('after', examples('lw providers list', 'lw providers list --json'))
    .action(async (_opts: Record<string, unknown>, cmd: Command) => {
      const list = await ctx.withService(cmd, handleProvidersList);
      const out = ctx.output(cmd);
      if (out.isJson) out.json(list);
      else out.table(providerColumns, list, 'no providers yet: add one with `lw providers add NAME`');
    });

  providers
    .command('remove')
    .argument('<name>', 'provider name')
    .description('remove a provider')
    .addHelpText('after', examples('lw providers remove vllm'))
    .action(async (name: string, _opts: Record<string, unknown>, cmd: Command) => {
      const result = await ctx.withService(cmd, (s) => handleProvidersRemove(s, name));
      const out = ctx.output(cmd);
      if (out.isJson) return out.json(result);
      out.success(`removed provider ${result.removed}`);
      if (result.orphaned_models.length > 0) {
        out.warn(`no deployment left for: ${result.orphaned_models.join(', ')} (listed, but not routable)`);
      }
    });

  providers
    .command('test')
    .argument('<name>', 'provider name')
    .description("call the provider's model list to check the URL and key (exit 1 when it fails)")
    .addHelpText('after', examples('lw providers test openai', 'lw providers test vllm --json'))
    .action(async (name: string, _opts: Record<string, unknown>, cmd: Command) => {
      const result = await ctx.withService(cmd, (s) => handleProvidersTest(s, name));
      const out = ctx.output(cmd);
      if (out.isJson) out.json(result);
      else if (result.ok) {
        out.success(`${result.provider}: ok (HTTP ${result.status ?? '-'}, ${formatInt(result.latency_ms)} ms)`);
        out.line(`models: ${formatList(result.models, 'none listed')}`);
      }
      if (!result.ok) throw new CliError(`${result.provider}: ${result.message}`, 1);
    });

  return providers;
}
