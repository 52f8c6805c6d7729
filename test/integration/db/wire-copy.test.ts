/**
 * `COPY … FROM STDIN` through the embedded store's protocol server (src/db/server/copy.ts), which PGlite
 * cannot run itself (its WASM backend exits). With postgres.js's `.writable()`: rows in text format with
 * escapes and NULLs, a copy of many chunks, a copy inside a transaction that rolls back or commits while
 * another connection waits, bad data reported with the connection still serving, and a client that
 * fails its copy. With raw bytes: CopyInResponse's column count, Flush/Sync ignored mid-copy, a message
 * the copy sub-protocol does not allow, copy messages outside a COPY ignored, and the session alive after each.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyIn } from '../../../src/db/copy-in.js';
import { fe, firstColumn, RawClient, status } from '../../helpers/pg-raw.js';
import { startWireStore, type WireStore } from '../../helpers/wire-store.js';

type Client = ReturnType<typeof postgres>;

describe('COPY FROM STDIN through the store protocol server', () => {
  let server: WireStore;
  const clients: Client[] = [];
  const raws: RawClient[] = [];
  const client = (max = 1): Client => {
    const c = postgres({ path: server.socketPath, user: 'postgres', database: 'postgres', max, onnotice: () => {} });
    clients.push(c);
    return c;
  };
  const raw = async () => {
    const c = await RawClient.connect(server.socketPath);
    raws.push(c);
    await c.start();
    return c;
  };
  const copyRows = async (sql: Client | postgres.TransactionSql, chunks: string[]) => {
    const stream = await sql`copy items (id, note, doc) from stdin`.writable();
    await pipeline(Readable.from(chunks), stream);
  };
  const count = async () => (await server.pglite.query<{ n: number }>('select count(*)::int as n from items')).rows[0]!.n;

  beforeAll(async () => {
    server = await startWireStore();
    await server.pglite.exec('create table items (id bigint primary key, note text, doc jsonb)');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end({ timeout: 1 });
    for (const c of raws.splice(0)) c.destroy();
    await server.pglite.exec('truncate items');
  });
  afterAll(async () => {
    await server.close();
  });

  it('inserts text-format rows with escapes and NULLs, and the session keeps serving', async () => {
    const sql = client();
    await copyRows(sql, ['1\ttab\\there\\nnew line\t{"a": 1}\n', '2\t\\N\t\\N\n3\té ✓ \\\\ back\t[1,2]\n']);
    const rows = await sql`select id::int, note, doc from items order by id`;
    expect(rows).toEqual([
      { id: 1, note: 'tab\there\nnew line', doc: { a: 1 } },
      { id: 2, note: null, doc: null },
      { id: 3, note: 'é ✓ \\ back', doc: [1, 2] },
    ]);
  });

  it('takes a copy of many chunks (rows split across CopyData messages)', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i}\tnote ${i} ${'x'.repeat(50)}\t{"i": ${i}}\n`).join('');
    const chunks: string[] = [];
    for (let i = 0; i < lines.length; i += 4_093) chunks.push(lines.slice(i, i + 4_093));
    await copyRows(client(), chunks);
    expect(await count()).toBe(20_000);
    const [last] = (await server.pglite.query<{ doc: unknown }>('select doc from items where id = 19999')).rows;
    expect(last!.doc).toEqual({ i: 19_999 });
  });

  it('takes one CopyData message of megabytes (what copyIn sends), arriving in many reads', async () => {
    const store = await server.connect(1);
    const rows = Array.from({ length: 30_000 }, (_, i) => `${i}\t${'n'.repeat(60)}${i}\t{"i": ${i}}\n`).join('');
    expect(rows.length).toBeGreaterThan(2_000_000);
    await copyIn(store.db, 'items (id, note, doc)', Buffer.from(rows));
    expect(await count()).toBe(30_000);
    // and by hand: a 600 KB message in 7 KB writes, then a query right behind it in the last write
    const c = await raw();
    await c.write(fe.query('COPY items (id, note, doc) FROM STDIN'));
    await c.read((m) => m.some((x) => x.type === 'G'));
    const more = Array.from({ length: 8_000 }, (_, i) => `${100_000 + i}\t${'m'.repeat(60)}\t\\N\n`).join('');
    await c.writeInPieces(Buffer.concat([fe.copyData(more), fe.copyDone(), fe.query('select count(*) from items')]), 7_000);
    const answer = await c.untilReady(2);
    expect(answer.find((m) => m.type === 'C')!.body.toString('latin1')).toBe('COPY 8000\0');
    expect(firstColumn(answer)).toEqual(['38000']);
  });

  it('copies inside a transaction: gone on rollback, kept on commit; another connection waits for the end', async () => {
    const sql = client();
    const other = client();
    await expect(
      sql.begin(async (tx) => {
        await copyRows(tx, ['1\ta\t\\N\n']);
        const [row] = await tx`select count(*)::int as n from items`;
        expect(row!['n']).toBe(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await count()).toBe(0);

    let otherSaw = -1;
    await sql.begin(async (tx) => {
      await copyRows(tx, ['1\ta\t\\N\n', '2\tb\t\\N\n']);
      // this connection holds the session: the other one's read runs only after COMMIT
      void other`select count(*)::int as n from items`.then(([r]) => (otherSaw = r!.n));
      await new Promise((r) => setTimeout(r, 50));
      expect(otherSaw).toBe(-1);
    });
    await expect.poll(() => otherSaw).toBe(2);
  });

  it('reports bad data as Postgres does (through copyIn: postgres.js alone would hang) and keeps the connection', async () => {
    const store = await server.connect(1);
    await expect(copyIn(store.db, 'items (id, note, doc)', '1\tonly two columns\n')).rejects.toMatchObject({ code: '22P04' });
    await expect(copyIn(store.db, 'items (id, note, doc)', 'x\ta\t\\N\n')).rejects.toMatchObject({ code: '22P02' });
    await expect(copyIn(store.db, 'no_such_table', '1\n')).rejects.toMatchObject({ code: '42P01' });
    expect(await count()).toBe(0);
    await copyIn(store.db, 'items (id, note, doc)', '5\tfive\t\\N\n');
    expect(await count()).toBe(1);
  });

  it('fails the copy the client gives up on (CopyFail), inserting nothing', async () => {
    const sql = client();
    const stream = await sql`copy items (id, note, doc) from stdin`.writable();
    stream.write('1\ta\t\\N\n');
    const failed = new Promise((resolve) => stream.once('error', resolve));
    stream.destroy(new Error('changed my mind'));
    await failed;
    expect(await count()).toBe(0);
    const [row] = await sql`select 1 as one`;
    expect(row!['one']).toBe(1);
  });

  it('speaks the sub-protocol: column count, Flush/Sync ignored mid-copy, CopyFail and stray messages as errors', async () => {
    const c = await raw();
    await c.write(fe.query('COPY items (id, note, doc) FROM STDIN;'));
    const [g] = await c.read((m) => m.length >= 1);
    expect(g!.type).toBe('G');
    expect([g!.body[0], g!.body.readInt16BE(1)]).toEqual([0, 3]);
    await c.writeInPieces(Buffer.concat([fe.copyData('7\tseven\t'), fe.flush(), fe.sync(), fe.copyData('\\N\n'), fe.copyDone()]), 3);
    const done = await c.untilReady();
    expect(done.find((m) => m.type === 'C')!.body.toString('latin1')).toBe('COPY 1\0');
    expect(status(done)).toBe('I');

    await c.write(Buffer.concat([fe.query('copy items from stdin'), fe.copyData('8\teight\t\\N\n'), fe.copyFail('stop')]));
    const failed = await c.untilReady();
    const error = failed.find((m) => m.type === 'E')!.body.toString('utf8');
    expect(error).toContain('57014');
    expect(error).toContain('COPY from stdin failed: stop');

    await c.write(Buffer.concat([fe.query('copy items from stdin'), fe.copyData('9\tnine\t\\N\n'), fe.parse('', 'select 1')]));
    const stray = await c.untilReady();
    expect(stray.find((m) => m.type === 'E')!.body.toString('utf8')).toContain('unexpected message type 0x50 during COPY from stdin');

    // outside a COPY, copy messages are ignored as Postgres does (postgres.js sends CopyFail('null') after each copy)
    await c.write(Buffer.concat([fe.copyFail('null'), fe.copyData('1\tx\t\\N\n'), fe.copyDone(), fe.query('select id from items order by id')]));
    const after = await c.untilReady();
    expect(firstColumn(after)).toEqual(['7']);
    expect(after.filter((m) => m.type === 'Z')).toHaveLength(1);
  });

  it('refuses a COPY FROM STDIN it cannot play (among other statements) instead of letting PGlite exit', async () => {
    const c = await raw();
    await c.write(fe.query('COPY items FROM STDIN; select 1'));
    const refused = await c.untilReady();
    expect(refused.find((m) => m.type === 'E')!.body.toString('utf8')).toContain('0A000');
    expect(status(refused)).toBe('I');
    await c.write(fe.query('select count(*) from items'));
    expect(firstColumn(await c.untilReady())).toEqual(['0']);
  });

  it('leaves other COPY forms and statements that only mention stdin to the backend', async () => {
    const c = await raw();
    await c.write(fe.query("select 'copy items from stdout' as s"));
    expect(firstColumn(await c.untilReady())).toEqual(['copy items from stdout']);
  });
});
