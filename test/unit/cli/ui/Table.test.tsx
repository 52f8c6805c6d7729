import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import { Fields, Table, type Column } from '../../../../src/cli/ui/Table.js';

interface Row {
  name: string;
  n: number;
  ok: boolean;
}

const columns: Column<Row>[] = [
  { header: 'NAME', value: (r) => r.name },
  { header: 'COUNT', value: (r) => String(r.n), align: 'right' },
  { header: 'STATE', value: (r) => (r.ok ? 'ok' : 'down'), tone: (r) => (r.ok ? 'ok' : 'error') },
];

const frame = (el: ReactElement) => stripVTControlCharacters(render(el).lastFrame() ?? '');

describe('Table', () => {
  it('aligns columns, right-aligns numbers', () => {
    const out = frame(<Table columns={columns} rows={[{ name: 'alpha', n: 5, ok: true }, { name: 'b', n: 1234, ok: false }]} />);
    expect(out).toMatchInlineSnapshot(`
      "NAME   COUNT  STATE
      alpha      5  ok
      b       1234  down"
    `);
    expect(out.split('\n')[2]).toMatch(/^b {7}1234 {2}down/);
  });

  it('shows the empty message instead of a bare header', () => {
    expect(frame(<Table columns={columns} rows={[]} empty="no keys yet" />)).toBe('no keys yet');
  });
});

describe('Fields', () => {
  it('aligns labels', () => {
    const out = frame(<Fields pairs={[['id', 'key_1'], ['last used', 'never']]} />);
    expect(out).toMatchInlineSnapshot(`
      "id:         key_1
      last used:  never"
    `);
  });
});
