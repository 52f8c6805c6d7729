/**
 * @module Fixture loading and SSE parsing shared by the Responses translator tests.
 * test/fixtures/responses/: `<s>.request.json` (client body, codex ones trimmed from requests the real
 * codex 0.169 binary sent) → `<s>.chat-request.json` (exact upstream body); `<s>.chat-response.json` →
 * `<s>.response.json`; `<s>.chat-chunks.txt` (one upstream `data:` line per line) → `<s>.events.json`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChatChunk } from '../../../src/daemon/translate/chat/types.js';
import type { ResponseOpts } from '../../../src/daemon/translate/responses/from-chat.js';
import { responsesRequestSchema } from '../../../src/daemon/translate/responses/schema.js';
import type { ResponsesRequest } from '../../../src/daemon/translate/responses/schema.js';
import { responsesToChat } from '../../../src/daemon/translate/responses/to-chat.js';
import type { ResponsesContext } from '../../../src/daemon/translate/responses/to-chat.js';

const DIR = fileURLToPath(new URL('../../fixtures/responses/', import.meta.url));

/** The identity every fixture's expected output was written with. */
export const OPTS: ResponseOpts = { id: 'resp_0d9c41f2', createdAt: 1763900000, model: 'coder' };

export const UPSTREAM_MODEL = 'qwen/qwen3-coder';

export function fixtureText(name: string): string {
  return readFileSync(DIR + name, 'utf8');
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** A validated Responses request fixture (`<scenario>.request.json`). */
export function requestFixture(scenario: string): ResponsesRequest {
  return responsesRequestSchema.parse(fixtureJson(`${scenario}.request.json`));
}

/** The context of codex's first turn: apply_patch is custom, multi_agent_v1 is a namespace. */
export function codexContext(): ResponsesContext {
  return responsesToChat(requestFixture('codex-first-turn'), UPSTREAM_MODEL).ctx;
}

/** `<scenario>.chat-chunks.txt`: one `data: …` line per upstream SSE event; `[DONE]` is dropped. */
export function chatChunks(scenario: string): ChatChunk[] {
  return fixtureText(`${scenario}.chat-chunks.txt`)
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice('data: '.length)) as ChatChunk);
}

export interface SseFrame {
  event: string;
  data: Record<string, unknown>;
}

/** Parses `event: <type>\ndata: <json>\n\n` frames; throws on anything else, so bad output fails tests. */
export function parseSse(text: string): SseFrame[] {
  if (text === '') return [];
  if (!text.endsWith('\n\n')) throw new Error(`unterminated SSE frame: ${JSON.stringify(text.slice(-80))}`);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      const match = /^event: (\S+)\ndata: (.+)$/.exec(frame);
      if (!match?.[1] || !match[2]) throw new Error(`malformed SSE frame: ${JSON.stringify(frame)}`);
      return { event: match[1], data: JSON.parse(match[2]) as Record<string, unknown> };
    });
}
