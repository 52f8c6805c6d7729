import { describe, expect, it } from 'vitest';
import { parseFrame, SseFramer } from '../../../src/daemon/http/sse.js';

const STREAM = [
  'data: {"a":1}\n\n',
  'event: response.created\ndata: {"b":2}\n\n',
  ': keep-alive comment\n\n',
  'data: {"c":"line\\nwith escaped newline"}\r\n\r\n',
  'data: first\ndata: second\n\n',
  'data: [DONE]\n\n',
];

function frames(parts: Buffer[]): string[] {
  const f = new SseFramer();
  const out: string[] = [];
  for (const p of parts) for (const fr of f.push(p)) out.push(fr.toString('utf8'));
  const rest = f.rest();
  if (rest) out.push(rest.toString('utf8'));
  return out;
}

describe('SseFramer', () => {
  const whole = Buffer.from(STREAM.join(''));

  it('yields every frame, blank line included, from one coalesced chunk', () => {
    expect(frames([whole])).toEqual(STREAM);
  });

  it('gives the same frames however the bytes are split (every split point, and byte by byte)', () => {
    for (let cut = 1; cut < whole.length; cut++) {
      expect(frames([whole.subarray(0, cut), whole.subarray(cut)])).toEqual(STREAM);
    }
    expect(frames([...whole].map((b) => Buffer.from([b])))).toEqual(STREAM);
  });

  it('keeps a final frame without its blank line for rest(), and drops whitespace-only leftovers', () => {
    const f = new SseFramer();
    expect(f.push(Buffer.from('data: 1\n\ndata: tail'))).toHaveLength(1);
    expect(f.rest()?.toString()).toBe('data: tail');
    const g = new SseFramer();
    g.push(Buffer.from('data: 1\n\n\n'));
    expect(g.rest()).toBeNull();
  });

  it('splits multi-byte UTF-8 safely (frames are bytes, decoded whole)', () => {
    const text = 'data: {"t":"héllo – 你好 🎉"}\n\n';
    const b = Buffer.from(text);
    for (let cut = 1; cut < b.length; cut++) expect(frames([b.subarray(0, cut), b.subarray(cut)])).toEqual([text]);
  });
});

describe('parseFrame', () => {
  it('joins data lines, reads the event name, ignores comments, tolerates CRLF', () => {
    expect(parseFrame('event: x\ndata: a\ndata: b\n\n')).toEqual({ event: 'x', data: 'a\nb' });
    expect(parseFrame('data: {"a":1}\r\n\r\n')).toEqual({ event: null, data: '{"a":1}' });
    expect(parseFrame(': ping\n\n')).toBeNull();
  });
});
