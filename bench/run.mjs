#!/usr/bin/env node
/**
 * @module `npm run bench`: direct-to-mock against through-lw (and `--peer portkey`) in ONE run.
 *
 * Layout on a 2-core machine: lw (and Portkey) pinned to core 0; the mock upstream, the load generator
 * and this script pinned to core 1 (`taskset`). lw runs from a private JS build of src/ (<tmp>/lw-bench-build-*,
 * see lib/build.mjs) on the embedded store in a temporary LW_HOME, configured through the CLI with a
 * provider, models, a tier whose limits are enabled but far out of reach (so the limiter runs) and a
 * key. Measures, per target: req/s at c=32 and c=128 with p50/p99 for non-stream chat, stream chat and
 * embeddings; server CPU µs per request from /proc/<pid>/stat; RSS of lw under load; added latency at
 * c=1 and added first-byte time for streams with 5 ms between chunks at c=1 and c=8. Prints a table,
 * writes the same as JSON to bench/results/<date>.json. Every child is killed by PID at the end.
 *
 *   node bench/run.mjs [--peer portkey] [--soak 100000] [--duration 3] [--rounds 2] [--loadgen wrk|autocannon]
 *                      [--only chat,stream,embed,latency,fb] [--log-level warn] [--cpu-prof DIR] [--db postgres://server] [--help]
 *                      [--lw-entry path/to/cli/main.js | --use-dist | --from-source] [--keep-home] [--no-write]
 *                      [--no-restart] [--no-floor]
 *
 * lw is restarted once after the CLI configured it, so the measured daemon opens an existing store as in
 * steady operation (--no-restart measures the first start). The c=1 and first-byte phases also time a
 * second mock pinned to lw's core ("control"): what crossing to that core costs on this machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPrivate, defaultBuildDir } from './lib/build.mjs';
import { destroyAgents, percentile, runLoad } from './lib/load.mjs';
import { cellFor, interleaved, phase, rssSampler, sanity } from './lib/measure.mjs';
import { portkeyHeaders, startPortkey } from './lib/peer-portkey.mjs';
import { CLK_TCK, CORES, coreBusy, cpuMicros, killAllNow, pinSelf, PINNING, rssMB, stopAll, stopChild } from './lib/procs.mjs';
import { BODY, configureLw, LW_MODELS, MOCK_MODELS, PATH, startFloor, startLw, startMock } from './lib/lw.mjs';
import { buildRows, renderTable } from './lib/report.mjs';
import { clearInterval, setInterval } from 'node:timers';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');

const { values: opt } = parseArgs({
  options: {
    peer: { type: 'string' },
    soak: { type: 'string', default: '0' },
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    conns: { type: 'string', default: '32,128' },
    'latency-requests': { type: 'string', default: '2000' },
    'fb-requests': { type: 'string', default: '200' },
    chunks: { type: 'string', default: '16' },
    loadgen: { type: 'string' },
    only: { type: 'string', default: 'chat,stream,embed,latency,fb' },
    'log-level': { type: 'string', default: 'warn' },
    'cpu-prof': { type: 'string' },
    'from-source': { type: 'boolean', default: false },
    'use-dist': { type: 'boolean', default: false },
    'lw-entry': { type: 'string' },
    'keep-home': { type: 'boolean', default: false },
    'no-restart': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    db: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  process.stdout.write(readHelp());
  process.exit(0);
}

const DURATION = Number(opt.duration);
const ROUNDS = Math.max(1, Number(opt.rounds));
const CONNS = opt.conns.split(',').map(Number);
const LAT_N = Number(opt['latency-requests']);
const FB_N = Number(opt['fb-requests']);
const SOAK_N = Number(opt.soak);
const ONLY = new Set(opt.only.split(','));
const GW_CORE = 0;
const LOAD_CORE = 1;
const LOADGEN = opt.loadgen ?? (hasWrk() ? 'wrk' : 'autocannon');
const tStart = Date.now();
const log = (m) => process.stdout.write(`[${((Date.now() - tStart) / 1000).toFixed(1).padStart(5)}s] ${m}\n`);

function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return e.status === 1; // wrk --version prints usage and exits 1
  }
}
function readHelp() {
  // the module comment above is the help text
  const src = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const doc = src.slice(src.indexOf('/**') + 3, src.indexOf('*/'));
  return doc.replace(/^ \* ?/gm, '').replace('@module ', '').trim() + '\n';
}

// ---------- cleanup: every child by PID, whatever happens ----------
let tmp = null;
let cleaning = null;
/** With --db: a throwaway database on that Postgres server, dropped at the end. */
let benchDb = null;
async function createBenchDb(serverUrl) {
  const { default: postgres } = await import('postgres');
  const name = `lw_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  benchDb = { serverUrl, name, url: u.toString() };
  return benchDb.url;
}
async function dropBenchDb() {
  if (!benchDb) return;
  const { default: postgres } = await import('postgres');
  const admin = postgres(benchDb.serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${benchDb.name}" with (force)`).catch(() => {});
  await admin.end();
  benchDb = null;
}

async function cleanup() {
  cleaning ??= (async () => {
    destroyAgents();
    await stopAll(8000);
    await dropBenchDb();
    if (tmp && !opt['keep-home']) rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}: stopping children`);
    cleanup().finally(() => process.exit(130));
  });
}
process.on('uncaughtException', (e) => {
  log(`error: ${e.stack ?? e}`);
  cleanup().finally(() => process.exit(1));
});

// ---------- lw ----------
function lwCommand() {
  if (opt['lw-entry']) return { entry: resolve(opt['lw-entry']), how: `${opt['lw-entry']} (--lw-entry)` };
  if (opt['use-dist'] || opt['from-source']) return { entry: join(ROOT, 'bin', 'lw.js'), how: opt['from-source'] ? 'src via tsx' : 'dist/ via bin/lw.js' };
  return { entry: buildPrivate(ROOT, defaultBuildDir(ROOT), log), how: `${defaultBuildDir(ROOT)} (transpiled src)` };
}

// ---------- main ----------
async function main() {
  const pinned = pinSelf(LOAD_CORE);
  log(
    `lw bench: ${CORES} cores, ${PINNING && pinned ? `gateway pinned to core ${GW_CORE}; mock, ${LOADGEN} and this script to core ${LOAD_CORE}` : 'NOT pinned (no taskset or < 2 cores)'}; ` +
      `load generator ${LOADGEN}; ${DURATION} s × ${ROUNDS} interleaved rounds per cell; lw log level ${opt['log-level']}`,
  );
  tmp = mkdtempSync(join(tmpdir(), 'lw-bench-'));
  const home = join(tmp, 'home');
  mkdirSync(home);

  const { entry, how } = lwCommand();
  const mock = await startMock({ core: LOAD_CORE, chunks: opt.chunks, log });
  log(`mock upstream on ${mock.base} (pid ${mock.child.pid})`);
  // control for the sequential measurements: the same mock pinned to the gateway core, so the report can
  // tell what crossing to a busy core costs on this machine apart from what lw itself adds
  const ctlMock = PINNING && (ONLY.has('latency') || ONLY.has('fb')) ? await startMock({ core: GW_CORE, chunks: opt.chunks, log }) : null;
  const nodeArgs = opt['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(opt['cpu-prof'])] : [];
  const extraEnv = opt['from-source'] ? { LW_FROM_SOURCE: '1' } : {};
  if (opt.db) {
    extraEnv.LW_DATABASE_URL = await createBenchDb(opt.db);
    log(`store: PostgreSQL, throwaway database ${benchDb.name} (dropped at the end)`);
  }
  const startArgs = { entry, home, core: GW_CORE, logLevel: opt['log-level'], extraEnv, log };
  let lw = await startLw({ ...startArgs, nodeArgs: opt['no-restart'] ? nodeArgs : [] });
  log(`lw (${how}) on ${lw.base} (pid ${lw.child.pid}), first start on a new store in ${lw.startupMs} ms`);
  const tc = Date.now();
  const key = await configureLw({ entry, env: lw.env, home, mockBase: mock.base });
  log(`configured lw through the CLI in ${Date.now() - tc} ms (provider mock, models bench-chat/bench-fb/bench-embed, tier bench with all limits on, key ${key.slice(0, 8)}…)`);
  const firstStart = { startupMs: lw.startupMs, idleRssMB: rssMB(lw.child.pid) };
  if (!opt['no-restart']) {
    // measure a daemon that opens an existing store, as in steady operation: a first start keeps
    // PGlite's initdb memory resident until a major GC, which would blur the RSS numbers
    await stopChild(lw.child, 'SIGTERM', 15_000);
    lw = await startLw({ ...startArgs, nodeArgs });
    log(`lw restarted on the configured store (pid ${lw.child.pid}) in ${lw.startupMs} ms; first-start idle RSS was ${firstStart.idleRssMB?.toFixed(0)} MB`);
  }

  const json = { 'content-type': 'application/json' };
  const targets = [
    { id: 'direct', base: mock.base, pid: mock.child.pid, headers: json, models: MOCK_MODELS, share: 1 },
    { id: 'lw', base: lw.base, pid: lw.child.pid, storePid: lw.storePid, headers: { ...json, authorization: `Bearer ${key}` }, models: LW_MODELS, share: 1 },
  ];
  if (lw.storePid) log(`lw runs its embedded store in its own process (pid ${lw.storePid}): its CPU and RSS are reported beside lw's`);
  const notes = [];
  // the floor: a logic-free Node proxy on lw's core, for what any Node gateway costs on this layout
  const floor = opt['no-floor'] ? null : await startFloor({ core: GW_CORE, upstream: mock.base, log });
  if (floor) targets.push({ id: 'floor', base: floor.base, pid: floor.child.pid, headers: json, models: MOCK_MODELS, share: 1 });
  let portkey = null;
  if (opt.peer === 'portkey') {
    try {
      portkey = await startPortkey({ core: GW_CORE, log });
      // a quarter of the sequential samples: Portkey's c=1 requests are ~30× slower and the run is time-boxed
      targets.push({ id: 'portkey', base: portkey.baseUrl, pid: portkey.child.pid, headers: portkeyHeaders(mock.base), models: MOCK_MODELS, share: 0.25 });
    } catch (e) {
      notes.push(`portkey not measured: ${e.message}`);
      log(`portkey not measured: ${e.message}`);
    }
  } else if (opt.peer) {
    notes.push(`unknown --peer '${opt.peer}' (only portkey is supported)`);
  }

  // sanity: every target answers every kind it will be measured on
  const available = {};
  for (const kind of ['chat', 'stream', 'embed']) {
    available[kind] = {};
    for (const t of targets) {
      if (kind === 'embed' && t.id === 'portkey') continue;
      const s = await sanity(t, kind);
      available[kind][t.id] = s.ok ? true : `HTTP ${s.status}`;
      if (!s.ok) {
        const msg = `${t.id} ${kind}: HTTP ${s.status} ${s.body.replace(/\s+/g, ' ').slice(0, 200)}`;
        log(`sanity: ${msg}`);
        if (kind === 'chat' || t.id === 'direct') throw new Error(`sanity check failed: ${msg}`);
        notes.push(`not measured: ${msg}`);
      } else if (t.id === 'lw' && kind === 'chat') {
        log(`sanity: lw chat OK (x-lw-overhead-ms: ${s.overheadHeader})`);
      }
    }
  }

  const bgBefore = await coreBusy(1000);
  log(`background CPU load with lw, mock${portkey ? ', portkey' : ''} idle: ${bgBefore?.map((b, i) => `core${i} ${b}%`).join(', ') ?? 'n/a'}`);
  const rss = rssSampler(
    Object.fromEntries(
      targets
        .filter((t) => t.id !== 'direct')
        .map((t) => [t.id, t.pid])
        .concat([['mock', mock.child.pid]])
        .concat(lw.storePid ? [['store', lw.storePid]] : []),
    ),
  );
  const lwIdle = rssMB(lw.child.pid);
  const storeIdle = lw.storePid ? rssMB(lw.storePid) : null;
  const ctx = { tmp, mockPid: mock.child.pid, rss, loadgen: LOADGEN, loadCore: LOAD_CORE, rounds: ROUNDS, durationS: DURATION, log };

  log('warm-up …');
  for (const t of targets) {
    for (const kind of ['chat', 'stream', 'embed']) {
      if (available[kind][t.id] === true && (kind !== 'embed' || t.id !== 'portkey')) await phase(t, kind, 32, kind === 'chat' ? 2 : 1, ctx, `warm-${kind}-${t.id}`);
    }
  }

  const result = { cells: {}, targets: targets.map((t) => t.id) };
  for (const kind of ['chat', 'stream', 'embed']) {
    if (!ONLY.has(kind)) continue;
    result.cells[kind] = {};
    // Portkey is measured on chat and stream only (its embeddings are not part of the comparison)
    const ts = targets.filter((t) => available[kind][t.id] === true && (kind !== 'embed' || t.id !== 'portkey'));
    if (!ts.some((t) => t.id === 'direct')) continue;
    for (const c of CONNS) {
      const cell = await cellFor(ts, kind, c, ctx);
      if (available[kind].lw !== true) cell.lw = { na: `route answered ${available[kind].lw}` };
      result.cells[kind][String(c)] = cell;
    }
  }

  const seqTargets = ctlMock
    ? [...targets, { id: 'control', base: ctlMock.base, pid: ctlMock.child.pid, headers: json, models: MOCK_MODELS, share: 1 }]
    : targets;
  if (ONLY.has('latency')) {
    log(`c=1 non-stream latency: ${LAT_N} sequential requests per target (keep-alive, interleaved blocks of 200) …`);
    await interleaved(seqTargets, (t) => BODY.chat(t.models.chat), 200, 1, 200, 'lat'); // warm the agents
    const r = await interleaved(seqTargets, (t) => BODY.chat(t.models.chat), LAT_N, 1, 200, 'lat');
    result.latency = {};
    for (const t of seqTargets) {
      const s = r[t.id].total;
      result.latency[t.id] = { n: s.length, errors: r[t.id].errors, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
      log(`  ${t.id.padEnd(8)} p50 ${result.latency[t.id].p50.toFixed(3)} p99 ${result.latency[t.id].p99.toFixed(3)} ms (${s.length} ok, ${r[t.id].errors} errors)`);
    }
  }

  if (ONLY.has('fb')) {
    result.firstByte = {};
    for (const c of [1, 8]) {
      const n = c === 1 ? FB_N : FB_N * 2;
      log(`stream first byte, 5 ms between chunks, c=${c}: ${n} requests per target …`);
      await interleaved(seqTargets, (t) => BODY.stream(t.models.fb), 8 * c, c, 8 * c, `fb${c}`); // warm
      const r = await interleaved(seqTargets, (t) => BODY.stream(t.models.fb), n, c, c === 1 ? 50 : 100, `fb${c}`);
      result.firstByte[c] = {};
      for (const t of seqTargets) {
        const s = r[t.id].first;
        result.firstByte[c][t.id] = { n: s.length, errors: r[t.id].errors, p50: percentile(s, 50), p99: percentile(s, 99), totalP50: percentile(r[t.id].total, 50) };
        log(`  ${t.id.padEnd(8)} first byte p50 ${result.firstByte[c][t.id].p50?.toFixed(3)} p99 ${result.firstByte[c][t.id].p99?.toFixed(3)} ms`);
      }
    }
  }

  result.rss = { firstStartIdle: firstStart.idleRssMB, restarted: !opt['no-restart'], lwIdle, lwMax: rss.loadMax.lw ?? null, storeIdle, storeMax: rss.loadMax.store ?? null, mockMax: rss.loadMax.mock ?? null, portkeyMax: rss.loadMax.portkey ?? null };

  if (SOAK_N > 0) {
    log(`soak: ${SOAK_N} requests through lw (chat and stream alternating, c=32), RSS every second …`);
    const lwT = targets[1];
    const series = [];
    const sample = () =>
      series.push({ t: Math.round((Date.now() - s0) / 1000), mb: rssMB(lw.child.pid), ...(lw.storePid ? { storeMb: rssMB(lw.storePid) } : {}) });
    const s0 = Date.now();
    // before the load: reported (startMB), but not a trough of the load (that would measure idle → load)
    sample();
    const timer = setInterval(sample, 1000);
    const cpu0 = cpuMicros(lw.child.pid);
    const r = await runLoad(LOADGEN, {
      url: lwT.base + PATH.chat,
      headers: lwT.headers,
      bodies: [BODY.chat(lwT.models.chat), BODY.stream(lwT.models.stream)],
      connections: 32,
      durationS: Math.min(600, Math.max(30, Math.ceil(SOAK_N / 200))),
      stopAfter: SOAK_N,
      loadCore: LOAD_CORE,
      tmpDir: tmp,
      name: 'soak',
    });
    clearInterval(timer);
    sample();
    const mbs = series.map((x) => x.mb).filter((x) => x !== null);
    // RSS is a sawtooth (GC cycles): compare the troughs of the load's two halves rather than two samples;
    // the first sample was taken before the load started
    const underLoad = mbs.length >= 4 ? mbs.slice(1, -1) : mbs;
    const half = Math.max(1, Math.floor(underLoad.length / 2));
    const troughDrift = Math.min(...underLoad.slice(half)) - Math.min(...underLoad.slice(0, half));
    result.soak = {
      requests: r.ok,
      errors: r.errors,
      seconds: r.durationS,
      rps: r.rps,
      cpuUs: (cpuMicros(lw.child.pid) - cpu0) / r.ok,
      startMB: mbs[0],
      endMB: mbs.at(-1),
      maxMB: Math.max(...mbs),
      troughDriftMB: troughDrift,
      series,
    };
    const storeMbs = series.map((x) => x.storeMb).filter((x) => typeof x === 'number');
    if (storeMbs.length) result.soak.store = { startMB: storeMbs[0], endMB: storeMbs.at(-1), maxMB: Math.max(...storeMbs) };
    log(
      `  soak: ${r.ok} ok, ${r.errors} errors in ${r.durationS.toFixed(1)} s; RSS start ${mbs[0].toFixed(1)} end ${mbs.at(-1).toFixed(1)} max ${Math.max(...mbs).toFixed(1)} MB, trough drift ${troughDrift.toFixed(1)} MB` +
        (storeMbs.length ? `; store process start ${storeMbs[0].toFixed(1)} end ${storeMbs.at(-1).toFixed(1)} max ${Math.max(...storeMbs).toFixed(1)} MB` : ''),
    );
  }
  rss.stop();
  const bgAfter = await coreBusy(1000);

  // stop lw gracefully (flushes usage; writes the CPU profile with --cpu-prof)
  const lwStop = Date.now();
  await stopChild(lw.child, 'SIGTERM', 15_000);
  log(`lw stopped (exit ${lw.child.exitCode ?? lw.child.signalCode}) in ${Date.now() - lwStop} ms`);

  const meta = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: CORES, memGB: +(totalmem() / 2 ** 30).toFixed(1), kernel: release(), loadavgAtEnd: loadavg() },
    node: process.version,
    git: gitInfo(),
    lw: { how, logLevel: opt['log-level'], startupMs: lw.startupMs, firstStart },
    portkey: portkey ? { version: portkey.version } : null,
    setup: {
      loadgen: LOADGEN,
      pinning: PINNING && pinned ? `gateway core ${GW_CORE}; mock + load generator + runner core ${LOAD_CORE}` : 'none',
      control: ctlMock ? `a second mock pinned to core ${GW_CORE} (the gateway's) in the c=1 and first-byte measurements` : null,
      durationS: DURATION,
      rounds: ROUNDS,
      connections: CONNS,
      streamChunks: Number(opt.chunks),
      clkTck: CLK_TCK,
      backgroundBusyPctBefore: bgBefore,
      backgroundBusyPctAfter: bgAfter,
      tier: 'rpm 10,000,000 · tpm 1,000,000,000 · 1e12 tokens/month · 1,000,000 concurrent (all enabled)',
    },
    notes,
    seconds: Math.round((Date.now() - tStart) / 1000),
  };
  const rows = buildRows(result);
  const peer = result.targets.includes('portkey');
  const table = renderTable(rows, peer);
  process.stdout.write(`\n${table}\n\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(
    `${meta.machine.cpu}, ${CORES} cores, node ${process.version}, ${meta.setup.pinning}, ${LOADGEN}, ` +
      `background CPU load (our processes idle) before ${fmtBusy(bgBefore)}, after ${fmtBusy(bgAfter)}` +
      `${Math.max(...(bgBefore ?? [0]), ...(bgAfter ?? [0])) > 15 ? ' — the machine is shared: absolute numbers are depressed and noisy, compare ratios' : ''}\n`,
  );
  if (!opt['no-write']) {
    const dir = join(HERE, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${meta.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ meta, table: rows, result }, null, 2) + '\n');
    process.stdout.write(`wrote ${file}\n`);
  }
  log(`done in ${meta.seconds} s`);
}

function fmtBusy(b) {
  return b ? b.map((x, i) => `core${i} ${x}%`).join(' ') : 'n/a';
}

function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length;
    return { commit, dirtyFiles: dirty };
  } catch {
    return null;
  }
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (e) => {
    log(`error: ${e.stack ?? e}`);
    await cleanup();
    process.exit(1);
  });
