/**
 * Usage totals equal the upstream's own counts, on PGlite and Postgres: 30 mixed requests (plain,
 * streamed without and with include_usage, and clients that abort mid-stream) → the admin report,
 * the usage_events rows and `lw usage --key K --json` (CLI subprocess) agree to the token and to the
 * pico-dollar. Aborted streams and an upstream without usage are billed from the tokenizer, marked
 * estimated.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../../src/db/schema.js';
import type { UsageReport } from '../../../src/admin/types.js';
import { estimatePromptTokens, estimateTextTokens } from '../../../src/daemon/usage/estimate.js';
import { lwPaths } from '../../../src/lib/paths.js';
import { formatPicoUsd } from '../../../src/lib/money.js';
import { chatCompletion, chunk, defaultHandler, MOCK_USAGE, MOCK_WORDS, streamChat, type MockHandler } from '../../helpers/mock-upstream.js';
import { backends } from '../../helpers/pg.js';
import { chat, PICO_IN, PICO_OUT, pollUntil, startRig, type Rig } from './setup.js';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const SLOW_WORDS = Array.from({ length: 40 }, (_, i) => ` word${i}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `slow`: first word at once, then one every 100 ms (4 s in all); `nousage`: never reports usage. */
const handler: MockHandler = async (req, res) => {
  const content = (req.body?.['messages'] as Array<{ content: string }> | undefined)?.[0]?.content;
  if (content === 'slow') {
    const model = String(req.body?.['model']);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify(chunk(model, { role: 'assistant', content: 'Hello' }))}\n\n`);
    for (const w of SLOW_WORDS) {
      await sleep(100);
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(chunk(model, { content: w }))}\n\n`);
    }
    return streamChat(req, res, { words: [] });
  }
  if (content === 'nousage') {
    if (req.body?.['stream']) return streamChat(req, res, { usage: false });
    const answer: Partial<ReturnType<typeof chatCompletion>> = chatCompletion(String(req.body?.['model']));
    delete answer.usage;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
    return;
  }
  return defaultHandler(req, res);
};

/** Reads SSE text until `until` shows up or the stream ends. */
async function readUntil(res: Response, until: (text: string) => boolean): Promise<string> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += dec.decode(value, { stream: true });
    if (until(text)) return text;
  }
}

const usageChunks = (sse: string) => sse.split('\n').filter((l) => l.startsWith('data: {') && l.includes('"usage"'));

describe.each(backends())('usage totals on %s', (backend) => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({ backend });
    rig.up.handle(handler);
  });
  afterAll(async () => {
    await rig?.close();
  });

  const eventsOf = (keyId: string) => rig.gw.daemon.store.db.select().from(usageEvents).where(eq(usageEvents.keyId, keyId));

  it('30 mixed requests: report, usage_events and `lw usage --json` equal the upstream counts', async () => {
    const { gw } = rig;
    const created = await gw.admin.keys.create({ name: 'mix-ivy' });
    const key = created.key;
    const plain = async () => {
      const r = await chat(gw.baseURL, key);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { usage: unknown }).usage).toEqual(MOCK_USAGE);
    };
    const streamed = async (includeUsage: boolean) => {
      const r = await chat(gw.baseURL, key, { stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
      expect(r.status).toBe(200);
      const sse = await r.text();
      expect(sse.trimEnd().endsWith('data: [DONE]')).toBe(true);
      expect(sse).toContain(MOCK_WORDS[1]);
      const u = usageChunks(sse);
      if (!includeUsage) expect(u).toHaveLength(0);
      else {
        expect(u).toHaveLength(1);
        expect(JSON.parse(u[0]!.slice(6))).toMatchObject({ choices: [], usage: MOCK_USAGE });
      }
    };
    const aborted = async () => {
      const ctl = new AbortController();
      const r = await chat(gw.baseURL, key, { stream: true, messages: [{ role: 'user', content: 'slow' }] }, { signal: ctl.signal });
      expect(r.status).toBe(200);
      const seen = await readUntil(r, (t) => t.includes('Hello'));
      expect(seen).toContain('Hello');
      ctl.abort();
    };
    const jobs: Array<() => Promise<void>> = [];
    for (let i = 0; i < 9; i++) jobs.push(plain, () => streamed(false), () => streamed(true));
    for (let i = 0; i < 3; i++) jobs.push(aborted);
    expect(jobs).toHaveLength(30);
    await Promise.all(jobs.map((j) => j()));

    const report = await pollUntil(() => gw.admin.usage.report({ key: 'mix-ivy', by: 'key' }), (r) => r.totals.requests >= 30);
    const rows = await eventsOf(created.id);
    expect(rows).toHaveLength(30);
    const done = rows.filter((r) => r.status === 200);
    const cut = rows.filter((r) => r.status !== 200);
    expect(done).toHaveLength(27);
    expect(cut).toHaveLength(3);
    const exactCost = BigInt(MOCK_USAGE.prompt_tokens) * PICO_IN + BigInt(MOCK_USAGE.completion_tokens) * PICO_OUT;
    for (const r of done) {
      expect(r).toMatchObject({ estimated: false, unpriced: false, promptTokens: MOCK_USAGE.prompt_tokens, completionTokens: MOCK_USAGE.completion_tokens, costPico: exactCost });
    }
    const slowPrompt = estimatePromptTokens({ messages: [{ role: 'user', content: 'slow' }] });
    for (const r of cut) {
      // billed for what was streamed before the client left: tokenizer counts, marked estimated
      expect(r.status).toBe(499);
      expect(r.estimated).toBe(true);
      expect(r.promptTokens).toBe(slowPrompt);
      expect(r.completionTokens).toBeGreaterThanOrEqual(estimateTextTokens('Hello'));
      expect(r.completionTokens).toBeLessThan(estimateTextTokens(['Hello', ...SLOW_WORDS].join('')));
      expect(r.costPico).toBe(BigInt(r.promptTokens) * PICO_IN + BigInt(r.completionTokens) * PICO_OUT);
    }
    const cutPrompt = cut.reduce((a, r) => a + r.promptTokens, 0);
    const cutCompletion = cut.reduce((a, r) => a + r.completionTokens, 0);
    const expected = {
      requests: 30,
      prompt_tokens: 27 * MOCK_USAGE.prompt_tokens + cutPrompt,
      completion_tokens: 27 * MOCK_USAGE.completion_tokens + cutCompletion,
      cached_tokens: 0,
      cost: formatPicoUsd(27n * exactCost + BigInt(cutPrompt) * PICO_IN + BigInt(cutCompletion) * PICO_OUT),
    };
    expect(report.totals).toEqual(expected);
    expect(report.rows).toEqual([{ group: 'mix-ivy', ...expected }]);

    // the same through the CLI, against the running daemon's admin API
    const token = readFileSync(lwPaths(gw.home).adminToken, 'utf8').trim();
    const cli = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', '--url', gw.url, '--admin-key', token, 'usage', '--key', 'mix-ivy', '--json'],
      { cwd: ROOT, env: { ...process.env, LW_HOME: gw.home, NO_COLOR: '1' }, timeout: 20_000 },
    );
    const fromCli = JSON.parse(cli.stdout) as UsageReport;
    expect(fromCli.totals).toEqual(expected);
    expect(fromCli.by).toBe('day');
  });

  it('an upstream that reports no usage is billed from the tokenizer, marked estimated', async () => {
    const { gw } = rig;
    const created = await gw.admin.keys.create({ name: 'nousage-hank' });
    const body = { messages: [{ role: 'user', content: 'nousage' }] };
    const plain = await chat(gw.baseURL, created.key, body);
    expect(plain.status).toBe(200);
    await plain.arrayBuffer();
    const streamed = await chat(gw.baseURL, created.key, { ...body, stream: true, stream_options: { include_usage: true } });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain('[DONE]');
    const rows = await pollUntil(() => eventsOf(created.id), (r) => r.length >= 2);
    expect(rows).toHaveLength(2);
    const prompt = estimatePromptTokens({ messages: [{ role: 'user', content: 'nousage' }] });
    const completion = estimateTextTokens(MOCK_WORDS.join(''));
    expect(prompt).toBeGreaterThan(0);
    expect(completion).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r).toMatchObject({ status: 200, estimated: true, promptTokens: prompt, completionTokens: completion });
      expect(r.costPico).toBe(BigInt(prompt) * PICO_IN + BigInt(completion) * PICO_OUT);
    }
  });
});
