/**
 * @module Server-sent events framing on Buffers: splits an upstream byte stream into whole frames
 * without copying or decoding frames nobody needs to read.
 */

const LF = 0x0a;
const CR = 0x0d;

/** Accumulates bytes and yields complete SSE frames (each ending in a blank line), CRLF tolerant. */
export class SseFramer {
  private pending: Buffer | null = null;

  /** Complete frames found so far (each includes its trailing blank line). */
  push(chunk: Buffer): Buffer[] {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Buffer[] = [];
    let start = 0;
    // indexOf runs natively: only the bytes around each newline are looked at from JavaScript
    let i = buf.indexOf(LF);
    while (i !== -1) {
      // a frame ends at "\n\n" or "\n\r\n"
      const next = buf[i + 1];
      if (next === LF) {
        frames.push(buf.subarray(start, i + 2));
        start = i + 2;
      } else if (next === CR && buf[i + 2] === LF) {
        frames.push(buf.subarray(start, i + 3));
        start = i + 3;
      } else {
        i = buf.indexOf(LF, i + 1);
        continue;
      }
      i = buf.indexOf(LF, start);
    }
    this.pending = start < buf.length ? buf.subarray(start) : null;
    return frames;
  }

  /** Whatever is left when the stream ends (a final frame without its blank line). */
  rest(): Buffer | null {
    const r = this.pending;
    this.pending = null;
    return r && r.toString('utf8').trim() ? r : null;
  }
}

export interface SseEvent {
  event: string | null;
  data: string;
}

/** Parses one frame into its event name and joined data lines; null for comments / empty frames. */
export function parseFrame(frame: Buffer | string): SseEvent | null {
  const text = typeof frame === 'string' ? frame : frame.toString('utf8');
  let event: string | null = null;
  let data: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data = data === null ? value : data + '\n' + value;
    else if (field === 'event') event = value;
  }
  return data === null ? null : { event, data };
}

export function sseData(json: unknown): string {
  return `data: ${JSON.stringify(json)}\n\n`;
}

export function sseEvent(event: string, json: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(json)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';
