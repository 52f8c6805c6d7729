/** @module The columns of a usage table, shared by the plain renderer and the ink view. */
import type { UsageReport, UsageRow } from '../admin/types.js';
import { formatInt, formatUsd, type Column } from './format.js';

const GROUP_HEADER = { day: 'DAY', model: 'MODEL', key: 'KEY' } as const;

/** Columns of a usage table; shared with the plain renderer so both show the same thing. */
export function usageColumns(by: UsageReport['by']): Column<UsageRow>[] {
  return [
    { header: GROUP_HEADER[by], value: (r) => r.group },
    { header: 'REQUESTS', value: (r) => formatInt(r.requests), align: 'right' },
    { header: 'PROMPT', value: (r) => formatInt(r.prompt_tokens), align: 'right' },
    { header: 'COMPLETION', value: (r) => formatInt(r.completion_tokens), align: 'right' },
    { header: 'CACHED', value: (r) => formatInt(r.cached_tokens), align: 'right' },
    { header: 'COST', value: (r) => formatUsd(r.cost), align: 'right' },
  ];
}
