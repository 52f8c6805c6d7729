/**
 * Fast-path answers send their collected headers in one writeHead: content-type and content-length
 * last, an error's own headers appended in order, or replacing a header already there as setHeader would.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/daemon/errors.js';
import { sendError, sendJson } from '../../../src/daemon/http/respond.js';

function fakeResponse() {
  const sent: { status?: number; headers?: string[]; body?: string | Buffer } = {};
  const res = {
    headersSent: false,
    destroyed: false,
    writableEnded: false,
    writeHead(status: number, headers: string[]) {
      sent.status = status;
      sent.headers = [...headers];
      this.headersSent = true;
      return this;
    },
    end(body?: string | Buffer) {
      sent.body = body;
      this.writableEnded = true;
    },
  };
  return { res: res as unknown as ServerResponse, sent };
}

describe('sendJson / sendError', () => {
  it('writes the collected headers, then content-type and content-length, in one writeHead', () => {
    const { res, sent } = fakeResponse();
    sendJson(res, 200, Buffer.from('{"ok":"é"}'), ['x-request-id', 'req_1', 'x-lw-provider', 'mock']);
    expect(sent.status).toBe(200);
    expect(sent.headers).toEqual(['x-request-id', 'req_1', 'x-lw-provider', 'mock', 'content-type', 'application/json', 'content-length', '11']);
  });

  it("appends an error's headers, replacing one already collected under any case", () => {
    const { res, sent } = fakeResponse();
    const err = new GatewayError('rate_limit_exceeded', 'slow down', { headers: { 'X-RateLimit-Limit-Requests': '10', 'retry-after': '3' } });
    const ge = sendError(res, err, 'openai', ['x-request-id', 'req_2', 'x-ratelimit-limit-requests', '99', 'x-lw-routed-model', 'm']);
    expect(ge.status).toBe(429);
    expect(sent.headers).toEqual([
      'x-request-id',
      'req_2',
      'X-RateLimit-Limit-Requests',
      '10',
      'x-lw-routed-model',
      'm',
      'retry-after',
      '3',
      'content-type',
      'application/json',
      'content-length',
      String(Buffer.byteLength(sent.body!)),
    ]);
    expect(JSON.parse(String(sent.body))).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  });

  it('only ends a response whose headers already left', () => {
    const { res, sent } = fakeResponse();
    (res as unknown as { headersSent: boolean }).headersSent = true;
    sendError(res, new GatewayError('upstream_error', 'boom'), 'openai', ['x-request-id', 'req_3']);
    expect(sent.headers).toBeUndefined();
    expect(res.writableEnded).toBe(true);
  });
});
