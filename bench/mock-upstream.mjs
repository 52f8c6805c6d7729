#!/usr/bin/env node
/**
 * @module A fast OpenAI-compatible mock upstream for the benchmark: plain node:http, every body
 * precomputed at start, no JSON parsing on the request path (the few fields it needs are found with
 * regular expressions on the raw body).
 *
 *   POST …/chat/completions   non-stream JSON, or SSE when `"stream": true`: a role chunk, N content
 *                             chunks, a finish chunk, a usage chunk when `include_usage` is true, [DONE].
 *   POST …/embeddings         an embedding of --embed-dims floats (or base64 with encoding_format).
 *   GET  …/models             a one-model list.
 *
 * Per-request stream shape comes from the model name so it survives any gateway in between:
 * `…-d5` = 5 ms between chunks, `…-n3` = 3 content chunks (e.g. `mock-d5-n3`); otherwise --delay/--chunks.
 * A delay of 0 still writes each chunk separately (one setImmediate apart), never as one batch.
 *
 * Usage: node bench/mock-upstream.mjs [--port 0] [--host 127.0.0.1] [--chunks 16] [--delay 0] [--embed-dims 1536]
 * --parent-pipe: exit when stdin closes (bench/run.mjs uses it so a killed run leaves no orphan).
 * Prints one line `{"port":N,"pid":P}` on stdout once listening. SIGTERM/SIGINT exit at once.
 */
import { createServer } from 'node:http';
import { Buffer } from 'node:buffer';
import { setImmediate, setTimeout } from 'node:timers';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

const HOST = arg('host', '127.0.0.1');
const PORT = Number(arg('port', '0'));
const DEF_CHUNKS = Number(arg('chunks', '16'));
const DEF_DELAY = Number(arg('delay', '0'));
const EMBED_DIMS = Number(arg('embed-dims', '1536'));

const CREATED = 1_700_000_000;
const USAGE = { prompt_tokens: 12, completion_tokens: 16, total_tokens: 28 };

// ---- precomputed chat bodies ----
const CHAT_BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    created: CREATED,
    model: 'mock',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'This is a short answer from the mock upstream, about sixteen tokens.' },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: USAGE,
    system_fingerprint: 'fp_mock',
  }),
);
const JSON_HEADERS = (len) => ['content-type', 'application/json', 'content-length', String(len)];
const CHAT_HEADERS = JSON_HEADERS(CHAT_BODY.length);
const SSE_HEADERS = ['content-type', 'text/event-stream; charset=utf-8', 'cache-control', 'no-cache', 'connection', 'keep-alive'];

const frame = (obj) => Buffer.from(`data: ${JSON.stringify(obj)}\n\n`);
const chunkObj = (delta, finish = null) => ({
  id: 'chatcmpl-mock',
  object: 'chat.completion.chunk',
  created: CREATED,
  model: 'mock',
  system_fingerprint: 'fp_mock',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});
const ROLE_FRAME = frame(chunkObj({ role: 'assistant', content: '' }));
const CONTENT_FRAMES = Array.from({ length: 8 }, (_, i) => frame(chunkObj({ content: ` tok${i}` })));
const FINISH_FRAME = frame(chunkObj({}, 'stop'));
const USAGE_FRAME = frame({
  id: 'chatcmpl-mock',
  object: 'chat.completion.chunk',
  created: CREATED,
  model: 'mock',
  system_fingerprint: 'fp_mock',
  choices: [],
  usage: USAGE,
});
const DONE_FRAME = Buffer.from('data: [DONE]\n\n');

/** The frame list for a stream of `n` content chunks, with and without the usage chunk (cached). */
const framesCache = new Map();
function framesFor(n, withUsage) {
  const k = `${n}|${withUsage}`;
  let f = framesCache.get(k);
  if (!f) {
    f = [ROLE_FRAME];
    for (let i = 0; i < n; i++) f.push(CONTENT_FRAMES[i % CONTENT_FRAMES.length]);
    f.push(FINISH_FRAME);
    if (withUsage) f.push(USAGE_FRAME);
    f.push(DONE_FRAME);
    framesCache.set(k, f);
  }
  return f;
}

// ---- precomputed embeddings ----
const floats = new Float32Array(EMBED_DIMS);
for (let i = 0; i < EMBED_DIMS; i++) floats[i] = Math.round(Math.sin(i * 0.37) * 1e6) / 1e7;
const embBody = (embedding) =>
  Buffer.from(
    JSON.stringify({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding }],
      model: 'mock-embed',
      usage: { prompt_tokens: 4, total_tokens: 4 },
    }),
  );
const EMB_FLOAT_BODY = embBody(Array.from(floats));
const EMB_B64_BODY = embBody(Buffer.from(floats.buffer).toString('base64'));
const EMB_FLOAT_HEADERS = JSON_HEADERS(EMB_FLOAT_BODY.length);
const EMB_B64_HEADERS = JSON_HEADERS(EMB_B64_BODY.length);

const MODELS_BODY = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: 'mock', object: 'model', created: CREATED, owned_by: 'mock' }] }));
const NOT_FOUND = Buffer.from(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));

// ---- request shape, from the raw body ----
const RE_STREAM = /"stream"\s*:\s*true/;
const RE_USAGE = /"include_usage"\s*:\s*true/;
const RE_MODEL = /"model"\s*:\s*"([^"]*)"/;
const RE_B64 = /"encoding_format"\s*:\s*"base64"/;
const shapeCache = new Map();
function shapeOf(model) {
  let s = shapeCache.get(model);
  if (!s) {
    const d = /-d(\d+)(?:-|$)/.exec(model);
    const n = /-n(\d+)(?:-|$)/.exec(model);
    s = { delay: d ? Number(d[1]) : DEF_DELAY, chunks: n ? Number(n[1]) : DEF_CHUNKS };
    if (shapeCache.size < 1000) shapeCache.set(model, s);
  }
  return s;
}

function stream(res, body) {
  const m = RE_MODEL.exec(body);
  const { delay, chunks } = shapeOf(m ? m[1] : '');
  const frames = framesFor(chunks, RE_USAGE.test(body));
  res.socket?.setNoDelay(true);
  res.writeHead(200, SSE_HEADERS);
  let i = 0;
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const next = () => {
    if (closed) return;
    res.write(frames[i++]);
    if (i === frames.length) return void res.end();
    if (delay > 0) setTimeout(next, delay);
    else setImmediate(next);
  };
  next();
}

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET') {
    req.resume();
    if (url.endsWith('/models')) res.writeHead(200, JSON_HEADERS(MODELS_BODY.length)).end(MODELS_BODY);
    else res.writeHead(404, JSON_HEADERS(NOT_FOUND.length)).end(NOT_FOUND);
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0].toString('latin1') : Buffer.concat(chunks).toString('latin1');
    if (url.endsWith('/chat/completions')) {
      if (RE_STREAM.test(body)) stream(res, body);
      else res.writeHead(200, CHAT_HEADERS).end(CHAT_BODY);
    } else if (url.endsWith('/embeddings')) {
      if (RE_B64.test(body)) res.writeHead(200, EMB_B64_HEADERS).end(EMB_B64_BODY);
      else res.writeHead(200, EMB_FLOAT_HEADERS).end(EMB_FLOAT_BODY);
    } else {
      res.writeHead(404, JSON_HEADERS(NOT_FOUND.length)).end(NOT_FOUND);
    }
  });
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
if (process.argv.includes('--parent-pipe')) {
  // started by bench/run.mjs: when its end of our stdin closes (it exited, even by SIGKILL), so do we
  process.stdin.on('end', () => process.exit(0)).on('error', () => process.exit(0)).resume();
}
server.listen(PORT, HOST, () => {
  process.stdout.write(JSON.stringify({ port: server.address().port, pid: process.pid }) + '\n');
});
