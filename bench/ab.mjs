#!/usr/bin/env node
/**
 * @module A/B of lw builds under the same load, interleaved in time (so a shared machine's drift hits
 * every variant alike): one mock, one lw per variant (all pinned to core 0, each on its own embedded
 * store, configured like run.mjs), then rounds of wrk/autocannon against each in rotating order. Prints
 * per variant the median and best lw CPU µs per request, median req/s, max RSS and the median CPU µs per
 * request of its embedded store's process.
 *
 *   node bench/ab.mjs --variant base=src --variant try=/tmp/lw-try/dist/cli/main.js[,ENV=VALUE…]
 *                     (ENV LW_LOG_LEVEL=info sets that variant's --log-level; NODE_ARGS='--a --b' adds
 *                     node flags after the daemon's own, e.g. NODE_ARGS=--max-semi-space-size=4)
 *        [--kind chat|stream|embed] [--conns 32] [--duration 5] [--rounds 4] [--warmup 5] [--log-level warn]
 *
 * `src` builds the current src/ into <os tmp>/lw-bench-build-<hash> (lib/build.mjs; the path is printed).
 * To try a change without touching src/: `cp -r <that folder> /tmp/lw-try`, edit the JS under
 * /tmp/lw-try/dist, pass /tmp/lw-try/dist/cli/main.js (its node_modules symlink points at the checkout).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearInterval, setInterval } from 'node:timers';
import { parseArgs } from 'node:util';
import { buildPrivate, defaultBuildDir } from './lib/build.mjs';
import { runLoad } from './lib/load.mjs';
import { BODY, configureLw, envPairs, LW_MODELS, PATH, startLw, startMock } from './lib/lw.mjs';
import { coreBusy, cpuMicros, killAllNow, pinSelf, rssMB, stopAll } from './lib/procs.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opt } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    kind: { type: 'string', default: 'chat' },
    conns: { type: 'string', default: '32' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '5' },
    'log-level': { type: 'string', default: 'warn' },
    loadgen: { type: 'string', default: 'wrk' },
  },
});
if (opt.variant.length === 0) {
  process.stderr.write('usage: node bench/ab.mjs --variant NAME=src|path/to/cli/main.js[,ENV=V…] [--variant …] [--kind chat] [--rounds 4]\n');
  process.exit(2);
}
const t0 = Date.now();
const log = (m) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${m}\n`);
const tmp = mkdtempSync(join(tmpdir(), 'lw-ab-'));
const cleanup = async () => {
  await stopAll(8000);
  rmSync(tmp, { recursive: true, force: true });
};
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => cleanup().finally(() => process.exit(130)));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  pinSelf(1);
  const variants = opt.variant.map((spec) => {
    const [head, ...envs] = spec.split(',');
    const eq = head.indexOf('=');
    const name = head.slice(0, eq);
    const where = head.slice(eq + 1);
    const entry = where === 'src' ? buildPrivate(resolve(HERE, '..'), defaultBuildDir(resolve(HERE, '..')), log) : resolve(where);
    const extraEnv = envPairs(envs);
    const nodeArgs = extraEnv.NODE_ARGS ? extraEnv.NODE_ARGS.split(' ').filter(Boolean) : [];
    delete extraEnv.NODE_ARGS;
    return { name, entry, extraEnv, nodeArgs, samples: [] };
  });
  const mock = await startMock({ core: 1, log });
  for (const v of variants) {
    const home = join(tmp, v.name);
    mkdirSync(home);
    const logLevel = v.extraEnv.LW_LOG_LEVEL ?? opt['log-level'];
    v.lw = await startLw({ entry: v.entry, home, core: 0, logLevel, extraEnv: v.extraEnv, nodeArgs: v.nodeArgs, log, name: v.name });
    v.key = await configureLw({ entry: v.entry, env: v.lw.env, home, mockBase: mock.base });
    log(`${v.name}: ${v.entry} ${Object.keys(v.extraEnv).length ? JSON.stringify(v.extraEnv) : ''}${v.nodeArgs.join(' ')} ready (pid ${v.lw.child.pid}, start-up ${v.lw.startupMs} ms)`);
  }
  const kind = opt.kind;
  const load = (v, durationS, name) =>
    runLoad(opt.loadgen, {
      url: v.lw.base + PATH[kind],
      headers: { 'content-type': 'application/json', authorization: `Bearer ${v.key}` },
      bodies: [BODY[kind](LW_MODELS[kind])],
      connections: Number(opt.conns),
      durationS,
      loadCore: 1,
      tmpDir: tmp,
      name,
    });
  for (const v of variants) await load(v, Number(opt.warmup), `warm-${v.name}`);
  const bg = await coreBusy(1000);
  log(`background CPU load: ${bg?.map((b, i) => `core${i} ${b}%`).join(', ')}`);
  const rounds = Number(opt.rounds);
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]);
    for (const v of order) {
      const c0 = cpuMicros(v.lw.child.pid);
      const s0 = v.lw.storePid ? cpuMicros(v.lw.storePid) : 0;
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMB(v.lw.child.pid) ?? 0)), 200);
      const res = await load(v, Number(opt.duration), `${v.name}-${r}`);
      clearInterval(sampler);
      const cpu = cpuMicros(v.lw.child.pid) - c0;
      const store = v.lw.storePid ? (cpuMicros(v.lw.storePid) - s0) / res.ok : null;
      const s = { rps: res.rps, us: cpu / res.ok, store, rss: Math.max(peak, rssMB(v.lw.child.pid) ?? 0), errors: res.errors, p50: res.p50, p99: res.p99 };
      v.samples.push(s);
      log(
        `  round ${r + 1} ${v.name.padEnd(12)} ${Math.round(s.rps).toString().padStart(6)} req/s  ${Math.round(s.us).toString().padStart(5)} µs/req` +
          `${store === null ? '' : ` (+${Math.round(store)} store)`}  p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(1)} ms  RSS ${s.rss?.toFixed(0)} MB${s.errors ? `  errors ${s.errors}` : ''}`,
      );
    }
  }
  const base = median(variants[0].samples.map((s) => s.us));
  process.stdout.write(`\n${kind} c=${opt.conns}, ${rounds} rounds × ${opt.duration} s, interleaved\n`);
  process.stdout.write(`${'variant'.padEnd(14)} ${'µs/req med'.padStart(10)} ${'best'.padStart(6)} ${'vs first'.padStart(9)} ${'req/s med'.padStart(10)} ${'RSS max'.padStart(8)} ${'store µs'.padStart(9)}\n`);
  for (const v of variants) {
    const us = median(v.samples.map((s) => s.us));
    process.stdout.write(
      `${v.name.padEnd(14)} ${Math.round(us).toString().padStart(10)} ${Math.round(Math.min(...v.samples.map((s) => s.us))).toString().padStart(6)} ` +
        `${`${(((us - base) / base) * 100).toFixed(0)}%`.padStart(9)} ${Math.round(median(v.samples.map((s) => s.rps))).toString().padStart(10)} ` +
        `${Math.max(...v.samples.map((s) => s.rss ?? 0)).toFixed(0).padStart(6)} MB ` +
        `${v.samples[0].store === null ? '-'.padStart(9) : Math.round(median(v.samples.map((s) => s.store))).toString().padStart(9)}\n`,
    );
  }
}

main()
  .then(cleanup)
  .then(() => process.exit(0))
  .catch(async (e) => {
    log(`error: ${e.stack ?? e}`);
    await cleanup();
    process.exit(1);
  });
