/**
 * Handlers that make the mock upstream (`mock-upstream.ts`) speak Anthropic's Messages API: JSON and
 * SSE (`message_start`, `content_block_*`, `message_delta`, `message_stop`), text or one tool call,
 * with known usage including cache read/write tokens.
 */
import type { ServerResponse } from 'node:http';
import type { MockHandler, RecordedRequest } from './mock-upstream.js';

/** Usage the mock reports: input 21 uncached + 5 cache read + 3 cache write, 9 output. */
export const ANTHROPIC_USAGE = { input_tokens: 21, cache_read_input_tokens: 5, cache_creation_input_tokens: 3, output_tokens: 9 };
export const ANTHROPIC_WORDS = ['Hello', ' from', ' Claude', '.'];
export const ANTHROPIC_TOOL = { id: 'toolu_mock_1', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } };

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** A tool call when the request offers tools and its last message is not a tool result; text otherwise. */
export function wantsTool(body: Record<string, unknown> | null): boolean {
  const tools = body?.['tools'];
  if (!Array.isArray(tools) || tools.length === 0) return false;
  const messages = body?.['messages'] as Array<{ content?: unknown }> | undefined;
  const last = messages?.at(-1)?.content;
  return !(Array.isArray(last) && last.some((b: { type?: string }) => b?.type === 'tool_result'));
}

function blocksFor(body: Record<string, unknown> | null): Block[] {
  if (wantsTool(body)) return [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', ...ANTHROPIC_TOOL }];
  return [{ type: 'text', text: ANTHROPIC_WORDS.join('') }];
}

export function anthropicMessage(model: string, content: Block[], stop = 'end_turn') {
  return { id: 'msg_mock', type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null, usage: ANTHROPIC_USAGE };
}

export function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The SSE the mock writes for these blocks: exactly these frames, in order. */
export function anthropicStreamFrames(model: string, blocks: Block[]): string[] {
  const { output_tokens: _out, ...startUsage } = ANTHROPIC_USAGE;
  const frames = [
    sse('message_start', {
      message: { id: 'msg_mock', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...startUsage, output_tokens: 1 } },
    }),
    sse('ping', {}),
  ];
  blocks.forEach((b, index) => {
    if (b.type === 'text') {
      frames.push(sse('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      const words = b.text === ANTHROPIC_WORDS.join('') ? ANTHROPIC_WORDS : [b.text];
      for (const w of words) frames.push(sse('content_block_delta', { index, delta: { type: 'text_delta', text: w } }));
    } else {
      frames.push(sse('content_block_start', { index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } }));
      const json = JSON.stringify(b.input);
      const cut = Math.floor(json.length / 2);
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        frames.push(sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: part } }));
      }
    }
    frames.push(sse('content_block_stop', { index }));
  });
  const stop = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  frames.push(sse('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: ANTHROPIC_USAGE.output_tokens } }));
  frames.push(sse('message_stop', {}));
  return frames;
}

export function streamAnthropic(req: RecordedRequest, res: ServerResponse): void {
  const model = String(req.body?.['model'] ?? 'mock');
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const f of anthropicStreamFrames(model, blocksFor(req.body))) res.write(f);
  res.end();
}

/** Answers POST /messages like Anthropic (JSON or SSE, text or a tool call). */
export const anthropicHandler: MockHandler = (req, res) => {
  if (!req.path.endsWith('/messages')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no route ${req.path}` } }));
    return;
  }
  if (req.body?.['stream']) return streamAnthropic(req, res);
  const blocks = blocksFor(req.body);
  const stop = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(anthropicMessage(String(req.body?.['model'] ?? 'mock'), blocks, stop)));
};
