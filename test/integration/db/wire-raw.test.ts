/**
 * The embedded store's protocol server byte by byte (a hand-written frontend on a net.Socket): the
 * SSLRequest refused with 'N', a start-up packet and messages split across many writes, several
 * messages coalesced in one write, an extended-protocol run ending in Flush holding the session, and a
 * connection dropped mid-transaction (also while the session ignores everything until Sync after an
 * error) rolled back before anyone else runs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fe, firstColumn, RawClient, status } from '../../helpers/pg-raw.js';
import { startWireStore, type WireStore } from '../../helpers/wire-store.js';

describe('store protocol server, raw bytes', () => {
  let server: WireStore;
  const open: RawClient[] = [];
  const connect = async () => {
    const c = await RawClient.connect(server.socketPath);
    open.push(c);
    return c;
  };
  const count = async (c: RawClient) => {
    await c.write(fe.query('select count(*) from log'));
    return firstColumn(await c.untilReady())[0];
  };

  beforeAll(async () => {
    server = await startWireStore();
    await server.pglite.exec('create table log (who text not null)');
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.destroy();
    await server.pglite.exec('truncate log');
  });
  afterAll(async () => {
    await server.close();
  });

  it("refuses SSL with 'N' and answers the start-up: AuthenticationOk, parameters, key data, ReadyForQuery 'I'", async () => {
    const c = await connect();
    const msgs = await c.start({ ssl: true });
    expect(msgs[0]).toMatchObject({ type: 'R' });
    expect(msgs[0]!.body.readInt32BE(0)).toBe(0);
    const params = Object.fromEntries(
      msgs.filter((m) => m.type === 'S').map((m) => m.body.toString('utf8').split('\0').slice(0, 2)),
    ) as Record<string, string>;
    expect(params).toMatchObject({ server_version: '17.5', client_encoding: 'UTF8', DateStyle: 'ISO, MDY', integer_datetimes: 'on' });
    expect(msgs.map((m) => m.type).slice(-2)).toEqual(['K', 'Z']);
    expect(status(msgs)).toBe('I');
  });

  it('frames a start-up packet and messages split across many writes', async () => {
    const c = await connect();
    await c.start({ pieces: 3 });
    await c.writeInPieces(fe.query("select 'split ' || 'across writes'"), 1);
    expect(firstColumn(await c.untilReady())).toEqual(['split across writes']);
    const extended = Buffer.concat([fe.parse('', 'select 40 + 2'), fe.bind(''), fe.execute(), fe.sync()]);
    await c.writeInPieces(extended, 7);
    const msgs = await c.untilReady();
    expect(msgs.map((m) => m.type)).toEqual(['1', '2', 'D', 'C', 'Z']);
    expect(firstColumn(msgs)).toEqual(['42']);
  });

  it('answers messages coalesced in one write, in order', async () => {
    const c = await connect();
    await c.start();
    await c.write(
      Buffer.concat([
        fe.query('select 1'),
        fe.parse('', 'select 2'),
        fe.bind(''),
        fe.execute(),
        fe.sync(),
        fe.query('selec 3'),
        fe.query('select 4'),
      ]),
    );
    const msgs = await c.untilReady(4);
    expect(firstColumn(msgs)).toEqual(['1', '2', '4']);
    expect(msgs.filter((m) => m.type === 'E')).toHaveLength(1);
    expect(status(msgs)).toBe('I');
  });

  it('keeps the session for a connection between Flush and Sync', async () => {
    const a = await connect();
    const b = await connect();
    await a.start();
    await b.start();
    await a.write(Buffer.concat([fe.query('begin'), fe.parse('', "insert into log values ('a')"), fe.bind(''), fe.flush()]));
    await a.read((m) => m.some((x) => x.type === '2')); // … BindComplete: a is mid extended-protocol
    await b.write(fe.query("insert into log values ('b')"));
    await new Promise((r) => setTimeout(r, 100));
    await a.write(Buffer.concat([fe.execute(), fe.sync(), fe.query('rollback')]));
    const aMsgs = await a.untilReady(2);
    expect(status(aMsgs)).toBe('I');
    // b's insert ran after a's rollback, not inside a's transaction
    expect(status(await b.untilReady())).toBe('I');
    expect(await count(b)).toBe('1');
  });

  it('rolls back a connection dropped mid-transaction before serving the next one', async () => {
    const a = await connect();
    const b = await connect();
    await a.start();
    await b.start();
    await a.write(fe.query("begin; insert into log values ('lost')"));
    expect(status(await a.untilReady())).toBe('T');
    await b.write(fe.query('select count(*) from log'));
    a.destroy();
    expect(firstColumn(await b.untilReady())).toEqual(['0']);
    // the session is idle: b's own transaction begins and commits
    await b.write(fe.query("begin; insert into log values ('kept'); commit"));
    expect(status(await b.untilReady())).toBe('I');
    expect(await count(b)).toBe('1');
  });

  it('rolls back a connection dropped while the session skips to Sync after an error', async () => {
    const a = await connect();
    const b = await connect();
    await a.start();
    await b.start();
    await a.write(fe.query("begin; insert into log values ('lost')"));
    expect(status(await a.untilReady())).toBe('T');
    await a.write(Buffer.concat([fe.parse('', 'selec broken'), fe.flush()]));
    await a.read((m) => m.some((x) => x.type === 'E'));
    a.destroy();
    expect(await count(b)).toBe('0');
    await b.write(fe.query("insert into log values ('kept')"));
    expect(status(await b.untilReady())).toBe('I');
    expect(await count(b)).toBe('1');
  });

  it('closes the connection on Terminate and rolls back what it left open', async () => {
    const a = await connect();
    await a.start();
    await a.write(Buffer.concat([fe.query("begin; insert into log values ('x')"), fe.terminate()]));
    await a.untilReady();
    await expect(a.read(() => false)).rejects.toThrow('closed');
    const b = await connect();
    await b.start();
    expect(await count(b)).toBe('0');
  });
});
