/** @module Shows a newly created (or rotated) key once, with the warning that it will not be shown again. */
import { Box, Text } from 'ink';
import type { CreatedKey } from '../../admin/types.js';
import { theme } from './theme.js';

export interface KeyRevealProps {
  created: Pick<CreatedKey, 'id' | 'name' | 'tier' | 'key'>;
  action?: 'created' | 'rotated';
}

/** The key sits on a line of its own, never wrapped in a border, so it copies cleanly. */
export function KeyReveal({ created, action = 'created' }: KeyRevealProps) {
  return (
    <Box flexDirection="column">
      <Text>
        <Text color={theme.ok}>✓ </Text>
        {action === 'rotated' ? 'Rotated key ' : 'Created key '}
        <Text bold>{created.name}</Text>
        <Text color={theme.muted}>
          {' '}
          (tier {created.tier}, id {created.id})
        </Text>
      </Text>
      <Box marginY={1} marginLeft={2}>
        <Text bold color={theme.secret} wrap="end">
          {created.key}
        </Text>
      </Box>
      <Text color={theme.warn}>⚠ Store it now, it will not be shown again.</Text>
    </Box>
  );
}
