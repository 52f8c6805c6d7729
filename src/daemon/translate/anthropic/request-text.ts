/**
 * @module The countable text of a Messages request, for `POST /v1/messages/count_tokens` and for the
 * input-token estimate a translated stream reports in `message_start`. The tokenizer lives elsewhere;
 * this only decides which strings count: system, message text, tool calls and results, thinking, and
 * tool definitions. Images and documents other than plain text are not text and are left out.
 * @see https://docs.anthropic.com/en/api/messages-count-tokens
 */
import {
  customTool,
  knownRequestBlock,
  knownToolResultPart,
  type MessagesRequest,
  type RequestBlock,
} from './schema.js';

/** All countable text of the request, one segment per line. */
export function messagesRequestText(req: MessagesRequest): string {
  const out: string[] = [];
  if (typeof req.system === 'string') out.push(req.system);
  else for (const b of req.system ?? []) out.push(b.text);

  for (const m of req.messages) {
    if (typeof m.content === 'string') out.push(m.content);
    else for (const b of m.content) blockText(b, out);
  }

  for (const t of req.tools ?? []) {
    const tool = customTool(t);
    if (tool) out.push(tool.name, tool.description ?? '', JSON.stringify(tool.input_schema));
    else if (typeof t.name === 'string') out.push(t.name);
  }
  return out.filter((s) => s.length > 0).join('\n');
}

function blockText(raw: RequestBlock, out: string[]): void {
  const b = knownRequestBlock(raw);
  switch (b?.type) {
    case 'text':
      out.push(b.text);
      break;
    case 'thinking':
      out.push(b.thinking);
      break;
    case 'tool_use':
      out.push(b.name, JSON.stringify(b.input ?? {}));
      break;
    case 'tool_result':
      if (typeof b.content === 'string') out.push(b.content);
      else {
        for (const p of b.content ?? []) {
          const part = knownToolResultPart(p);
          if (part?.type === 'text') out.push(part.text);
        }
      }
      break;
    case 'document':
      if (b.source.type === 'text' && b.source.data !== undefined) out.push(b.title ?? '', b.source.data);
      break;
    default:
      // images, redacted thinking, server-tool blocks: no countable text.
      break;
  }
}
