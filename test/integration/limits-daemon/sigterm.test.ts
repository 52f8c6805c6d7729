/**
 * SIGTERM with streams in flight, on the real `lw serve` process (embedded store): the streams finish
 * with [DONE], new requests during the drain are refused, the process exits 0, and after a restart on
 * the same LW_HOME `lw usage --key K --json` shows the three streams' usage.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteService } from '../../../src/admin/remote.js';
import type { UsageReport } from '../../../src/admin/types.js';
import { lwPaths } from '../../../src/lib/paths.js';
import { MOCK_USAGE, startMockUpstream, streamChat, type MockUpstream } from '../../helpers/mock-upstream.js';
import { ROOT, serve, stop, type Served } from '../../helpers/serve-process.js';
import { chat, MODEL, PRICE_IN, PRICE_OUT } from './setup.js';

const WORDS = Array.from({ length: 20 }, (_, i) => ` w${i}`);

/** A request on a fresh connection: 'refused' when nothing accepts it, else the status. */
function probe(url: string, key: string): Promise<'refused' | number> {
  return new Promise((resolve) => {
    const u = new URL(`${url}/v1/chat/completions`);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve('refused'));
    req.end(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'late' }] }));
  });
}

describe('SIGTERM with streams in flight (lw serve subprocess, embedded store)', () => {
  let home: string;
  let up: MockUpstream;
  const running: Served[] = [];
  const env = { MOCK_KEY: 'sk-upstream-test', LW_LOG_LEVEL: 'info' };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'lw-sigterm-'));
    // 20 chunks 100 ms apart: each stream runs ~2 s
    up = await startMockUpstream((req, res) => streamChat(req, res, { words: WORDS, delayMs: 100 }));
  });
  afterAll(async () => {
    for (const s of running) await stop(s);
    await up?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('finishes the streams, refuses new requests, exits 0, and the usage is there after restart', { timeout: 120_000 }, async () => {
    const first = await serve(home, env);
    running.push(first);
    const token = readFileSync(lwPaths(home).adminToken, 'utf8').trim();
    const admin = createRemoteService({ url: first.url, token });
    await admin.providers.add({ name: 'mock', kind: 'openai', base_url: up.url, api_key_env: 'MOCK_KEY' });
    await admin.models.add({ id: MODEL, provider: 'mock', upstream_model: 'mock-model', price_in: PRICE_IN, price_out: PRICE_OUT });
    const { key } = await admin.keys.create({ name: 'sig-key' });

    // three streams, each in flight (first chunk received) when the signal arrives
    const streams = [false, true, false].map(async (includeUsage) => {
      const res = await chat(`${first.url}/v1`, key, { stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let text = dec.decode((await reader.read()).value, { stream: true });
      const started = text;
      const rest = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return text;
          text += dec.decode(value, { stream: true });
        }
      })();
      return { started, rest };
    });
    const inFlight = await Promise.all(streams);
    for (const s of inFlight) expect(s.started).toContain('data: ');
    expect(up.requests.filter((r) => r.body?.['stream'])).toHaveLength(3);

    first.child.kill('SIGTERM');
    const draining = Date.now();
    while (!first.stderr().includes('signal received') && Date.now() - draining < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(first.stderr()).toContain('signal received');
    // during the drain a new request is refused: no listener (connection refused) or 503
    const late = await probe(first.url, key);
    expect(late === 'refused' || late === 503).toBe(true);
    expect(first.child.exitCode).toBeNull();

    const texts = await Promise.all(inFlight.map((s) => s.rest));
    for (const t of texts) {
      expect(t.trimEnd().endsWith('data: [DONE]')).toBe(true);
      for (const w of WORDS) expect(t).toContain(`"content":"${w}"`);
    }
    expect(texts.filter((t) => t.includes('"usage"'))).toHaveLength(1);
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain('lw stopped');

    // restart on the same home: the three streams' usage was flushed before the exit
    const second = await serve(home, env);
    running.push(second);
    const cli = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'usage', '--key', 'sig-key', '--json'], {
      cwd: ROOT,
      env: { ...process.env, LW_HOME: home, HOME: home, NO_COLOR: '1' },
      timeout: 30_000,
    });
    const report = JSON.parse(cli.stdout) as UsageReport;
    expect(report.totals).toMatchObject({
      requests: 3,
      prompt_tokens: 3 * MOCK_USAGE.prompt_tokens,
      completion_tokens: 3 * MOCK_USAGE.completion_tokens,
      // 3 × (11 × 500,000 + 7 × 1,000,000) pico-USD
      cost: '0.0000375',
    });
    await stop(second);
    expect(second.child.exitCode).toBe(0);
  });
});
