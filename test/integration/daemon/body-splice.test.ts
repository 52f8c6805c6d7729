/**
 * The passthrough forwards the client's own body bytes with only the top-level members it must change
 * spliced in (model, stream_options, encoding_format, dimensions), through the real daemon; bodies it
 * cannot prove equivalent are re-serialised. The upstream here records the exact bytes it received.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';

const USAGE = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };

describe('client body bytes forwarded upstream', () => {
  let server: Server;
  let gw: TestDaemon;
  let key: string;
  const received: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        received.push(text);
        const body = JSON.parse(text) as { model: string; stream?: boolean };
        if (req.url?.endsWith('/embeddings')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }], model: body.model, usage: { prompt_tokens: 2, total_tokens: 2 } }));
        } else if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: 'stop' }] };
          res.end(`data: ${JSON.stringify(chunk)}\n\ndata: ${JSON.stringify({ ...chunk, choices: [], usage: USAGE })}\n\ndata: [DONE]\n\n`);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: USAGE }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    gw = await startTestDaemon({ env: { UP_KEY: 'sk-up' } });
    await gw.admin.providers.add({ name: 'up', kind: 'openai', base_url: `http://127.0.0.1:${port}/v1`, api_key_env: 'UP_KEY' });
    await gw.admin.models.add({ id: 'chat-m', provider: 'up', upstream_model: 'up-chat' });
    await gw.admin.models.add({ id: 'text-embedding-3-small', kind: 'embedding', provider: 'up', upstream_model: 'up-emb' });
    key = (await gw.admin.keys.create({ name: 'k' })).key;
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((r) => server?.close(r));
  });

  async function post(path: string, body: string): Promise<Response> {
    const res = await fetch(`${gw.baseURL}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    return res;
  }

  it('sends a chat body as the client wrote it, with only the top-level model replaced', async () => {
    const body = `{\n  "model" : "chat-m",\n  "messages": [{"role": "user", "content": "say \\"model\\": \\u00e9"}],\n  "metadata": {"model": "chat-m"}\n}\n`;
    await post('/chat/completions', body);
    expect(received.at(-1)).toBe(body.replace('"chat-m",', '"up-chat",'));
  });

  it('appends stream_options to a stream that did not ask for usage', async () => {
    const body = '{"model":"chat-m", "messages":[{"role":"user","content":"hi"}], "stream":true }';
    await post('/chat/completions', body);
    expect(received.at(-1)).toBe('{"model":"up-chat", "messages":[{"role":"user","content":"hi"}], "stream":true,"stream_options":{"include_usage":true} }');
  });

  it('re-serialises a body whose model key occurs twice (JSON.parse keeps the last)', async () => {
    await post('/chat/completions', '{"model":"nope", "messages":[{"role":"user","content":"hi"}], "model":"chat-m"}');
    expect(received.at(-1)).toBe('{"model":"up-chat","messages":[{"role":"user","content":"hi"}]}');
  });

  it('sends an embeddings body with the model replaced and floats asked for', async () => {
    await post('/embeddings', '{ "input": "hello", "model": "text-embedding-3-small", "dimensions": null }');
    expect(received.at(-1)).toBe('{ "input": "hello", "model": "up-emb","encoding_format":"float" }');
    await post('/embeddings', '{"model":"text-embedding-3-small","input":["a"],"encoding_format":"base64","dimensions":64}');
    expect(received.at(-1)).toBe('{"model":"up-emb","input":["a"],"encoding_format":"float","dimensions":64}');
  });
});
