/**
 * Shared pieces of the provider suites (conformance, fallback, auto, sync): plain-fetch chat calls,
 * the usage event of a request, scripted upstream failures, a port nobody listens on, and a
 * controllable clock for deployment health.
 */
import type { ServerResponse } from 'node:http';
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { DeploymentHealth } from '../../../src/daemon/pipeline/health.js';
import { usageEvents } from '../../../src/db/schema.js';
import type { TestDaemon } from '../../helpers/daemon.js';
import type { MockHandler } from '../../helpers/mock-upstream.js';
export { closedPort } from '../../helpers/net.js';

export type UsageEventRow = typeof usageEvents.$inferSelect;

/** POST /v1/chat/completions with fetch; default body: one user message. */
export function chat(gw: TestDaemon, key: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

/** The one usage event of a request (by the x-request-id the daemon answered with). */
export async function usageOf(gw: TestDaemon, requestId: string | null | undefined): Promise<UsageEventRow> {
  expect(requestId).toMatch(/^req_/);
  await gw.daemon.deps.usage.flush();
  const rows = await gw.daemon.store.db.select().from(usageEvents).where(eq(usageEvents.requestId, requestId!));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** Answers every request with `status` and an OpenAI-style error body (and Retry-After on 429). */
export function failWith(status: number, message = `mock failure ${status}`, body?: unknown): MockHandler {
  return (_req, res: ServerResponse) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 429) headers['retry-after'] = '7';
    res.writeHead(status, headers);
    res.end(JSON.stringify(body ?? { error: { message, type: 'mock_error', code: null } }));
  };
}

/** Never answers (the connection stays open until the mock closes). */
export const hang: MockHandler = () => new Promise<void>(() => {});


/** Gives the daemon a fresh DeploymentHealth on a clock the test moves. */
export function manualHealth(gw: TestDaemon): { advance(ms: number): void; health: DeploymentHealth } {
  let now = Date.now();
  const health = new DeploymentHealth(() => now);
  gw.daemon.deps.health = health;
  return { health, advance: (ms) => void (now += ms) };
}
