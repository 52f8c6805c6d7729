/** @module Fixture loading and SSE parsing shared by the Anthropic translator tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../../src/daemon/translate/chat/types.js';
import {
  MessagesRequestSchema,
  MessagesResponseSchema,
  type MessagesRequest,
  type MessagesResponse,
} from '../../../src/daemon/translate/anthropic/schema.js';

const DIR = fileURLToPath(new URL('../../fixtures/anthropic/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(DIR + name, 'utf8');
}

/** `data: <json>` lines (one per line), stopping at `data: [DONE]`. */
function dataLines(name: string): unknown[] {
  const out: unknown[] = [];
  for (const line of fixtureText(name).split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const payload = line.slice('data: '.length);
    if (payload === '[DONE]') break;
    out.push(JSON.parse(payload));
  }
  return out;
}

/** Recorded Anthropic SSE events (`<scenario>.messages-events.txt`). */
export function messagesEvents(name: string): Array<{ type: string; [k: string]: unknown }> {
  return dataLines(`${name}.messages-events.txt`) as Array<{ type: string; [k: string]: unknown }>;
}

/** Recorded Chat Completions chunks (`<scenario>.chat-chunks.txt`). */
export function chatChunks(name: string): ChatChunk[] {
  return dataLines(`${name}.chat-chunks.txt`) as ChatChunk[];
}

/** A Messages request fixture, validated by the inbound schema as the route would. */
export function messagesRequest(name: string): MessagesRequest {
  return MessagesRequestSchema.parse(JSON.parse(fixtureText(`${name}.messages-request.json`)));
}

/** A Messages response fixture, validated as the provider would. */
export function messagesResponse(name: string): MessagesResponse {
  return MessagesResponseSchema.parse(JSON.parse(fixtureText(`${name}.messages-response.json`)));
}

export function chatRequest(name: string): ChatRequest {
  return JSON.parse(fixtureText(`${name}.chat-request.json`)) as ChatRequest;
}

export function chatResponse(name: string): ChatResponse {
  return JSON.parse(fixtureText(`${name}.chat-response.json`)) as ChatResponse;
}

export interface SseEvent {
  event: string;
  data: { type: string; [k: string]: unknown };
}

/** Parses `event: x\ndata: {...}\n\n` frames; fails if a frame is not exactly that shape. */
export function parseSse(text: string): SseEvent[] {
  if (text === '') return [];
  if (!text.endsWith('\n\n')) throw new Error(`SSE text must end with a blank line: ${JSON.stringify(text)}`);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      const m = /^event: ([a-z_]+)\ndata: (.+)$/.exec(frame);
      if (!m) throw new Error(`bad SSE frame: ${JSON.stringify(frame)}`);
      const data = JSON.parse(m[2] ?? '') as SseEvent['data'];
      if (data.type !== m[1]) throw new Error(`event ${m[1]} carries data.type ${data.type}`);
      return { event: m[1] ?? '', data };
    });
}

/** A fetch that answers every request with this SSE body, so SDKs consume translator output offline. */
export function sseFetch(body: string): typeof fetch {
  return () =>
    Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }));
}
