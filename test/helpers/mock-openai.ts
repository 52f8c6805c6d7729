/**
 * Chat Completions tool calls for the mock upstream (`mock-upstream.ts`): when a request offers tools
 * and its last message is not a tool result, the mock calls `get_weather` (JSON, or streamed as
 * OpenAI does: the call's id and name first, then its arguments in fragments); otherwise it answers
 * like the default handler.
 */
import type { ServerResponse } from 'node:http';
import { chunk, defaultHandler, MOCK_USAGE, type MockHandler, type RecordedRequest } from './mock-upstream.js';

export const OPENAI_TOOL_CALL = { id: 'call_mock_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' };

export function wantsToolCall(body: Record<string, unknown> | null): boolean {
  const tools = body?.['tools'];
  if (!Array.isArray(tools) || tools.length === 0) return false;
  const messages = body?.['messages'] as Array<{ role?: string }> | undefined;
  return messages?.at(-1)?.role !== 'tool';
}

function streamToolCall(req: RecordedRequest, res: ServerResponse): void {
  const model = String(req.body?.['model'] ?? 'mock');
  const { id, name, arguments: args } = OPENAI_TOOL_CALL;
  const write = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  write(chunk(model, { role: 'assistant', content: null, tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] }));
  const cut = Math.floor(args.length / 2);
  for (const part of [args.slice(0, cut), args.slice(cut)]) write(chunk(model, { tool_calls: [{ index: 0, function: { arguments: part } }] }));
  write(chunk(model, {}, 'tool_calls'));
  const so = req.body?.['stream_options'] as { include_usage?: boolean } | undefined;
  if (so?.include_usage) write({ ...chunk(model, {}), choices: [], usage: MOCK_USAGE });
  res.end('data: [DONE]\n\n');
}

/** The default mock plus tool calls. */
export const openaiToolsHandler: MockHandler = (req, res) => {
  if (req.method !== 'POST' || !wantsToolCall(req.body)) return defaultHandler(req, res);
  if (req.body?.['stream']) return streamToolCall(req, res);
  const { id, name, arguments: args } = OPENAI_TOOL_CALL;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: 'chatcmpl-mock',
      object: 'chat.completion',
      created: 1700000000,
      model: String(req.body?.['model'] ?? 'mock'),
      choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: args } }] }, finish_reason: 'tool_calls' }],
      usage: MOCK_USAGE,
    }),
  );
};
