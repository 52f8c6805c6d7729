/**
 * Memory: the tokenizer's rank tables (`bpe.ts`, ~4 MB for o200k) and ioredis (+15 MB) must not be loaded by
 * starting the daemon, nor by requests whose upstream reports usage — reservations and `auto` routing use the
 * routes' tokenizer-free `reserveTokens()`, embeddings under the byte bound skip the tokenizer — only when a
 * count is really needed (an answer without usage, `promptTokens()`). gpt-tokenizer's code (+50 MB with its
 * tables) is never loaded: only its data files are read. Checked in a fresh `node` process (sources through
 * tsx) that records every module it resolves under those packages: ESM resolutions by a resolve hook
 * (appended to a file, since hooks run off-thread), CommonJS loads from `require.cache`; and asks `bpe.ts`
 * which tables it has loaded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProcess } from '../../helpers/process.js';
import { moduleTracePreamble } from '../../helpers/module-trace.js';
import { ROOT } from '../../helpers/serve-process.js';

/** Runs in the child after `--import tsx`: every import below goes through the trace hook. */
const CHILD = moduleTracePreamble(['gpt-tokenizer', 'ioredis']) + String.raw`
import { pathToFileURL } from 'node:url';

const src = (p) => import(pathToFileURL(process.cwd() + '/' + p).href);
const report = (phase) => console.log(JSON.stringify({ phase, loaded: loaded(), tables: loadedEncodings() }));

const { startDaemon } = await src('src/daemon/server.ts');
const { loadedEncodings } = await src('src/daemon/usage/bpe.ts'); // already imported by the daemon's modules
const { inferenceRoutes } = await src('src/daemon/routes/index.ts');
const { requestNeeds } = await src('src/daemon/routing/auto.ts');
await src('src/daemon/limits/redis.ts');
await src('src/daemon/pipeline/handle.ts');
if (typeof startDaemon !== 'function') throw new Error('no startDaemon');
report('imported');

const chat = inferenceRoutes['/v1/chat/completions'];
const body = { model: 'auto', messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: [{ type: 'function', function: { name: 'weather' } }] };
const rr = chat.parse(body, {});
const needs = requestNeeds(body, rr.reserveTokens.bind(rr));
console.log(JSON.stringify({ phase: 'reserve', reserve: rr.reserveTokens(), needs }));
report('parsed');

const { startTestDaemon } = await src('test/helpers/daemon.ts');
const { startMockUpstream, defaultHandler, chatCompletion } = await src('test/helpers/mock-upstream.ts');
const up = await startMockUpstream((req, res) => {
  if (req.path.endsWith('/embeddings')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }], usage: { prompt_tokens: 3, total_tokens: 3 } }));
    return;
  }
  if (req.body?.messages?.[0]?.content === 'no usage') {
    const { usage: _none, ...answer } = chatCompletion(String(req.body.model));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
    return;
  }
  return defaultHandler(req, res);
});
const gw = await startTestDaemon();
try {
  await gw.admin.providers.add({ name: 'oai', kind: 'openai', base_url: up.url, api_key_env: null });
  await gw.admin.models.add({ id: 'gpt-4o', provider: 'oai', price_in: '2.5', price_out: '10', context_window: 128000, capabilities: { tools: true } });
  await gw.admin.models.add({ id: 'text-embedding-3-small', kind: 'embedding', provider: 'oai', price_in: '0.02', price_out: '0' });
  // every token limit on: each request reserves tokens and credits
  await gw.admin.tiers.create('metered', { rpm: 1000, tpm: 1000000, quota_tokens: 10000000 });
  const { key } = await gw.admin.keys.create({ name: 'lazy', tier: 'metered', credits: '100' });
  report('started');
  const send = async (path, payload) => {
    const res = await fetch(gw.baseURL + path, { method: 'POST', headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(path + ' → ' + res.status + ': ' + text);
    return text;
  };
  const post = async (path, payload) => JSON.parse(await send(path, payload));
  await post('/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] });
  await post('/chat/completions', { ...body, max_tokens: 50 });
  const sse = await send('/chat/completions', { model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hi' }] });
  if (!sse.includes('"usage"')) throw new Error('stream without usage: ' + sse);
  await post('/embeddings', { model: 'text-embedding-3-small', input: ['The quick brown fox', 'jumps over the lazy dog'] });
  report('served');
  // the upstream reports no usage: the gateway estimates it, which needs the tokenizer
  await post('/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'no usage' }] });
  report('estimated');
} finally {
  await gw.close();
  await up.close();
}
`;

describe('heavy dependencies load lazily', () => {
  const home = mkdtempSync(join(tmpdir(), 'lw-lazy-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('neither the tokenizer nor ioredis is loaded by startup, reservations, auto routing or served requests', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LAZY_LOG: join(home, 'resolved.log') };
    for (const k of ['LW_DATABASE_URL', 'LW_REDIS_URL', 'NODE_OPTIONS']) delete env[k];
    const run = await runProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, env });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"phase"'))
      .map((l) => JSON.parse(l) as { phase: string; loaded?: string[]; tables?: string[]; reserve?: number; needs?: unknown });
    const at = (phase: string) => {
      const line = lines.find((l) => l.phase === phase);
      if (!line) throw new Error(`no ${phase} line in:\n${run.stdout}\n${run.stderr}`);
      return line;
    };
    const nothing: string[] = [];
    expect(at('imported')).toMatchObject({ loaded: nothing, tables: nothing });
    // 3 framing + ceil(("user" + the question + the tool JSON) / 3) + 3 priming: a positive, cheap number
    expect(at('reserve')).toMatchObject({ needs: { tools: true, vision: false, promptTokens: at('reserve').reserve } });
    expect(at('reserve').reserve).toBeGreaterThan(10);
    expect(at('parsed')).toMatchObject({ loaded: nothing, tables: nothing });
    expect(at('started')).toMatchObject({ loaded: nothing, tables: nothing });
    expect(at('served')).toMatchObject({ loaded: nothing, tables: nothing });
    // an answer without usage needs a count: now (and only now) o200k's table is loaded, by bpe.ts
    expect(at('estimated')).toMatchObject({ loaded: nothing, tables: ['o200k_base'] });
  }, 120_000);
});
