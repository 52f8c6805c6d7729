/**
 * @module The built-in `echo` upstream for `lw serve --demo`: a tiny OpenAI-compatible server on a
 * loopback port that answers chat (plain and streamed) by echoing the last user message, with usage.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

function lastUserText(body: { messages?: Array<{ role?: string; content?: unknown }> }): string {
  const msgs = body.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content.map((p: { text?: string }) => (typeof p?.text === 'string' ? p.text : '')).join('');
    }
  }
  return '';
}

export interface EchoServer {
  url: string;
  close(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url?.endsWith('/models')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'echo', object: 'model', created: 0, owned_by: 'lw' }] }));
        return;
      }
      let body: { model?: string; stream?: boolean; messages?: Array<{ role?: string; content?: unknown }> } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        res.statusCode = 400;
        res.end('{"error":{"message":"bad json"}}');
        return;
      }
      const text = `echo: ${lastUserText(body)}`;
      const words = text.split(/(?<= )/);
      const usage = { prompt_tokens: Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4)), completion_tokens: words.length, total_tokens: 0 };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      const base = { id: 'chatcmpl-echo', created: Math.floor(Date.now() / 1000), model: body.model ?? 'echo' };
      if (!body.stream) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage }));
        return;
      }
      res.setHeader('content-type', 'text/event-stream');
      const frame = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
      frame({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
      for (const w of words) frame({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: w }, finish_reason: null }] });
      frame({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      frame({ ...base, object: 'chat.completion.chunk', choices: [], usage });
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
