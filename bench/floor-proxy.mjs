#!/usr/bin/env node
/**
 * @module The floor: a pass-through proxy with no logic at all (no auth, parsing, limits, usage or
 * logs), built the conventional way: node:http server, body bytes forwarded unchanged through an undici
 * Pool with a raw dispatch handler (undici's cheapest API), the answer relayed (JSON in one write, SSE
 * chunk by chunk). run.mjs pins it to lw's core, so "lw − floor" is what lw's own work costs next to
 * the usual Node.js proxy stack, apart from the two extra loopback hops and cross-core wake-ups every
 * proxy adds. lw itself no longer uses undici (its own HTTP/1.1 client, `src/daemon/providers/http1/`),
 * so lw − floor can be negative.
 *
 * Usage: node bench/floor-proxy.mjs --upstream http://127.0.0.1:PORT [--port 0] [--parent-pipe]
 * Prints one line `{"port":N,"pid":P}` once listening.
 */
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import process from 'node:process';

const require = createRequire(import.meta.url);
const { Pool } = require('undici');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

const upstream = arg('upstream');
if (!upstream) {
  process.stderr.write('floor-proxy: --upstream URL is required\n');
  process.exit(2);
}
const pool = new Pool(upstream, { connections: 256, pipelining: 1 });

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    let stream = false;
    const parts = [];
    pool.dispatch(
      { method: req.method, path: req.url, headers: { 'content-type': 'application/json' }, body },
      {
        onConnect() {},
        onHeaders(status, raw) {
          res.statusCode = status;
          for (let i = 0; i < raw.length; i += 2) {
            if (raw[i].toString().toLowerCase() !== 'content-type') continue;
            const type = raw[i + 1].toString();
            res.setHeader('content-type', type);
            stream = type.startsWith('text/event-stream');
          }
          if (stream) res.flushHeaders();
          return true;
        },
        onData(c) {
          if (stream) res.write(c);
          else parts.push(c);
          return true;
        },
        onComplete() {
          if (stream) return void res.end();
          const b = parts.length === 1 ? parts[0] : Buffer.concat(parts);
          res.setHeader('content-length', b.length);
          res.end(b);
        },
        onError() {
          if (!res.headersSent) res.statusCode = 502;
          res.end();
        },
      },
    );
  });
});

server.listen(Number(arg('port', '0')), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port, pid: process.pid })}\n`);
});
if (process.argv.includes('--parent-pipe')) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
