#!/usr/bin/env node
/**
 * @module Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, top
 * functions by inclusive time, top files and packages by self time, and a busy-% timeline so the load
 * phase can be picked out of start-up and idle time.
 *
 *   node bench/profile-summary.mjs <file.cpuprofile | dir (newest profile in it)> [--top 25]
 *        [--window FROM,TO]   only samples between FROM and TO seconds after the profile started
 *        [--busy]             pick the window automatically: from the first to the last second ≥ 50% busy
 *        [--match TEXT]       inclusive list restricted to frames whose file contains TEXT (e.g. /src/ or dist/)
 *        [--lines N]          hot source lines (V8 position ticks) of the N functions with most self time
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    window: { type: 'string' },
    busy: { type: 'boolean', default: false },
    match: { type: 'string' },
    lines: { type: 'string', default: '0' },
  },
});
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile | dir> [--top N] [--window FROM,TO | --busy] [--match TEXT]\n');
  process.exit(2);
}
let file = positionals[0];
if (statSync(file).isDirectory()) {
  const all = readdirSync(file)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(file, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (all.length === 0) throw new Error(`no .cpuprofile in ${file}`);
  file = all[0];
}
const TOP = Number(opt.top);
process.stdout.on('error', () => process.exit(0)); // piped into head
const prof = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map();
const parent = new Map();
for (const n of prof.nodes) byId.set(n.id, n);
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Shortens a URL to something readable: repo-relative path, node_modules/<pkg>/…, node:internal. */
function shortUrl(url) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm !== -1) return u.slice(nm + 1);
  const m = /\/(src|dist|bench\/\.build\/dist)\/(.*)$/.exec(u);
  if (m) return `${m[1]}/${m[2]}`;
  return u;
}
function pkgOf(url) {
  const u = shortUrl(url);
  if (!u) return '(native / V8)';
  if (u.startsWith('node_modules/')) {
    const parts = u.split('/');
    return parts[1].startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1];
  }
  if (u.startsWith('node:')) return 'node: core';
  if (/^(src|dist|bench\/\.build\/dist)\//.test(u)) return 'lw';
  return u.split('/').slice(0, 3).join('/');
}
const fnKey = (n) => {
  const cf = n.callFrame;
  const name = cf.functionName || '(anonymous)';
  if (!cf.url) return name;
  return `${name}  ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
};

// sample times: timeDeltas[i] is the time since the previous sample; attribute it to sample i
const samples = prof.samples;
const deltas = prof.timeDeltas;
const t0 = prof.startTime;
let t = t0;
const times = new Array(samples.length);
for (let i = 0; i < samples.length; i++) {
  t += deltas[i];
  times[i] = t;
}
const weights = deltas.map((d, i) => (i + 1 < deltas.length ? deltas[i + 1] : d)); // the interval a sample stands for

// timeline: busy % per second (everything but (idle))
const isIdle = (id) => byId.get(id).callFrame.functionName === '(idle)';
const secs = Math.ceil((times.at(-1) - t0) / 1e6) + 1;
const busy = new Array(secs).fill(0);
for (let i = 0; i < samples.length; i++) if (!isIdle(samples[i])) busy[Math.floor((times[i] - t0) / 1e6)] += weights[i];

let from = 0;
let to = Infinity;
if (opt.window) [from, to] = opt.window.split(',').map(Number);
else if (opt.busy) {
  const hot = busy.map((b, s) => (b >= 5e5 ? s : -1)).filter((s) => s >= 0);
  // skip start-up: the first busy run is usually module loading + migrations; use the last long run
  if (hot.length) {
    let end = hot.at(-1);
    let start = end;
    while (start - 1 >= 0 && busy[start - 1] >= 5e5) start--;
    from = start;
    to = end + 1;
  }
}

const self = new Map();
const lineTicks = new Map(); // function key → Map(line → ticks)
const selfFile = new Map();
const selfPkg = new Map();
const incl = new Map();
let total = 0;
let idle = 0;
const countedNodes = new Set(); // position ticks are per node over the whole profile (no time window)
for (let i = 0; i < samples.length; i++) {
  const ts = (times[i] - t0) / 1e6;
  if (ts < from || ts >= to) continue;
  const w = weights[i];
  const node = byId.get(samples[i]);
  if (node.callFrame.functionName === '(idle)') {
    idle += w;
    continue;
  }
  total += w;
  const k = fnKey(node);
  self.set(k, (self.get(k) ?? 0) + w);
  if (!countedNodes.has(node.id)) {
    countedNodes.add(node.id);
    let lt = lineTicks.get(k);
    if (!lt) lineTicks.set(k, (lt = new Map()));
    for (const p of node.positionTicks ?? []) lt.set(p.line, (lt.get(p.line) ?? 0) + p.ticks);
  }
  const f = shortUrl(node.callFrame.url) || node.callFrame.functionName;
  selfFile.set(f, (selfFile.get(f) ?? 0) + w);
  const p = pkgOf(node.callFrame.url);
  selfPkg.set(p, (selfPkg.get(p) ?? 0) + w);
  const seen = new Set();
  for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
    const n = byId.get(id);
    if (n.callFrame.functionName === '(root)') break;
    if (opt.match && !shortUrl(n.callFrame.url).includes(opt.match)) continue;
    const key = fnKey(n);
    if (seen.has(key)) continue; // recursion: count once per sample
    seen.add(key);
    incl.set(key, (incl.get(key) ?? 0) + w);
  }
}

const pct = (v) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
const msS = (v) => `${(v / 1000).toFixed(0).padStart(7)} ms`;
function print(title, map, n = TOP) {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`${pct(v)} ${msS(v)}  ${k}\n`);
}

const win = opt.window || opt.busy ? `window ${from}–${to === Infinity ? 'end' : to} s` : 'whole profile';
process.stdout.write(`${file}\n${win}: ${(total / 1000).toFixed(0)} ms on CPU, ${(idle / 1000).toFixed(0)} ms idle, ${samples.length} samples in total\n`);
process.stdout.write(`timeline (busy % per second): ${busy.map((b) => Math.min(99, Math.round(b / 1e4))).join(' ')}\n`);
print('top functions by self time', self);
print('top files by self time', selfFile, Math.min(TOP, 20));
print('packages by self time', selfPkg, 15);
print(`top functions by inclusive time${opt.match ? ` (frames in files matching '${opt.match}')` : ''}`, incl);

const nLines = Number(opt.lines);
if (nLines > 0) {
  process.stdout.write(`\nhot lines of the top ${nLines} functions by self time (position ticks over the whole profile)\n`);
  for (const [k] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, nLines)) {
    const lt = lineTicks.get(k);
    if (!lt || lt.size === 0) continue;
    const sum = [...lt.values()].reduce((a, b) => a + b, 0);
    const top = [...lt.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    process.stdout.write(`  ${k}\n    ${top.map(([l, t]) => `line ${l}: ${((100 * t) / sum).toFixed(0)}%`).join(', ')}\n`);
  }
}
