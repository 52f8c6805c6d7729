import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { KeyReveal } from '../../../../src/cli/ui/KeyReveal.js';

const created = { id: 'key_1', name: 'alice', tier: 'beta', key: 'lw-' + 'A'.repeat(43) };

describe('KeyReveal', () => {
  it('shows the whole key on its own line with the store-it-now warning', () => {
    const out = stripVTControlCharacters(render(<KeyReveal created={created} />).lastFrame() ?? '');
    expect(out).toMatchInlineSnapshot(`
      "✓ Created key alice (tier beta, id key_1)

        lw-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA

      ⚠ Store it now, it will not be shown again."
    `);
    expect(out.split('\n')).toContain(`  ${created.key}`);
  });

  it('says rotated for a rotation', () => {
    const out = stripVTControlCharacters(render(<KeyReveal created={created} action="rotated" />).lastFrame() ?? '');
    expect(out).toContain('Rotated key alice');
    expect(out).toContain('it will not be shown again');
  });
});
