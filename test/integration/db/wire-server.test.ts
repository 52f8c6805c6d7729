/**
 * The embedded store's protocol server (src/db/server/wire.ts) with real postgres.js clients on its
 * Unix socket, PGlite in memory behind it: typed parameters and results, an error then a working query
 * on one connection, one session shared by turns (a transaction holds it until COMMIT/ROLLBACK, and a
 * second connection's statement never runs inside it), a client gone mid-transaction rolled back, and
 * the prepared statements of a closed connection closed.
 */
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWireStore, type WireStore } from '../../helpers/wire-store.js';

type Client = ReturnType<typeof postgres>;

describe('store protocol server with postgres.js', () => {
  let server: WireStore;
  const clients: Client[] = [];
  const base = () => ({ path: server.socketPath, user: 'postgres', database: 'postgres', max: 1, onnotice: () => {} });
  const client = (opts: Pick<postgres.Options<Record<string, never>>, 'max' | 'prepare'> = {}): Client => {
    const c = postgres({ ...base(), ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startWireStore();
    await server.pglite.exec('create table items (id bigint primary key, doc jsonb, at timestamptz, raw bytea, tags text[], note text)');
    await server.pglite.exec('create table log (who text not null)');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end({ timeout: 1 });
    await server.pglite.exec('truncate items, log');
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers the start-up with the parameters postgres.js reads', async () => {
    const sql = client();
    const [row] = await sql<{ one: number }[]>`select 1 as one`;
    expect(row!.one).toBe(1);
    expect(sql.parameters).toMatchObject({ server_version: '17.5', client_encoding: 'UTF8', integer_datetimes: 'on' });
  });

  it('runs extended queries with typed parameters and results (bigint, jsonb, timestamptz, bytea, arrays, null)', async () => {
    const sql = postgres({ ...base(), types: { bigint: postgres.BigInt } });
    clients.push(sql as unknown as Client);
    const at = new Date('2025-03-12T10:00:00.123Z');
    const doc = { model: 'gpt-x', n: [1, 2, 3], nested: { ok: true, text: 'é ✓' } };
    await sql`insert into items ${sql({ id: 9_007_199_254_740_993n, doc: sql.json(doc), at, raw: Buffer.from([0, 1, 254, 255]), tags: ['a', 'b'], note: null })}`;
    const [row] = await sql`select * from items where id = ${9_007_199_254_740_993n}`;
    expect(row).toEqual({ id: 9_007_199_254_740_993n, doc, at, raw: Buffer.from([0, 1, 254, 255]), tags: ['a', 'b'], note: null });
    // the same statement again (postgres.js prepares it once, then only binds)
    const [again] = await sql`select count(*)::int as n from items where id = ${9_007_199_254_740_993n}`;
    const [twice] = await sql`select count(*)::int as n from items where id = ${9_007_199_254_740_993n}`;
    expect([again!.n, twice!.n]).toEqual([1, 1]);
  });

  it('reports a bad statement and keeps serving the same connection', async () => {
    const sql = client();
    await expect(sql`selec 1`).rejects.toMatchObject({ code: '42601' });
    await expect(sql`select * from no_such_table where id = ${1}`).rejects.toMatchObject({ code: '42P01' });
    await expect(sql.begin(async (tx) => {
      await tx`insert into log values ('in-failed-tx')`;
      await tx`select 1/0`;
    })).rejects.toMatchObject({ code: '22012' });
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from log`;
    expect(row!.n).toBe(0);
  });

  it('holds the session for a transaction: another connection waits for COMMIT', async () => {
    const a = client();
    const b = client();
    await b`select 1`; // connected
    const order: string[] = [];
    let waiting: Promise<unknown> | null = null;
    await a.begin(async (tx) => {
      await tx`insert into log values ('a')`;
      waiting = b`select count(*)::int as n from log`.then((rows) => {
        order.push(`b saw ${rows[0]!['n']}`);
      });
      // b's statement is sent now; it must not run while a's transaction is open
      await new Promise((r) => setTimeout(r, 150));
      const [mine] = await tx<{ n: number }[]>`select count(*)::int as n from log`;
      order.push(`a saw ${mine!.n}`);
      order.push('a commits');
    });
    await waiting;
    expect(order).toEqual(['a saw 1', 'a commits', 'b saw 1']);
  });

  it("never runs another connection's statement inside a transaction that then rolls back", async () => {
    const a = client();
    const b = client();
    await b`select 1`;
    let fromB: Promise<unknown> | null = null;
    await expect(
      a.begin(async (tx) => {
        await tx`insert into log values ('a')`;
        fromB = b`insert into log values ('b')`.execute(); // sent now (postgres.js queries are lazy)
        await new Promise((r) => setTimeout(r, 100));
        throw new Error('abort a');
      }),
    ).rejects.toThrow('abort a');
    await fromB;
    const rows = await b<{ who: string }[]>`select who from log order by who`;
    expect(rows.map((r) => r.who)).toEqual(['b']);
  });

  it('serializes many concurrent transactions from several connections without losing one', async () => {
    const conns = [client(), client(), client({ max: 3 })];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        conns[i % conns.length]!.begin(async (tx) => {
          const [row] = await tx<{ n: number }[]>`select count(*)::int as n from log`;
          await tx`insert into log values (${`t${row!.n}`})`;
        }),
      ),
    );
    // each transaction saw all the previous ones: the names are t0 … t29, no duplicate
    const rows = await conns[0]!<{ who: string }[]>`select who from log`;
    expect(new Set(rows.map((r) => r.who)).size).toBe(30);
  });

  it('rolls back the transaction of a client that goes away, then serves the others', async () => {
    const a = client();
    const b = client();
    await b`select 1`;
    const reserved = await a.reserve();
    await reserved`begin`;
    await reserved`insert into log values ('lost')`;
    const pending = b<{ n: number }[]>`select count(*)::int as n from log`.execute();
    await a.end({ timeout: 0 }); // destroys the socket mid-transaction
    const [row] = await pending;
    expect(row!.n).toBe(0);
    // and the session is idle again: a new transaction works and commits
    await b.begin(async (tx) => tx`insert into log values ('kept')`);
    const [after] = await b<{ n: number }[]>`select count(*)::int as n from log`;
    expect(after!.n).toBe(1);
  });

  it('closes the prepared statements of a connection once it is gone', async () => {
    const a = client({ prepare: true });
    for (let i = 0; i < 3; i++) await a`select ${i}::int + ${1}::int as n, ${`s${i}`} as s`;
    await a`select count(*) from log where who = ${'x'}`;
    const observer = client({ prepare: false });
    const [during] = await observer<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements`;
    expect(during!.n).toBeGreaterThan(0);
    await a.end();
    await vi.waitFor(async () => {
      const [after] = await observer<{ n: number }[]>`select count(*)::int as n from pg_prepared_statements`;
      expect(after!.n).toBe(0);
    });
  });
});
