/**
 * Which statements the embedded store's wire server plays as COPY FROM STDIN (src/db/server/copy.ts),
 * and the `/dev/blob` statement it runs instead; everything else goes to the backend untouched.
 */
import { describe, expect, it } from 'vitest';
import { copyErrorSql, CopyIn, MAX_COPY_BYTES, parseCopyFromStdin } from '../../../src/db/server/copy.js';

describe('parseCopyFromStdin', () => {
  it.each([
    ['COPY usage_events (ts, request_id, key_id) FROM STDIN', "COPY usage_events (ts, request_id, key_id) FROM '/dev/blob'", 3],
    ['copy items from stdin;', "COPY items FROM '/dev/blob'", 0],
    ['  COPY public."Odd ""name""" (a) FROM stdin WITH (FORMAT csv, HEADER true)', `COPY public."Odd ""name""" (a) FROM '/dev/blob' WITH (FORMAT csv, HEADER true)`, 1],
    ['COPY\nt\n(\n a,\n b\n)\nFROM\nSTDIN\n', "COPY t\n(\n a,\n b\n) FROM '/dev/blob'\n", 2],
  ])('%j → %j', (sql, blobSql, columns) => {
    expect(parseCopyFromStdin(sql)).toEqual({ blobSql, columns });
  });

  it.each([
    'COPY t TO STDOUT',
    "COPY t FROM '/tmp/file'",
    'COPY (select 1) TO STDOUT',
    "select 'copy t from stdin'",
    'COPY t FROM STDIN; DROP TABLE t',
    'COPY t FROM stdinx',
  ])('leaves %j to the backend', (sql) => {
    expect(parseCopyFromStdin(sql)).toBeNull();
  });
});

describe('copy errors and data', () => {
  it('raises with the SQLSTATE and the reason, quotes doubled and NULs dropped', () => {
    expect(copyErrorSql('57014', "it's\u0000 over")).toBe(
      "DO $lw_copy$ BEGIN RAISE EXCEPTION USING ERRCODE = '57014', MESSAGE = 'it''s over'; END $lw_copy$",
    );
  });

  it('gathers CopyData payloads and fails past the cap, keeping nothing', () => {
    const msg = (s: string) => Buffer.concat([Buffer.from('d\0\0\0\0'), Buffer.from(s)]);
    const copy = new CopyIn({ blobSql: 'x', columns: 0 });
    copy.add(msg('1\ta\n'));
    copy.add(msg('2\tb\n'));
    expect(copy.data().toString()).toBe('1\ta\n2\tb\n');
    copy.bytes = MAX_COPY_BYTES - 1;
    copy.add(msg('3\tc\n'));
    expect(copy.failure).toMatchObject({ sqlstate: '54000' });
    expect(copy.chunks).toHaveLength(0);
  });
});
