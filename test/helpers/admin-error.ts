/** Asserts that an admin call fails with an AdminError of this status and message. */
import { expect } from 'vitest';
import { AdminError } from '../../src/admin/types.js';

export async function rejects(p: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AdminError);
  expect((err as AdminError).status).toBe(status);
  expect((err as AdminError).message).toMatch(message);
}
