/**
 * @module Writing responses on the fast path (lw's own server or node:http, see `server/`): JSON bodies,
 * errors rendered from the error table, and request bodies read with the size cap.
 */
import { GatewayError, renderError, toGatewayError, type ErrorSurface } from '../errors.js';
import { FastRequest, type GatewayRequest } from './server/connection.js';
import type { GatewayResponse } from './server/response.js';

/**
 * A fast-path response's headers as a flat `[name, value, …]` list, sent with one `writeHead`: Node
 * writes such a list as it is, instead of validating and storing each `setHeader` call (about a dozen
 * per answer). Callers `push` only names the list does not hold yet; an error's own headers replace
 * like `setHeader` (see sendError).
 */
export type HeaderList = string[];

/** `setHeader` on a HeaderList: replaces the value of a name already there (any case) in place, else appends. */
function setHeaderIn(head: HeaderList, name: string, value: string): void {
  const want = name.toLowerCase();
  for (let i = 0; i < head.length; i += 2) {
    if (head[i]!.toLowerCase() === want) {
      head[i] = name;
      head[i + 1] = value;
      return;
    }
  }
  head.push(name, value);
}

/**
 * Ends `res` with a JSON body. `head` holds the response's headers so far (never content-type or
 * content-length: they are appended here).
 */
export function sendJson(res: GatewayResponse, status: number, body: string | Buffer | readonly Buffer[], head: HeaderList): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    head.push('content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)));
    res.writeHead(status, head);
    res.end(body);
    return;
  }
  // parts (e.g. a relayed answer and its edited tail): one writev of views, no copy of the answer
  let length = 0;
  for (const part of body) length += part.length;
  head.push('content-type', 'application/json', 'content-length', String(length));
  res.writeHead(status, head);
  res.cork();
  for (let i = 0; i < body.length - 1; i++) res.write(body[i]!);
  res.end(body[body.length - 1]!);
  res.uncork();
}

export function sendError(res: GatewayResponse, err: unknown, surface: ErrorSurface, head: HeaderList): GatewayError {
  const ge = toGatewayError(err);
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.end();
    return ge;
  }
  if (ge.headers) for (const k in ge.headers) setHeaderIn(head, k, ge.headers[k]!);
  sendJson(res, ge.status, JSON.stringify(renderError(ge, surface)), head);
  return ge;
}

/**
 * Reads the whole body, refusing more than `limit` bytes with a 413 (checked on Content-Length first).
 * lw's own server has read it already.
 */
export function readBody(req: GatewayRequest, limit: number): Promise<Buffer> {
  if (req instanceof FastRequest) return req.body.length > limit ? Promise.reject(tooLarge(limit)) : Promise.resolve(req.body);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      if (!failed) reject(new GatewayError('invalid_request', 'The request body could not be read.', { cause: e }));
    });
  });
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('body_too_large', `The request body exceeds the gateway's limit of ${limit} bytes.`);
}

/** Parses a JSON object body or throws a 400 naming the problem. */
export function parseJsonObject(buf: Buffer): Record<string, unknown> {
  if (buf.length === 0) throw new GatewayError('invalid_json', 'The request body is empty; send a JSON object.');
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new GatewayError('invalid_json', `The request body is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('invalid_json', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}
