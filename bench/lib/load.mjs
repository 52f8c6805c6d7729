/**
 * @module Load generation: wrk (a child process pinned to the load core, µs latency resolution, little
 * CPU per request) or autocannon (in this process, ms resolution) for throughput phases, and a raw
 * node:http keep-alive client for the sequential latency and first-byte measurements.
 */
import { Agent, request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startChild } from './procs.mjs';

const require = createRequire(import.meta.url);

/** A Lua long string that cannot be closed by the body. */
function luaString(s) {
  let eq = '=';
  while (s.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[${s}]${eq}]`;
}

function wrkScript(dir, name, { headers, bodies, stopAfter = 0 }) {
  const lines = ['wrk.method = "POST"', `wrk.body = ${luaString(bodies[0])}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`);
  if (bodies.length > 1) {
    // several bodies: cycle through them (costs a little Lua per request; used by the soak only)
    lines.push(`local bodies = { ${bodies.map(luaString).join(', ')} }`, 'local i = 0');
    lines.push('request = function() i = i + 1; return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1]) end');
  }
  if (stopAfter > 0) {
    // wrk keeps sleeping for -d even after thread:stop(); the runner sees this line and sends SIGINT,
    // which ends wrk at once with a correct summary
    lines.push(
      'local n = 0',
      `response = function() n = n + 1; if n == ${stopAfter} then io.write("WRKSTOP\\n"); io.flush(); wrk.thread:stop() end end`,
    );
  }
  lines.push(
    'done = function(s, lat, req)',
    '  io.write(string.format(\'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"mean":%f,"max":%d}\\n\',',
    '    s.requests, s.duration, s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout,',
    '    lat:percentile(50), lat:percentile(90), lat:percentile(99), lat.mean, lat.max))',
    'end',
  );
  const file = join(dir, `${name}.lua`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * One throughput phase. Resolves { ok, errors, durationS, rps, p50, p90, p99, mean } (latencies in ms).
 * `stopAfter` (wrk: Lua stop; autocannon: amount) bounds the phase by count as well as by time.
 */
export async function runLoad(gen, { url, headers, bodies, connections, durationS, stopAfter = 0, loadCore, tmpDir, name }) {
  if (gen === 'wrk') {
    const script = wrkScript(tmpDir, name, { headers, bodies, stopAfter });
    const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '10s', '-s', script, url];
    const child = startChild(`wrk ${name}`, 'wrk', args, { core: loadCore });
    let out = '';
    let stopped = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      if (stopAfter > 0 && out.includes('WRKSTOP') && !stopped) {
        stopped = true;
        process.kill(child.pid, 'SIGINT');
      }
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise((r) => child.once('exit', r));
    const m = /WRKJSON (\{.*\})/.exec(out);
    if (!m) throw new Error(`wrk ${name} printed no result: ${out.slice(-500)} ${err.slice(-500)}`);
    const j = JSON.parse(m[1]);
    const errors = j.connect + j.read + j.write + j.status + j.timeout;
    const ok = j.requests - j.status;
    const durationSec = j.duration_us / 1e6;
    return {
      ok,
      errors,
      errorDetail: { connect: j.connect, read: j.read, write: j.write, status: j.status, timeout: j.timeout },
      durationS: durationSec,
      rps: ok / durationSec,
      p50: j.p50 / 1000,
      p90: j.p90 / 1000,
      p99: j.p99 / 1000,
      mean: j.mean / 1000,
    };
  }
  const autocannon = require('autocannon');
  const requests = bodies.length > 1 ? bodies.map((b) => ({ method: 'POST', body: b })) : undefined;
  const r = await autocannon({
    url,
    method: 'POST',
    headers,
    body: bodies[0],
    requests,
    connections,
    duration: durationS,
    amount: stopAfter > 0 ? stopAfter : undefined,
    timeout: 10,
  });
  const ok = r['2xx'];
  return {
    ok,
    errors: r.non2xx + r.errors + r.timeouts,
    errorDetail: { non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts },
    durationS: r.duration,
    rps: ok / r.duration,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    mean: r.latency.average,
  };
}

/** Keep-alive agents per (target, concurrency), so every measurement reuses warm connections. */
const agents = new Map();
function agentFor(key, sockets) {
  let a = agents.get(key);
  if (!a) agents.set(key, (a = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets })));
  return a;
}
export function destroyAgents() {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

/**
 * One request; resolves { status, totalMs, firstDataMs } where firstDataMs is the time from just before
 * the request was written to the first body byte of a chunk containing `data:` (streams), else null.
 */
function timedRequest(target, agent) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first = null;
    const req = request(target.url, { method: 'POST', headers: target.headers, agent }, (res) => {
      res.on('data', (c) => {
        if (first === null && c.includes('data:')) first = process.hrtime.bigint();
      });
      res.on('end', () => {
        const t1 = process.hrtime.bigint();
        resolve({
          status: res.statusCode,
          totalMs: Number(t1 - t0) / 1e6,
          firstDataMs: first === null ? null : Number(first - t0) / 1e6,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(target.body);
  });
}

/**
 * `n` requests to `target` from `concurrency` sequential loops on keep-alive connections.
 * Resolves { total: ms[], first: ms[], errors }.
 */
export async function timedBatch(target, n, concurrency, agentKey) {
  const agent = agentFor(`${agentKey}|${concurrency}`, concurrency);
  const total = [];
  const first = [];
  let errors = 0;
  let left = n;
  const loop = async () => {
    while (left > 0) {
      left--;
      try {
        const r = await timedRequest(target, agent);
        if (r.status !== 200) errors++;
        else {
          total.push(r.totalMs);
          if (r.firstDataMs !== null) first.push(r.firstDataMs);
        }
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { total, first, errors };
}

/** Nearest-rank percentile of an unsorted sample (ms), or null when empty. */
export function percentile(sample, p) {
  if (sample.length === 0) return null;
  const s = Float64Array.from(sample).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
