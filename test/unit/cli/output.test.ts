import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Column } from '../../../src/cli/format.js';
import { createOutput, type InkView } from '../../../src/cli/output.js';
import { loadInkKit } from '../../../src/cli/ui/load.js';
import { Capture } from './capture.js';

const cols: Column<{ a: string; n: number }>[] = [
  { header: 'A', value: (r) => r.a },
  { header: 'N', value: (r) => String(r.n), align: 'right', tone: () => 'ok' },
];

const kit = await loadInkKit();
const text = (t: string, color?: string): InkView => (k) => k.createElement(k.Text, color ? { color } : null, t);

function setup(json: boolean, isTTY: boolean, withKit = true) {
  const stdout = new Capture();
  const stderr = new Capture();
  const out = createOutput({ json, isTTY, stdout, stderr, columns: 60, kit: withKit ? kit : null });
  return { out, stdout, stderr };
}

describe('createOutput', () => {
  it('--json: only json() reaches stdout, exactly the value; warnings go to stderr', () => {
    const { out, stdout, stderr } = setup(true, true);
    expect(out.mode).toBe('json');
    out.table(cols, [{ a: 'x', n: 1 }]);
    out.line('hello');
    out.success('done');
    out.renderInk(text('ink'));
    out.json({ a: 1, b: [true, null] });
    out.warn('careful');
    expect(JSON.parse(stdout.text)).toEqual({ a: 1, b: [true, null] });
    expect(stderr.text).toBe('warning: careful\n');
  });

  it('plain: aligned text columns and no ANSI codes, even for ink elements', () => {
    const { out, stdout } = setup(false, false);
    expect(out.mode).toBe('plain');
    out.table(cols, [{ a: 'xyz', n: 1 }, { a: 'b', n: 100 }]);
    out.success('done');
    out.renderInk(text('red text', 'red'));
    out.fields([['id', '1'], ['name', 'x']]);
    out.json({ ignored: true });
    expect(stdout.text).toBe('A      N\nxyz    1\nb    100\ndone\nred text\nid:    1\nname:  x\n');
  });

  it('plain: an empty table prints the empty message', () => {
    const { out, stdout } = setup(false, false);
    out.table(cols, [], 'no rows');
    expect(stdout.text).toBe('no rows\n');
  });

  it('TTY: tables render through ink with the same content', () => {
    const { out, stdout } = setup(false, true);
    expect(out.mode).toBe('ink');
    out.table(cols, [{ a: 'xyz', n: 1 }]);
    out.success('done');
    const text = stripVTControlCharacters(stdout.text);
    expect(text).toBe('A    N\nxyz  1\n✓ done\n');
  });

  it('a TTY without the ink kit (lw serve) gets plain text, and ink views print nothing', () => {
    const { out, stdout } = setup(false, true, false);
    expect(out.mode).toBe('plain');
    out.table(cols, [{ a: 'xyz', n: 1 }]);
    out.renderInk(text('never'));
    expect(stdout.text).toBe('A    N\nxyz  1\n');
  });

  it('error prints error: and hint: lines on stderr', () => {
    const { out, stderr, stdout } = setup(false, true);
    out.error('it broke', 'try again');
    expect(stderr.text).toBe('error: it broke\nhint: try again\n');
    expect(stdout.text).toBe('');
  });

  it('live: on a TTY renders in place and stops; elsewhere prints each update', () => {
    const tty = setup(false, true);
    const view = tty.out.live(text('first'));
    view.update(text('second'));
    view.stop();
    expect(tty.stdout.text).toContain('second');
    const plain = setup(false, false);
    const v2 = plain.out.live(text('one'));
    v2.update(text('two'));
    v2.stop();
    expect(plain.stdout.text).toBe('one\ntwo\n');
  });
});
