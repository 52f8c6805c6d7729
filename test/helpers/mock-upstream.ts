/**
 * A real HTTP server standing in for an OpenAI-compatible provider. By default it answers chat
 * completions like OpenAI (plain and streamed, usage only when `stream_options.include_usage`), with
 * known token counts; tests can script any other behaviour per request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | null;
}

export type MockHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface MockUpstream {
  url: string;
  port: number;
  requests: RecordedRequest[];
  handle(fn: MockHandler | null): void;
  close(): Promise<void>;
}

/** Usage the default handler reports, so tests can compare totals exactly. */
export const MOCK_USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
export const MOCK_WORDS = ['Hello', ' from', ' the', ' mock', ' upstream', '.', ''];

export function chatCompletion(model: string, content = 'Hello from the mock upstream.') {
  return {
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: MOCK_USAGE,
  };
}

export function chunk(model: string, delta: Record<string, unknown>, finish: string | null = null) {
  return { id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1700000000, model, choices: [{ index: 0, delta, finish_reason: finish }] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams `words` as chat chunks, `delayMs` apart, then usage if asked, then [DONE]. */
export async function streamChat(req: RecordedRequest, res: ServerResponse, opts: { words?: string[]; delayMs?: number; usage?: boolean } = {}) {
  const model = String(req.body?.['model'] ?? 'mock');
  const words = opts.words ?? MOCK_WORDS.slice(0, -1);
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const write = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
  write(chunk(model, { role: 'assistant', content: '' }));
  for (const w of words) {
    if (res.destroyed) return;
    if (opts.delayMs) await sleep(opts.delayMs);
    write(chunk(model, { content: w }));
  }
  write(chunk(model, {}, 'stop'));
  const so = req.body?.['stream_options'] as { include_usage?: boolean } | undefined;
  if (opts.usage ?? so?.include_usage) write({ ...chunk(model, {}), choices: [], usage: MOCK_USAGE });
  res.end('data: [DONE]\n\n');
}

export const defaultHandler: MockHandler = async (req, res) => {
  if (req.method === 'GET' && req.path.endsWith('/models')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'mock-model', object: 'model', created: 0, owned_by: 'mock' }] }));
    return;
  }
  if (req.body?.['stream']) return streamChat(req, res);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(chatCompletion(String(req.body?.['model'] ?? 'mock'))));
};

export async function startMockUpstream(initial: MockHandler | null = null): Promise<MockUpstream> {
  let handler: MockHandler | null = initial;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> | null = null;
      try {
        body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : null;
      } catch {
        body = null;
      }
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      requests.push(rec);
      Promise.resolve((handler ?? defaultHandler)(rec, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    handle(fn) {
      handler = fn;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
