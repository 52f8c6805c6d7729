/**
 * Exact admission with the Redis limiter (LW_TEST_REDIS_URL): one daemon, then TWO daemons sharing one
 * Postgres database (LW_TEST_DATABASE_URL) and one Redis — 40 simultaneous requests split across both
 * admit exactly 10 on a 10-RPM tier. Skipped, with a message, when either URL is unset.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, type MockUpstream } from '../../helpers/mock-upstream.js';
import { createTempDatabase, PG_URL, type TempDatabase } from '../../helpers/pg.js';
import { chat, expectTenOfForty, pollUntil, startRig, type Rig } from './setup.js';

const REDIS_URL = process.env['LW_TEST_REDIS_URL'];
if (!REDIS_URL) console.warn('[lw tests] LW_TEST_REDIS_URL is unset: daemon admission with Redis is SKIPPED.');
if (REDIS_URL && !PG_URL) console.warn('[lw tests] LW_TEST_DATABASE_URL is unset: the two-daemon Redis test is SKIPPED.');

/** Key ids whose limiter state (under the daemon's `lw:` prefix) is removed after the suite. */
const keyIds: string[] = [];
afterAll(async () => {
  if (!REDIS_URL || keyIds.length === 0) return;
  const r = new Redis(REDIS_URL);
  for (const id of keyIds) {
    const keys = await r.keys(`lw:{${id}}*`);
    if (keys.length) await r.del(...keys);
  }
  await r.quit();
});

/** Waits until `baseURL` knows `key` (its snapshot reloaded), without spending any of the key's RPM. */
async function waitForKey(baseURL: string, key: string): Promise<number> {
  const probe = () => fetch(`${baseURL}/usage`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
  return pollUntil(probe, (s) => s === 200, 5_000);
}

describe.skipIf(!REDIS_URL)('admission with Redis, one daemon', () => {
  let rig: Rig;
  beforeAll(async () => {
    // the store does not matter here; Postgres (when set) starts in a fraction of PGlite's time
    rig = await startRig({ backend: PG_URL ? 'postgres' : 'pglite', config: { redisUrl: REDIS_URL! } });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('admits exactly 10 of 40 simultaneous requests on a 10-RPM tier', async () => {
    const { gw, up } = rig;
    await gw.admin.tiers.create('ten', { rpm: 10 });
    const { key, id } = await gw.admin.keys.create({ name: 'redis-alice', tier: 'ten' });
    keyIds.push(id);
    const before = up.requests.length;
    await expectTenOfForty(() => chat(gw.baseURL, key));
    expect(up.requests.length - before).toBe(10);
  });
});

describe.skipIf(!REDIS_URL || !PG_URL)('admission with Redis, two daemons on one Postgres', () => {
  let up: MockUpstream;
  let db: TempDatabase;
  let a: Rig;
  let b: Rig;

  beforeAll(async () => {
    up = await startMockUpstream();
    db = await createTempDatabase();
    const config = { redisUrl: REDIS_URL! };
    a = await startRig({ up, databaseUrl: db.url, config });
    b = await startRig({ up, databaseUrl: db.url, config, configure: false });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await up?.close();
  });

  it('admits exactly 10 of 40 requests split across both daemons', async () => {
    await a.gw.admin.tiers.create('ten', { rpm: 10 });
    const { key, id } = await a.gw.admin.keys.create({ name: 'shared-bob', tier: 'ten' });
    keyIds.push(id);
    // the second daemon learns about the key through the store's change notification
    expect(await waitForKey(b.gw.baseURL, key)).toBe(200);
    expect(await waitForKey(a.gw.baseURL, key)).toBe(200);
    const before = up.requests.length;
    await expectTenOfForty((i) => chat((i % 2 ? a : b).gw.baseURL, key));
    expect(up.requests.length - before).toBe(10);
    // and both daemons keep refusing: the bucket is shared
    for (const d of [a, b]) expect((await chat(d.gw.baseURL, key)).status).toBe(429);
  });
});
