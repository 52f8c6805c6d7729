/**
 * @module `lw providers test`: GET <base_url>/models with the key from the provider's environment
 * variable (5 s timeout), reporting status, latency and model ids. The key never reaches the message.
 */
import type { ProviderRow } from '../db/queries/providers.js';
import { redact } from '../lib/log.js';
import type { ProviderTestResult } from './types.js';

export const PROVIDER_TEST_TIMEOUT_MS = 5_000;
const ANTHROPIC_VERSION = '2023-06-01';

/** Model ids from an OpenAI (`data[].id`), Anthropic (`data[].id`) or Ollama-style (`models[].name`) list. */
function modelIds(body: unknown): string[] {
  if (!body || typeof body !== 'object') return [];
  const b = body as { data?: unknown; models?: unknown };
  const list = Array.isArray(b.data) ? b.data : Array.isArray(b.models) ? b.models : [];
  return list
    .map((m: unknown) => {
      if (!m || typeof m !== 'object') return m;
      const entry = m as { id?: unknown; name?: unknown };
      return entry.id ?? entry.name;
    })
    .filter((id): id is string => typeof id === 'string');
}

function upstreamMessage(text: string, body: unknown): string {
  const err = (body as { error?: unknown } | null)?.error;
  const nested = err && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  const msg = typeof err === 'string' ? err : nested;
  const raw = typeof msg === 'string' ? msg : text;
  return raw.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/**
 * @example
 * const r = await testProvider(row, process.env, fetch); // { ok: true, status: 200, models: [...], ... }
 */
export async function testProvider(
  p: ProviderRow,
  env: NodeJS.ProcessEnv,
  fetchImpl: typeof fetch,
): Promise<ProviderTestResult> {
  const key = p.apiKeyEnv ? env[p.apiKeyEnv] : undefined;
  const scrub = (s: string) => redact(key ? s.split(key).join('***') : s);
  const headers: Record<string, string> = { accept: 'application/json', ...p.headers };
  if (key && p.kind === 'anthropic') {
    headers['x-api-key'] = key;
    headers['anthropic-version'] = ANTHROPIC_VERSION;
  } else if (key) {
    headers['authorization'] = `Bearer ${key}`;
  }
  const note = p.apiKeyEnv && !key ? ` (note: environment variable ${p.apiKeyEnv} is not set)` : '';
  const url = `${p.baseUrl}/models`;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetchImpl(url, { headers, signal: AbortSignal.timeout(PROVIDER_TEST_TIMEOUT_MS) });
    const text = await res.text();
    const latency = elapsed();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: reported as text below
    }
    const models = res.ok ? modelIds(body) : [];
    const message = res.ok
      ? `HTTP ${res.status} from ${url}: ${models.length} model${models.length === 1 ? '' : 's'}${note}`
      : `HTTP ${res.status} from ${url}: ${upstreamMessage(text, body) || res.statusText}${note}`;
    return { provider: p.name, ok: res.ok, status: res.status, latency_ms: latency, models, message: scrub(message) };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError';
    const why = timedOut
      ? `no answer within ${PROVIDER_TEST_TIMEOUT_MS / 1000} s`
      : (err.cause?.code ?? err.cause?.message ?? err.message);
    return {
      provider: p.name,
      ok: false,
      status: null,
      latency_ms: elapsed(),
      models: [],
      message: scrub(`cannot reach ${url}: ${why}${note}`),
    };
  }
}
