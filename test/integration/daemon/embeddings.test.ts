/**
 * POST /v1/embeddings through the real daemon to a mock OpenAI-compatible upstream returning float
 * vectors, driven by the `openai` SDK: input shapes, base64 made by the gateway (exact float32 bytes),
 * `dimensions` by model, every seed-002 limit as a 400, and the usage event, on PGlite and Postgres.
 */
import { eq } from 'drizzle-orm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64ToFloats } from '../../../src/daemon/embeddings/base64.js';
import { usageEvents } from '../../../src/db/schema.js';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { defaultHandler, startMockUpstream, type MockHandler, type MockUpstream } from '../../helpers/mock-upstream.js';
import { backends } from '../../helpers/pg.js';

const UPSTREAM_USAGE = { prompt_tokens: 17, total_tokens: 17 };

/** Values that float32 cannot hold exactly, so float vs base64 is a visible difference. */
function vectorFor(item: number, dims: number): number[] {
  return Array.from({ length: dims }, (_, k) => (item + 1) / 3 + k / 7 - 0.5);
}

let withUsage = true;
const embeddingsHandler: MockHandler = (req, res) => {
  if (!req.path.endsWith('/embeddings')) return defaultHandler(req, res);
  const input = req.body?.['input'];
  const items = typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'number') ? [input] : (input as unknown[]);
  const dims = typeof req.body?.['dimensions'] === 'number' ? req.body['dimensions'] : 8;
  res.writeHead(200, { 'content-type': 'application/json' });
  if (input === 'exact bytes') {
    // numbers as no JSON.stringify would write them: a relay keeps them, re-serialising would not
    return void res.end(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.10,-2.50e-3]}],"model":"${String(req.body?.['model'])}","usage":{"prompt_tokens":5,"total_tokens":5}}`);
  }
  res.end(JSON.stringify({
    object: 'list',
    data: items.map((_, i) => ({ object: 'embedding', index: i, embedding: vectorFor(i, dims) })),
    model: String(req.body?.['model']),
    ...(withUsage ? { usage: UPSTREAM_USAGE } : {}),
  }));
};

describe.each(backends())('embeddings on %s', (backend) => {
  let up: MockUpstream;
  let gw: TestDaemon;
  let client: OpenAI;

  beforeAll(async () => {
    up = await startMockUpstream(embeddingsHandler);
    gw = await startTestDaemon({ backend, env: { EMB_KEY: 'sk-emb-upstream' } });
    await gw.admin.providers.add({ name: 'oai', kind: 'openai', base_url: up.url, api_key_env: 'EMB_KEY' });
    await gw.admin.providers.add({ name: 'claude', kind: 'anthropic', base_url: up.url });
    // capabilities (dimensions 1–1536, 8,192 tokens) come from the built-in catalog for these ids
    await gw.admin.models.add({ id: 'text-embedding-3-small', kind: 'embedding', provider: 'oai', upstream_model: 'emb-small-upstream', price_in: '0.02', price_out: '0' });
    await gw.admin.models.add({ id: 'text-embedding-ada-002', kind: 'embedding', provider: 'oai' });
    await gw.admin.models.add({ id: 'claude-embed', kind: 'embedding', provider: 'claude' });
    await gw.admin.models.add({ id: 'gpt-chat', provider: 'oai' });
    const key = (await gw.admin.keys.create({ name: 'embedder' })).key;
    client = new OpenAI({ apiKey: key, baseURL: gw.baseURL, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  async function usageOf(requestId: string | null) {
    await gw.daemon.deps.usage.flush();
    const rows = await gw.daemon.store.db.select().from(usageEvents).where(eq(usageEvents.requestId, requestId ?? ''));
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  async function rejects(params: OpenAI.EmbeddingCreateParams): Promise<InstanceType<typeof OpenAI.BadRequestError>> {
    const before = up.requests.length;
    const err = await client.embeddings.create(params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(up.requests.length).toBe(before);
    return err as InstanceType<typeof OpenAI.BadRequestError>;
  }

  it('embeds a string (SDK default base64, decoded by the SDK) with the public model id and usage', async () => {
    const { data: res, response } = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'The quick brown fox' }).withResponse();
    expect(res.model).toBe('text-embedding-3-small');
    expect(res.object).toBe('list');
    expect(res.usage).toEqual(UPSTREAM_USAGE);
    expect(res.data).toHaveLength(1);
    expect(res.data[0]!.embedding).toEqual(vectorFor(0, 8).map(Math.fround));
    const sent = up.requests.at(-1)!;
    expect(sent.path).toBe('/v1/embeddings');
    expect(sent.headers.authorization).toBe('Bearer sk-emb-upstream');
    expect(sent.body).toEqual({ model: 'emb-small-upstream', input: 'The quick brown fox', encoding_format: 'float' });
    const row = await usageOf(response.headers.get('x-request-id'));
    expect(row).toMatchObject({ endpoint: 'embeddings', status: 200, modelId: 'text-embedding-3-small', promptTokens: 17, completionTokens: 0, estimated: false });
    expect(row.costPico).toBe(17n * 20_000n);
  });

  it('returns floats exactly as the upstream sent them for encoding_format float, string[] input', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b', 'c'], encoding_format: 'float' });
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2]);
    res.data.forEach((d, i) => expect(d.embedding).toEqual(vectorFor(i, 8)));
    expect(up.requests.at(-1)!.body?.['input']).toEqual(['a', 'b', 'c']);
  });

  it('converts to base64 itself: little-endian float32 bytes that decode to the rounded floats', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['x', 'y'], encoding_format: 'base64' });
    expect(up.requests.at(-1)!.body?.['encoding_format']).toBe('float');
    res.data.forEach((d, i) => {
      expect(typeof d.embedding).toBe('string');
      const decoded = base64ToFloats(d.embedding as unknown as string);
      expect(decoded).toEqual(vectorFor(i, 8).map(Math.fround));
      const bytes = Buffer.from(d.embedding as unknown as string, 'base64');
      expect(bytes.readFloatLE(4)).toBe(Math.fround(vectorFor(i, 8)[1]!));
    });
  });

  it('accepts token arrays and token-array batches as they are', async () => {
    const one = await client.embeddings.create({ model: 'text-embedding-3-small', input: [1, 2, 3], encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    expect(up.requests.at(-1)!.body?.['input']).toEqual([1, 2, 3]);
    const batch = await client.embeddings.create({ model: 'text-embedding-3-small', input: [[1, 2], [3, 4, 5]], encoding_format: 'float' });
    expect(batch.data).toHaveLength(2);
    expect(up.requests.at(-1)!.body?.['input']).toEqual([[1, 2], [3, 4, 5]]);
  });

  it('passes dimensions where the model supports them, and refuses them with a 400 elsewhere', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi', dimensions: 256, encoding_format: 'float' });
    expect(res.data[0]!.embedding).toHaveLength(256);
    expect(up.requests.at(-1)!.body?.['dimensions']).toBe(256);
    const tooMany = await rejects({ model: 'text-embedding-3-small', input: 'hi', dimensions: 2000 });
    expect(tooMany.param).toBe('dimensions');
    expect(tooMany.message).toContain('1 to 1,536 dimensions');
    const ada = await rejects({ model: 'text-embedding-ada-002', input: 'hi', dimensions: 512 });
    expect(ada.message).toContain("does not support the 'dimensions' parameter");
    const plain = await client.embeddings.create({ model: 'text-embedding-ada-002', input: 'hi' });
    expect(plain.data).toHaveLength(1);
  });

  it('turns every seed-002 limit into a 400 naming it, before any upstream call', async () => {
    const items = await rejects({ model: 'text-embedding-3-small', input: Array.from({ length: 2049 }, () => 'x') });
    expect(items.message).toContain('2,049 items; the maximum is 2,048 items per request');
    const longText = await rejects({ model: 'text-embedding-3-small', input: ['ok', ' hello'.repeat(8193)] });
    expect(longText.message).toContain('input[1] has more than 8,192 tokens');
    const longTokens = await rejects({ model: 'text-embedding-3-small', input: Array.from({ length: 8193 }, () => 42) });
    expect(longTokens.message).toContain('8,193 tokens; the maximum is 8,192 tokens per input');
    const total = await rejects({ model: 'text-embedding-3-small', input: Array.from({ length: 40 }, () => ' hello'.repeat(8000)) });
    expect(total.message).toContain('the maximum is 300,000 tokens per request');
    const format = await rejects({ model: 'text-embedding-3-small', input: 'x', encoding_format: 'binary' as 'float' });
    expect(format.param).toBe('encoding_format');
    const empty = await rejects({ model: 'text-embedding-3-small', input: [] });
    expect(empty.message).toContain('empty array');
    const mixed = await rejects({ model: 'text-embedding-3-small', input: ['a', [1]] as unknown as string[] });
    expect(mixed.message).toContain('do not mix types');
  });

  it('relays float answers byte for byte, with only the model replaced by the public id', async () => {
    const { data: res, response } = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' }).withResponse();
    expect(res.model).toBe('text-embedding-3-small');
    expect(res.usage).toEqual(UPSTREAM_USAGE);
    expect(await usageOf(response.headers.get('x-request-id'))).toMatchObject({ promptTokens: 17, estimated: false });
    const raw = await fetch(`${gw.baseURL}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input: 'exact bytes', encoding_format: 'float' }),
    });
    expect(await raw.text()).toBe(
      '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.10,-2.50e-3]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5}}',
    );
    expect(await usageOf(raw.headers.get('x-request-id'))).toMatchObject({ promptTokens: 5, estimated: false });
  });

  it('writes a public id that fits over the upstream name, in place: spaces pad a shorter one', async () => {
    await gw.admin.models.add({ id: 'emb-short', kind: 'embedding', provider: 'oai', upstream_model: 'a-longer-upstream-name', price_in: '0', price_out: '0' });
    const exact = async (model: string) => {
      const res = await fetch(`${gw.baseURL}/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, input: 'exact bytes', encoding_format: 'float' }),
      });
      expect(res.status).toBe(200);
      return res.text();
    };
    const head = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.10,-2.50e-3]}],"model":';
    const tail = ',"usage":{"prompt_tokens":5,"total_tokens":5}}';
    const short = await exact('emb-short');
    expect(short).toBe(`${head}"emb-short"${' '.repeat('a-longer-upstream-name'.length - 'emb-short'.length)}${tail}`);
    expect(JSON.parse(short)).toMatchObject({ model: 'emb-short', usage: { prompt_tokens: 5 } });
    expect(await exact('text-embedding-ada-002')).toBe(`${head}"text-embedding-ada-002"${tail}`);
    // a public id longer than the upstream name: the answer up to the name, then the id and the tail
    await gw.admin.models.add({ id: 'emb-with-a-much-longer-public-id', kind: 'embedding', provider: 'oai', upstream_model: 'e', price_in: '0', price_out: '0' });
    expect(await exact('emb-with-a-much-longer-public-id')).toBe(`${head}"emb-with-a-much-longer-public-id"${tail}`);
  });

  it('counts tokens with the tokenizer when the upstream reports no usage', async () => {
    withUsage = false;
    try {
      const { data: res, response } = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['hello world', 'hi'] }).withResponse();
      expect(res.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
      expect(await usageOf(response.headers.get('x-request-id'))).toMatchObject({ promptTokens: 3, estimated: false });
      // floats asked for, but no usage to relay: the full path adds it
      const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello world', encoding_format: 'float' });
      expect(floats.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
      expect(floats.data[0]!.embedding).toEqual(vectorFor(0, 8));
    } finally {
      withUsage = true;
    }
  });

  it('refuses models without an OpenAI-compatible upstream and chat models', async () => {
    const anth = await rejects({ model: 'claude-embed', input: 'x' });
    expect(anth.message).toContain('has no embeddings upstream');
    const chat = await rejects({ model: 'gpt-chat', input: 'x' });
    expect(chat.message).toContain('is not an embedding model');
  });
});
