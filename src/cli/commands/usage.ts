/**
 * @module `lw usage [--key KEY] [--model M] [--since 7d] [--by day|model|key] [--watch]`: totals, grouped
 * rows and (on a TTY) a per-day chart; `--watch` re-queries every interval until Ctrl-C or `--count`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { z } from 'zod';
import type { AdminService, UsageQuery, UsageReport, UsageRow } from '../../admin/types.js';
import type { AdminBackend } from '../backend.js';
import type { CliContext } from '../context.js';
import { formatInt, formatUsd, plainTable } from '../format.js';
import { examples } from '../help.js';
import { interval, since, wholeNumber } from '../options.js';
import type { InkView, Output } from '../output.js';
import { usageColumns } from '../usage-columns.js';

const usageOptions = z.object({
  key: z.string().trim().min(1).optional(),
  model: z.string().trim().min(1).optional(),
  since: since.optional(),
  by: z.enum(['day', 'model', 'key']).optional(),
  watch: z.boolean().optional(),
  interval: interval.optional(),
  count: wholeNumber.refine((n) => n > 0, 'must be at least 1').optional(),
});

export interface UsageOptions {
  query: UsageQuery;
  watch: boolean;
  intervalMs: number;
  /** Stop after this many refreshes (watch mode); undefined = until Ctrl-C. */
  count: number | undefined;
}

export function parseUsageOptions(opts: Record<string, unknown>): UsageOptions {
  const o = usageOptions.parse(opts);
  const query: UsageQuery = {};
  if (o.key) query.key = o.key;
  if (o.model) query.model = o.model;
  if (o.since) query.since = o.since;
  if (o.by) query.by = o.by;
  return { query, watch: o.watch === true, intervalMs: o.interval ?? 2_000, count: o.count };
}

/** The report as asked; on a TTY also the per-day rows for the chart when grouped otherwise. */
export async function handleUsage(
  s: AdminService,
  query: UsageQuery,
  withDaily = false,
): Promise<{ report: UsageReport; daily: UsageRow[] | undefined }> {
  const report = await s.usage.report(query);
  if (!withDaily) return { report, daily: undefined };
  if (report.by === 'day') return { report, daily: report.rows };
  const days = await s.usage.report({ ...query, by: 'day' });
  return { report, daily: days.rows };
}

/** One summary line per refresh in plain watch mode. */
export function usageLine(report: UsageReport, at: Date): string {
  const t = report.totals;
  return (
    `${at.toISOString()} requests=${t.requests} prompt_tokens=${t.prompt_tokens} ` +
    `completion_tokens=${t.completion_tokens} cached_tokens=${t.cached_tokens} cost=${t.cost}`
  );
}

function renderPlain(out: Output, report: UsageReport): void {
  const t = report.totals;
  out.line(`usage since ${report.since} by ${report.by}`);
  out.line(
    `requests ${formatInt(t.requests)}  prompt ${formatInt(t.prompt_tokens)}  completion ${formatInt(t.completion_tokens)}  ` +
      `cached ${formatInt(t.cached_tokens)}  cost ${formatUsd(t.cost)}`,
  );
  out.line();
  out.line(report.rows.length === 0 ? 'no usage in this period' : plainTable(usageColumns(report.by), report.rows));
}

/** Keeps a backend open across refreshes, except the embedded store: its lock is released in between. */
async function watch(ctx: CliContext, cmd: Command, out: Output, opts: UsageOptions): Promise<void> {
  const own = ctx.signal ? undefined : new AbortController();
  const signal = ctx.signal ?? own!.signal;
  const onSigint = (): void => own?.abort();
  if (own) process.once('SIGINT', onSigint);
  let backend: AdminBackend | undefined;
  let view: ReturnType<Output['live']> | undefined;
  try {
    for (let n = 0; opts.count === undefined || n < opts.count; n++) {
      if (n > 0) {
        try {
          await sleep(opts.intervalMs, undefined, { signal });
        } catch {
          break; // aborted: Ctrl-C ends the watch normally
        }
      }
      if (signal.aborted) break;
      backend ??= await ctx.open(cmd);
      const data = await handleUsage(backend.service, opts.query, out.mode === 'ink');
      if (backend.embedded) {
        await backend.close();
        backend = undefined;
      }
      const at = new Date();
      if (out.isJson) out.jsonLine({ time: at.toISOString(), ...data.report });
      else if (out.mode === 'plain') out.line(usageLine(data.report, at));
      else {
        const element: InkView = (k) => k.createElement(k.UsageSummary, { ...data, updatedAt: at.toISOString() });
        if (view) view.update(element);
        else view = out.live(element);
      }
    }
  } finally {
    view?.stop();
    if (own) process.removeListener('SIGINT', onSigint);
    await backend?.close();
  }
}

export function usageCommand(ctx: CliContext): Command {
  return new Command('usage')
    .description('tokens, requests and cost, grouped by day, model or key')
    .option('--key <key>', 'only this key (id, name or prefix)')
    .option('--model <model>', 'only this model')
    .option('--since <span>', 'from this long ago (7d, 24h) or from this date (2025-01-31)')
    .option('--by <group>', 'group rows by day, model or key')
    .option('--watch', 'refresh live until Ctrl-C')
    .option('--interval <span>', 'refresh interval with --watch (default 2s)')
    .option('--count <n>', 'with --watch: stop after n refreshes')
    .addHelpText(
      'after',
      examples(
        'lw usage',
        'lw usage --key alice --since 7d --by model',
        'lw usage --by key --json | jq ".totals.cost"',
        'lw usage --watch --interval 5s',
      ),
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const parsed = parseUsageOptions(opts);
      const out = ctx.output(cmd);
      if (parsed.watch) return watch(ctx, cmd, out, parsed);
      const { report, daily } = await ctx.withService(cmd, (s) => handleUsage(s, parsed.query, out.mode === 'ink'));
      if (out.isJson) out.json(report);
      else if (out.mode === 'ink') out.renderInk((k) => k.createElement(k.UsageSummary, { report, daily }));
      else renderPlain(out, report);
    });
}
