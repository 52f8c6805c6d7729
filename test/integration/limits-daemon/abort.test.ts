/**
 * Client disconnects through the real daemon: a client that leaves mid-stream aborts the upstream at
 * once (the mock sees its response closed long before its 10 s stream would end) and the daemon stays
 * healthy; 50 clients aborting at random points in parallel leave it alive, with nothing in flight, no
 * upstream connection left open, and exactly one usage event per request that got an upstream answer.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageEvents } from '../../../src/db/schema.js';
import { chunk, type MockHandler } from '../../helpers/mock-upstream.js';
import { PG_URL } from '../../helpers/pg.js';
import { chat, pollUntil, startRig, type Rig } from './setup.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  closedEarly: boolean;
  finished: boolean;
  content: string;
}

/** Streams 100 chunks 100 ms apart (10 s), first header after `firstByteMs`; records how each response ended. */
function slowStream(seen: Seen[], firstByteMs: (content: string) => number = () => 0): MockHandler {
  return async (req, res) => {
    const s: Seen = { closedEarly: false, finished: false, content: String((req.body?.['messages'] as Array<{ content: string }>)[0]?.content) };
    seen.push(s);
    res.on('close', () => {
      if (!res.writableFinished) s.closedEarly = true;
    });
    const wait = firstByteMs(s.content);
    if (wait > 0) await sleep(wait);
    if (res.destroyed) return;
    const model = String(req.body?.['model']);
    if (!req.body?.['stream']) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }));
      s.finished = true;
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < 100 && !res.destroyed; i++) {
      res.write(`data: ${JSON.stringify(chunk(model, { content: ` w${i}` }))}\n\n`);
      await sleep(100);
    }
    if (res.destroyed) return;
    res.end('data: [DONE]\n\n');
    s.finished = true;
  };
}

/** A small deterministic PRNG, so a failing run can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('client disconnects', () => {
  let rig: Rig;

  beforeAll(async () => {
    // the store plays no part here; Postgres (when set) starts in a fraction of PGlite's time
    rig = await startRig({ backend: PG_URL ? 'postgres' : 'pglite' });
  });
  afterAll(async () => {
    rig?.up.handle(null);
    await rig?.close();
  });

  it('a client that leaves mid-stream aborts the upstream at once; the next request works', async () => {
    const { gw, up } = rig;
    const { key } = await gw.admin.keys.create({ name: 'leaver' });
    const seen: Seen[] = [];
    up.handle(slowStream(seen));
    try {
      const ctl = new AbortController();
      const res = await chat(gw.baseURL, key, { stream: true }, { signal: ctl.signal });
      expect(res.status).toBe(200);
      const first = await res.body!.getReader().read();
      expect(new TextDecoder().decode(first.value)).toContain(' w0');
      ctl.abort();
      // the upstream would stream for 10 s more; it sees its response closed well before that
      const closed = await pollUntil(async () => seen[0]?.closedEarly === true, (v) => v, 2_000);
      expect(closed).toBe(true);
      expect(seen[0]!.finished).toBe(false);
    } finally {
      up.handle(null);
    }
    const next = await chat(gw.baseURL, key);
    expect(next.status).toBe(200);
    expect(((await next.json()) as { object: string }).object).toBe('chat.completion');
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });

  it('survives 50 clients aborting at random points in parallel', async () => {
    const { gw, up } = rig;
    const created = await gw.admin.keys.create({ name: 'chaos' });
    const seen: Seen[] = [];
    const rand = rng(0x5eed);
    // three kinds of client, each leaving at a random moment (0–300 ms):
    //  - `wait-*`: the upstream holds its answer 2 s, so the client leaves before any response;
    //  - `read-*`: a stream that starts at once; the client reads, then leaves mid-stream;
    //  - `drop-*`: plain or streamed, answered at once; the client leaves whenever its timer fires.
    const kindOf = (i: number) => (['wait', 'read', 'drop'] as const)[i % 3]!;
    up.handle(slowStream(seen, (content) => (content.startsWith('wait') ? 2_000 : Math.floor(rand() * 50))));
    const outcomes = { answered: 0, abortedEarly: 0 };
    const kinds = { wait: 0, read: 0, drop: 0 };
    const one = async (i: number): Promise<void> => {
      const kind = kindOf(i);
      kinds[kind]++;
      const ctl = new AbortController();
      const stream = kind !== 'drop' || i % 2 === 0;
      const abortAfter = Math.floor(rand() * 300);
      const timer = kind === 'read' ? null : setTimeout(() => ctl.abort(), abortAfter);
      try {
        let res: Response;
        try {
          res = await chat(gw.baseURL, created.key, { stream, messages: [{ role: 'user', content: `${kind}-${i}` }] }, { signal: ctl.signal });
        } catch (e) {
          expect((e as Error).name).toBe('AbortError');
          outcomes.abortedEarly++;
          return;
        }
        outcomes.answered++;
        expect(res.status).toBe(200);
        if (kind === 'read') {
          await res.body!.getReader().read();
          await sleep(abortAfter);
        } else await res.text().catch((e: unknown) => expect((e as Error).name).toBe('AbortError'));
      } finally {
        if (timer) clearTimeout(timer);
        ctl.abort();
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => one(i)));
    expect(outcomes.answered + outcomes.abortedEarly).toBe(50);
    // clients left both before any response and mid-stream
    expect(kinds).toEqual({ wait: 17, read: 17, drop: 16 });
    expect(outcomes.abortedEarly).toBeGreaterThanOrEqual(kinds.wait);
    expect(outcomes.answered).toBeGreaterThanOrEqual(kinds.read);

    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    // nothing left in flight, and every upstream response ended (finished or closed by the daemon)
    expect(await pollUntil(async () => gw.daemon.deps.inflight.count, (n) => n === 0, 3_000)).toBe(0);
    const open = await pollUntil(async () => seen.filter((s) => !s.finished && !s.closedEarly).length, (n) => n === 0, 3_000);
    expect(open).toBe(0);

    // one usage event per request that reached the upstream: every request the mock saw has one (a
    // client that left before the answer is billed its prompt, estimated), none has two
    up.handle(null);
    const rows = await pollUntil(
      () => gw.daemon.store.db.select().from(usageEvents).where(eq(usageEvents.keyId, created.id)),
      (r) => r.length >= seen.length,
      3_000,
    );
    expect(new Set(seen.map((s) => s.content)).size).toBe(seen.length);
    expect(rows.length).toBeGreaterThanOrEqual(seen.length);
    expect(rows.length).toBeLessThanOrEqual(50);
    expect(new Set(rows.map((r) => r.requestId)).size).toBe(rows.length);
    for (const r of rows) {
      if (r.status === 200) expect(r).toMatchObject({ estimated: false, promptTokens: 5, completionTokens: 1 });
      else {
        expect(r.status).toBe(499);
        expect(r.estimated).toBe(true);
        expect(r.promptTokens).toBeGreaterThan(0);
      }
    }
    // and the daemon still answers normally
    const after = await chat(gw.baseURL, created.key, { stream: true });
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('[DONE]');
  });
});
