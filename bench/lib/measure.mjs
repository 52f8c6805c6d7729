/**
 * @module The measurements of run.mjs: one load phase with the server's CPU time and RSS around it,
 * interleaved rounds per cell, interleaved sequential samples (c=1 latency, first byte), sanity checks.
 * `ctx` = { loadgen, loadCore, tmp, mockPid, rss (rssSampler), rounds, durationS, log }.
 */
import { clearInterval, setInterval } from 'node:timers';
import { runLoad, timedBatch } from './load.mjs';
import { BODY, PATH } from './lw.mjs';
import { cpuMicros, httpCall, rssMB } from './procs.mjs';

/** RSS sampler for the gateway processes: max over the current phase and over all load phases. */
export function rssSampler(pids) {
  const state = { phaseMax: {}, loadMax: {}, on: false };
  const sample = () => {
    if (!state.on) return;
    for (const [name, pid] of Object.entries(pids)) {
      const v = rssMB(pid);
      if (v === null) continue;
      state.phaseMax[name] = Math.max(state.phaseMax[name] ?? 0, v);
      state.loadMax[name] = Math.max(state.loadMax[name] ?? 0, v);
    }
  };
  const timer = setInterval(sample, 200);
  timer.unref();
  return {
    begin() {
      state.phaseMax = {};
      state.on = true;
      sample();
    },
    end() {
      sample();
      state.on = false;
      return { ...state.phaseMax };
    },
    loadMax: state.loadMax,
    stop: () => clearInterval(timer),
  };
}

export async function phase(t, kind, c, durationS, ctx, name) {
  const serverPid = t.pid;
  const cpu0 = cpuMicros(serverPid);
  const m0 = cpuMicros(ctx.mockPid);
  const s0 = t.storePid ? cpuMicros(t.storePid) : 0;
  ctx.rss.begin();
  const r = await runLoad(ctx.loadgen, {
    url: t.base + PATH[kind],
    headers: t.headers,
    bodies: [BODY[kind](t.models[kind])],
    connections: c,
    durationS,
    loadCore: ctx.loadCore,
    tmpDir: ctx.tmp,
    name,
  });
  const rss = ctx.rss.end();
  const cpu = cpuMicros(serverPid) - cpu0;
  const mcpu = cpuMicros(ctx.mockPid) - m0;
  const scpu = t.storePid ? cpuMicros(t.storePid) - s0 : null;
  return { ...r, cpuTotalUs: cpu, mockCpuTotalUs: mcpu, storeCpuTotalUs: scpu, rssMax: rss[t.id] ?? null };
}

/** Interleaved rounds: direct, lw, [portkey], direct, lw, … so drift on a shared machine hits all alike. */
export async function cellFor(targets, kind, c, ctx) {
  const acc = {};
  for (let round = 0; round < ctx.rounds; round++) {
    for (const t of targets) {
      const r = await phase(t, kind, c, ctx.durationS, ctx, `${kind}-c${c}-${t.id}-${round}`);
      const a = (acc[t.id] ??= { ok: 0, errors: 0, durationS: 0, cpuTotalUs: 0, mockCpuTotalUs: 0, storeCpuTotalUs: null, p50s: [], p99s: [], rssMax: null, rounds: [] });
      a.ok += r.ok;
      a.errors += r.errors;
      a.durationS += r.durationS;
      a.cpuTotalUs += r.cpuTotalUs;
      a.mockCpuTotalUs += r.mockCpuTotalUs;
      if (r.storeCpuTotalUs !== null) a.storeCpuTotalUs = (a.storeCpuTotalUs ?? 0) + r.storeCpuTotalUs;
      a.p50s.push(r.p50);
      a.p99s.push(r.p99);
      if (r.rssMax !== null) a.rssMax = Math.max(a.rssMax ?? 0, r.rssMax);
      a.rounds.push({ rps: Math.round(r.rps), p50: r.p50, p99: r.p99, errors: r.errorDetail });
    }
  }
  const out = {};
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  for (const [id, a] of Object.entries(acc)) {
    out[id] = {
      rps: a.ok / a.durationS,
      ok: a.ok,
      errors: a.errors,
      p50: mean(a.p50s),
      p99: mean(a.p99s),
      cpuUs: a.ok > 0 ? a.cpuTotalUs / a.ok : null,
      mockCpuUs: a.ok > 0 ? a.mockCpuTotalUs / a.ok : null,
      storeCpuUs: a.ok > 0 && a.storeCpuTotalUs !== null ? a.storeCpuTotalUs / a.ok : null,
      rssMax: a.rssMax,
      rounds: a.rounds,
    };
    const o = out[id];
    ctx.log(
      `  ${kind.padEnd(6)} c=${String(c).padEnd(3)} ${id.padEnd(7)} ${Math.round(o.rps).toString().padStart(6)} req/s  p50 ${o.p50.toFixed(2)} p99 ${o.p99.toFixed(2)} ms  ` +
        `cpu ${Math.round(o.cpuUs)} µs/req (${o.storeCpuUs !== null ? `store ${Math.round(o.storeCpuUs)}, ` : ''}mock ${Math.round(o.mockCpuUs)})${a.errors ? `  ERRORS ${a.errors}` : ''}`,
    );
  }
  return out;
}

/** Sequential samples from each target, interleaved in blocks. */
export async function interleaved(targets, kindOf, n, conc, block, tag) {
  const res = Object.fromEntries(targets.map((t) => [t.id, { total: [], first: [], errors: 0 }]));
  for (let done = 0; done < n; done += block) {
    for (const t of targets) {
      const count = Math.max(conc, Math.round(Math.min(block, n - done) * t.share));
      const b = await timedBatch({ url: t.base + PATH.chat, headers: t.headers, body: kindOf(t) }, count, conc, `${t.id}|${tag}`);
      res[t.id].total.push(...b.total);
      res[t.id].first.push(...b.first);
      res[t.id].errors += b.errors;
    }
  }
  return res;
}

export async function sanity(t, kind) {
  const r = await httpCall(t.base + PATH[kind], { method: 'POST', headers: t.headers, body: BODY[kind](t.models[kind]) });
  const ok = r.status === 200 && (kind === 'stream' ? r.body.includes('[DONE]') : kind === 'embed' ? r.body.includes('"embedding"') : r.body.includes('chat.completion'));
  return { ok, status: r.status, body: r.body.slice(0, 300), overheadHeader: r.headers['x-lw-overhead-ms'] ?? null };
}
