#!/usr/bin/env node
/**
 * What an lw process holds under load, phase by phase:
 * `node bench/rss-probe.mjs [--phases chat:32,stream:32,embed:32,embed:128] [--seconds 8] [--lw-entry path/to/cli/main.js] [--env K=V …]`.
 * Starts the mock (core 1) and lw (core 0, the daemon's flags, a fresh embedded store) as `npm run bench`
 * does, runs each phase with wrk, samples RSS every 200 ms, and at each phase's RSS peak reads lw's
 * /metrics (V8 heap spaces, external memory) and /proc/<pid>/smaps_rollup (anonymous vs file-backed).
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import { buildPrivate, defaultBuildDir } from './lib/build.mjs';
import { runLoad } from './lib/load.mjs';
import { BODY, configureLw, envPairs, LW_MODELS, PATH, startLw, startMock } from './lib/lw.mjs';
import { httpCall, pinSelf, rssMB, stopAll } from './lib/procs.mjs';

const HERE = new URL('.', import.meta.url).pathname;
const { values: opt } = parseArgs({ options: { phases: { type: 'string', default: 'chat:32,stream:32,embed:32,embed:128' }, seconds: { type: 'string', default: '8' }, 'lw-entry': { type: 'string' }, env: { type: 'string', multiple: true, default: [] }, 'node-arg': { type: 'string', multiple: true, default: [] }, 'stdout-file': { type: 'string' } } });
const log = (m) => process.stderr.write(`${m}\n`);
const MB = 1024 * 1024;

/** The lines of lw's /metrics this probe reads: heap spaces (size), external memory. */
async function heapOf(base) {
  const text = (await httpCall(`${base}/metrics`)).body;
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^lw_nodejs_heap_space_size_total_bytes\{space="([a-z_]+)"\} (\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]) / MB;
    const e = /^lw_nodejs_external_memory_bytes (\d+)/.exec(line);
    if (e) out.external = Number(e[1]) / MB;
  }
  return out;
}

function smaps(pid) {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0) / 1024;
  return { anon: kb('Anonymous'), file: kb('Rss') - kb('Anonymous') };
}

pinSelf(1);
const tmp = mkdtempSync(join(tmpdir(), 'lw-rss-probe-'));
try {
  const entry = opt['lw-entry'] ? resolve(opt['lw-entry']) : buildPrivate(resolve(HERE, '..'), defaultBuildDir(resolve(HERE, '..')), log);
  const mock = await startMock({ core: 1, log });
  const extraEnv = envPairs(opt.env);
  const lw = await startLw({ entry, home: tmp, core: 0, log, extraEnv, nodeArgs: opt['node-arg'] });
  if (opt['stdout-file']) {
    const out = createWriteStream(opt['stdout-file']);
    lw.child.stdout.on('data', (d) => out.write(d));
  }
  const key = await configureLw({ entry, env: lw.env, home: tmp, mockBase: mock.base });
  log(`lw pid ${lw.child.pid}, idle RSS ${rssMB(lw.child.pid).toFixed(1)} MB`);
  for (const phase of opt.phases.split(',')) {
    const [kind, conns] = phase.split(':');
    let peak = 0;
    let atPeak = null;
    const timer = setInterval(() => {
      const r = rssMB(lw.child.pid);
      if (r > peak) {
        peak = r;
        atPeak = smaps(lw.child.pid);
        heapOf(lw.base).then((h) => (atPeak.heap = h), () => {});
      }
    }, 200);
    const res = await runLoad('wrk', {
      url: lw.base + PATH[kind],
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      bodies: [BODY[kind](LW_MODELS[kind])],
      connections: Number(conns),
      durationS: Number(opt.seconds),
      loadCore: 1,
      tmpDir: tmp,
      name: phase,
    });
    clearInterval(timer);
    await new Promise((r) => setTimeout(r, 300));
    const h = atPeak?.heap ?? {};
    const spaces = Object.entries(h)
      .filter(([k]) => k !== 'external')
      .map(([k, v]) => `${k.replace('_space', '')} ${v.toFixed(1)}`)
      .join(', ');
    log(
      `${phase.padEnd(10)} ${Math.round(res.rps)} req/s  RSS peak ${peak.toFixed(1)} MB (anon ${atPeak?.anon.toFixed(1)}, file ${atPeak?.file.toFixed(1)})  ` +
        `external ${h.external?.toFixed(1)} MB  heap spaces MB: ${spaces}`,
    );
  }
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
