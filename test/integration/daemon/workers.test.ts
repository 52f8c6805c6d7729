/**
 * `lw serve --workers 2` as a real subprocess on the embedded store: two worker processes serve the
 * port; RPM and concurrency limits, quota and credits stay exact across them (the primary decides);
 * every request's usage is written exactly once; a revoked key is refused by every worker as soon as
 * the admin call returns; /metrics on any worker counts both; a SIGKILLed worker is replaced and what it
 * held is given back; SIGTERM to the primary finishes a stream, writes its usage, exits 0 and leaves no
 * process behind. With LW_TEST_REDIS_URL the limits are checked again with the Redis limiter.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readDaemonInfo } from '../../../src/admin/daemon-info.js';
import { createRemoteService } from '../../../src/admin/remote.js';
import type { AdminService, UsageReport } from '../../../src/admin/types.js';
import { isPidAlive } from '../../../src/db/lock.js';
import { lwPaths } from '../../../src/lib/paths.js';
import { MOCK_USAGE } from '../../helpers/mock-upstream.js';
import { createTempDatabase, PG_URL, type TempDatabase } from '../../helpers/pg.js';
import { serve, stop, type Served } from '../../helpers/serve-process.js';
import { chat, childrenOf, get, lw, MODEL, open, PRICEY, sample, scriptedUpstream, SLOW_WORDS, workerOf, workerPids, type Answer, type Holds } from './workers-rig.js';

const REDIS_URL = process.env['LW_TEST_REDIS_URL'];
if (!REDIS_URL) console.warn('[lw tests] LW_TEST_REDIS_URL is unset: `lw serve --workers` limits with Redis are SKIPPED.');

const ENV = { MOCK_KEY: 'sk-upstream-test', LW_LOG_LEVEL: 'info' };
const TOKENS = MOCK_USAGE.prompt_tokens + MOCK_USAGE.completion_tokens;
const workersOf = (as: Answer[]) => new Set(as.map((a) => a.worker));
const statuses = (as: Answer[]) => as.map((a) => a.status).sort();

interface Cluster {
  served: Served;
  home: string;
  admin: AdminService;
  workers: number[];
}

async function startCluster(home: string, holds: Holds, env: Record<string, string> = {}): Promise<Cluster> {
  const served = await serve(home, { ...ENV, ...env }, ['--workers', '2']);
  const admin = createRemoteService({ url: served.url, token: readFileSync(lwPaths(home).adminToken, 'utf8').trim() });
  await admin.providers.add({ name: 'mock', kind: 'openai', base_url: holds.up.url, api_key_env: 'MOCK_KEY' });
  await admin.models.add({ id: MODEL, provider: 'mock', upstream_model: 'mock-model', price_in: '0.5', price_out: '1' });
  await admin.models.add({ id: PRICEY, provider: 'mock', upstream_model: 'mock-model', price_in: '1', price_out: '1' });
  const workers = workerPids(childrenOf(served.child.pid!));
  return { served, home, admin, workers };
}

/** Kills by pid whatever a cluster left running (after a failed test). */
async function teardown(c: Cluster | null): Promise<void> {
  if (!c) return;
  const pids = [...childrenOf(c.served.child.pid!), ...c.workers];
  await stop(c.served);
  for (const p of pids) if (isPidAlive(p)) process.kill(p, 'SIGKILL');
}

/** RPM 5 with 20 simultaneous requests over both workers, then concurrency 2 with 6 held ones. */
async function limitsAreExact(c: Cluster, holds: Holds, tag: string): Promise<string[]> {
  await c.admin.tiers.create(`five-${tag}`, { rpm: 5 });
  const five = await c.admin.keys.create({ name: `rpm-${tag}`, tier: `five-${tag}` });
  const all = await Promise.all(Array.from({ length: 20 }, () => chat(c.served.url, five.key)));
  expect(workersOf(all).size).toBe(2);
  const ok = all.filter((a) => a.status === 200);
  expect({ ok: ok.length, limited: all.filter((a) => a.status === 429).length }).toEqual({ ok: 5, limited: 15 });
  expect(ok.map((a) => Number(a.headers['x-ratelimit-remaining-requests'])).sort()).toEqual([0, 1, 2, 3, 4]);
  for (const a of all.filter((x) => x.status === 429)) {
    expect(JSON.parse(a.text)).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(Number(a.headers['retry-after'])).toBe(12);
  }

  await c.admin.tiers.create(`two-${tag}`, { max_concurrent: 2 });
  const two = await c.admin.keys.create({ name: `conc-${tag}`, tier: `two-${tag}` });
  const before = holds.up.requests.length;
  holds.hold();
  const pending = Array.from({ length: 6 }, () => chat(c.served.url, two.key, { content: 'hold' }));
  // the four refusals answer at once; the two admitted wait at the upstream
  await vi.waitFor(() => expect(holds.up.requests.length - before).toBe(2), { timeout: 5_000, interval: 20 });
  holds.release();
  const held = await Promise.all(pending);
  expect(statuses(held)).toEqual([200, 200, 429, 429, 429, 429]);
  expect(workersOf(held).size).toBe(2);
  for (const a of held.filter((x) => x.status === 429)) expect(JSON.parse(a.text)).toMatchObject({ error: { code: 'concurrency_limit_exceeded' } });
  // both slots came back
  const after = await Promise.all([chat(c.served.url, two.key), chat(c.served.url, two.key)]);
  expect(statuses(after)).toEqual([200, 200]);
  return [five.id, two.id];
}

describe('lw serve --workers 2 (embedded store)', () => {
  let home: string;
  let holds: Holds;
  let c: Cluster | null = null;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'lw-workers-'));
    holds = await scriptedUpstream();
    c = await startCluster(home, holds);
  });
  afterAll(async () => {
    await teardown(c);
    await holds?.up.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves from two worker processes of the primary, each named in x-lw-worker', async () => {
    const { served, workers, admin } = c!;
    expect(workers).toHaveLength(2);
    const { key } = await admin.keys.create({ name: 'who' });
    const answers = await Promise.all(Array.from({ length: 6 }, () => chat(served.url, key)));
    expect(statuses(answers)).toEqual(Array(6).fill(200));
    expect([...workersOf(answers)].sort()).toEqual([...workers].sort());
    expect(workers).not.toContain(served.child.pid);
  });

  it('keeps RPM and concurrency limits exact across workers', async () => {
    await limitsAreExact(c!, holds, 'mem');
  });

  it('writes every request once and keeps quota and credits exact across workers', async () => {
    const { served, admin } = c!;
    const { key } = await admin.keys.create({ name: 'count' });
    const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(served.url, key, { stream: i % 3 === 0 })));
    expect(statuses(sent)).toEqual(Array(12).fill(200));
    expect(workersOf(sent).size).toBe(2);
    await vi.waitFor(async () => expect((await admin.usage.report({ key: 'count', by: 'key' })).totals.requests).toBe(12), { timeout: 5_000, interval: 100 });
    await new Promise((r) => setTimeout(r, 600)); // a duplicate would be written by now
    const report = JSON.parse(await lw(home, 'usage', '--key', 'count', '--json')) as UsageReport;
    // 12 × (11 × 500,000 + 7 × 1,000,000) pico-USD
    expect(report.totals).toMatchObject({ requests: 12, prompt_tokens: 12 * MOCK_USAGE.prompt_tokens, completion_tokens: 12 * MOCK_USAGE.completion_tokens, cost: '0.00015' });

    // quota of three requests' tokens: requests alternate between workers, exactly three pass
    await admin.tiers.create('three', { quota_tokens: 3 * TOKENS });
    const q = await admin.keys.create({ name: 'quota', tier: 'three' });
    const seq: Answer[] = [];
    for (let i = 0; i < 6; i++) seq.push(await chat(served.url, q.key, { max_tokens: 5 }));
    expect(seq.map((a) => a.status)).toEqual([200, 200, 200, 403, 403, 403]);
    expect(workersOf(seq.slice(0, 3)).size).toBe(2);
    expect(JSON.parse(seq[3]!.text)).toMatchObject({ error: { code: 'quota_exceeded' } });

    // $0.000010 of credits; one answer costs 18,000,000 pico: the first passes, every later one is 402
    const cr = await admin.keys.create({ name: 'credits', credits: '0.000010' });
    const spent: Answer[] = [];
    for (let i = 0; i < 4; i++) spent.push(await chat(served.url, cr.key, { model: PRICEY, max_tokens: 1 }));
    expect(spent.map((a) => a.status)).toEqual([200, 402, 402, 402]);
    expect(workersOf(spent).size).toBe(2);
    await vi.waitFor(async () => expect((await admin.keys.show('credits')).credits).toBe('-0.000008'), { timeout: 5_000, interval: 100 });
    for (let i = 0; i < 2; i++) {
      const u = await get(served.url, '/v1/usage', { authorization: `Bearer ${cr.key}` });
      expect(JSON.parse(u.text)).toMatchObject({ credits: { remaining: '-0.000008' }, requests: { used: 1 } });
    }
  });

  it('refuses a revoked key on every worker as soon as the admin call returns', async () => {
    const { served, admin } = c!;
    const { key } = await admin.keys.create({ name: 'rev' });
    const warm = await Promise.all(Array.from({ length: 4 }, () => chat(served.url, key)));
    expect(statuses(warm)).toEqual([200, 200, 200, 200]);
    expect(workersOf(warm).size).toBe(2);
    await admin.keys.revoke('rev');
    const after: Answer[] = [];
    for (let i = 0; i < 6; i++) after.push(await chat(served.url, key));
    expect(after.map((a) => a.status)).toEqual(Array(6).fill(401));
    expect(workersOf(after).size).toBe(2);
    for (const a of after) expect(JSON.parse(a.text)).toMatchObject({ error: { code: 'revoked_api_key' } });
  });

  it('reports requests from both workers on /metrics of either', async () => {
    const { served, admin } = c!;
    const { key } = await admin.keys.create({ name: 'metered' });
    const total = (t: string) => sample(t, 'lw_requests_total', 'endpoint="chat",status="200"') ?? 0;
    const before = await get(served.url, '/metrics');
    const sent = await Promise.all(Array.from({ length: 10 }, () => chat(served.url, key)));
    expect(workersOf(sent).size).toBe(2);
    const scrapes = [await get(served.url, '/metrics'), await get(served.url, '/metrics')];
    expect(workersOf(scrapes).size).toBe(2);
    for (const s of scrapes) {
      expect(s.status).toBe(200);
      expect(total(s.text) - total(before.text)).toBe(10);
      expect(sample(s.text, 'lw_workers')).toBe(2);
      expect(sample(s.text, 'lw_usage_queue_depth')).toEqual(expect.any(Number));
    }
  });

  it('replaces a killed worker, gives back what it held, and keeps serving', async () => {
    const { served, admin, workers } = c!;
    await admin.tiers.create('solo', { max_concurrent: 1 });
    const { key } = await admin.keys.create({ name: 'solo', tier: 'solo' });
    const stream = await open(served.url, key, { content: 'stall', stream: true });
    expect(stream.statusCode).toBe(200);
    stream.on('error', () => {});
    const victim = workerOf(stream.headers);
    expect(workers).toContain(victim);
    expect((await chat(served.url, key)).status).toBe(429); // its one slot is taken
    process.kill(victim, 'SIGKILL');
    await vi.waitFor(() => expect(isPidAlive(victim)).toBe(false), { timeout: 5_000, interval: 50 });
    // the primary settled the dead worker's admission: the key gets its slot back
    await vi.waitFor(async () => expect((await chat(served.url, key)).status).toBe(200), { timeout: 10_000, interval: 100 });
    await vi.waitFor(() => expect(served.stderr()).toContain('"msg":"worker replaced"'), { timeout: 10_000, interval: 100 });
    expect(served.stderr()).toMatch(/"msg":"worker exited unexpectedly; starting a replacement".*"admissions_released":1/);
    const now = await Promise.all(Array.from({ length: 4 }, () => chat(served.url, key, {}).catch(() => null)));
    const seen = new Set(now.filter((a): a is Answer => a !== null && a.status !== 0).map((a) => a.worker));
    const replacement = [...seen].find((p) => !workers.includes(p));
    expect(seen.size).toBe(2);
    expect(replacement).toEqual(expect.any(Number));
    c!.workers = [...workers.filter((p) => p !== victim), replacement!];
  });

  it('drains a stream on SIGTERM, writes its usage, exits 0 and leaves no process behind', async () => {
    const { served, admin } = c!;
    const { key } = await admin.keys.create({ name: 'sig' });
    const res = await open(served.url, key, { content: 'slow', stream: true });
    expect(res.statusCode).toBe(200);
    let text = '';
    const done = new Promise<void>((r) => {
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => r());
    });
    await vi.waitFor(() => expect(text).toContain('data: '), { timeout: 5_000, interval: 20 });
    const storePid = readDaemonInfo(lwPaths(home).daemonInfo)?.store_pid;
    const children = childrenOf(served.child.pid!);
    expect(children).toContain(storePid);
    expect(workerPids(children)).toHaveLength(2);
    // the primary, its children and theirs (with tsx each process may run an esbuild service)
    const pids = [served.child.pid!, ...children, ...children.flatMap(childrenOf)];
    served.child.kill('SIGTERM');
    await done;
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    for (const w of SLOW_WORDS) expect(text).toContain(`"content":"${w}"`);
    expect(await served.exited).toBe(0);
    expect(served.stderr()).toContain('"msg":"lw stopped"');
    await vi.waitFor(() => expect(pids.filter(isPidAlive)).toEqual([]), { timeout: 10_000, interval: 100 });
    const report = JSON.parse(await lw(home, 'usage', '--key', 'sig', '--json')) as UsageReport;
    expect(report.totals).toMatchObject({ requests: 1, prompt_tokens: MOCK_USAGE.prompt_tokens, completion_tokens: MOCK_USAGE.completion_tokens });
    c = null;
  });
});

describe.skipIf(!REDIS_URL)('lw serve --workers 2 with the Redis limiter', () => {
  let home: string;
  let holds: Holds;
  let db: TempDatabase | null = null;
  let c: Cluster | null = null;
  const keyIds: string[] = [];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'lw-workers-redis-'));
    holds = await scriptedUpstream();
    // the store does not matter here; Postgres (when set) starts faster and covers the workers' LISTEN
    if (PG_URL) db = await createTempDatabase();
    c = await startCluster(home, holds, { LW_REDIS_URL: REDIS_URL!, ...(db ? { LW_DATABASE_URL: db.url } : {}) });
  });
  afterAll(async () => {
    await teardown(c);
    await holds?.up.close();
    await db?.drop();
    if (keyIds.length > 0) {
      const r = new Redis(REDIS_URL!);
      for (const id of keyIds) {
        const keys = await r.keys(`lw:{${id}}*`);
        if (keys.length) await r.del(...keys);
      }
      await r.quit();
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('keeps RPM and concurrency limits exact across workers', async () => {
    keyIds.push(...(await limitsAreExact(c!, holds, 'redis')));
  });
});
