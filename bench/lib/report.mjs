/**
 * @module The result table: rows of (metric | direct | lw | [portkey] | ratio | target | pass?) built
 * from the measurements, rendered as aligned text, and kept as data for the JSON file.
 */

const int = (n) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const ms = (n, d = 2) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
const pair = (a, b, d = 2) => (a === null || a === undefined ? 'n/a' : `${ms(a, d)} / ${ms(b, d)}`);
const mb = (n) => (n === null || n === undefined ? 'n/a' : n.toFixed(1));

/**
 * Builds the rows. `r` is the run's result object (see run.mjs); returns [{ metric, direct, lw, portkey,
 * ratio, target, pass }] with display strings, and `pass` true / false / null (no target).
 */
export function buildRows(r) {
  const rows = [];
  const peer = r.targets.includes('portkey');
  const add = (row) => rows.push({ portkey: peer ? (row.portkey ?? '') : undefined, ratio: '', target: '', pass: null, ...row });
  const KIND = { chat: 'chat', stream: 'stream', embed: 'embeddings' };

  for (const kind of ['chat', 'stream', 'embed']) {
    const byC = r.cells[kind];
    if (!byC) continue;
    for (const c of Object.keys(byC)) {
      const cell = byC[c];
      const d = cell.direct;
      const l = cell.lw;
      const p = cell.portkey;
      const label = `${KIND[kind]} c=${c}`;
      if (l?.na) {
        add({ metric: `${label} req/s`, direct: int(d?.rps), lw: `n/a (${l.na})`, portkey: p ? int(p.rps) : '' });
        continue;
      }
      const ratio = d && l ? l.rps / d.rps : null;
      const isTarget = kind === 'chat' && c === '32';
      add({
        metric: `${label} req/s`,
        direct: int(d?.rps),
        lw: int(l?.rps),
        portkey: p ? int(p.rps) : '',
        ratio: ratio === null ? '' : `${(ratio * 100).toFixed(0)}%`,
        target: isTarget ? '≥ 40%' : '',
        pass: isTarget && ratio !== null ? ratio >= 0.4 : null,
      });
      add({ metric: `${label} p50 / p99 ms`, direct: pair(d?.p50, d?.p99), lw: pair(l?.p50, l?.p99), portkey: p ? pair(p.p50, p.p99) : '' });
      const cpuRatio = d && l ? l.cpuUs / d.cpuUs : null;
      const cpuTarget = kind === 'chat' && c === '32';
      add({
        metric: `${label} server CPU µs/req`,
        direct: d ? `${int(d.cpuUs)} (mock)` : 'n/a',
        lw: `${int(l?.cpuUs)} (${l?.storeCpuUs != null ? `+store ${int(l.storeCpuUs)}, ` : ''}+mock ${int(l?.mockCpuUs)})`,
        portkey: p ? int(p.cpuUs) : '',
        ratio: cpuRatio === null ? '' : `${cpuRatio.toFixed(2)}×`,
        target: cpuTarget ? '≤ 3× mock' : '',
        pass: cpuTarget && cpuRatio !== null ? cpuRatio <= 3 : null,
      });
      const f = cell.floor;
      if (f && l) {
        add({
          metric: `${label} floor proxy: req/s, CPU µs/req`,
          direct: `${int(f.rps)}, ${int(f.cpuUs)}`,
          lw: `lw − floor: ${int(l.cpuUs - f.cpuUs)} µs`,
          ratio: d ? `floor ${(f.cpuUs / d.cpuUs).toFixed(2)}× mock` : '',
          target: 'info',
        });
      }
      if (l && (l.errors > 0 || d?.errors > 0 || p?.errors > 0)) {
        add({ metric: `${label} errors / non-2xx`, direct: int(d?.errors), lw: int(l.errors), portkey: p ? int(p.errors) : '' });
      }
    }
  }

  if (r.latency) {
    const { direct: d, lw: l, portkey: p } = r.latency;
    for (const [q, limit] of [
      ['p50', 0.3],
      ['p99', 1],
    ]) {
      const added = l[q] - d[q];
      add({
        metric: `c=1 non-stream latency ${q} ms`,
        direct: ms(d[q], 3),
        lw: ms(l[q], 3),
        portkey: p ? ms(p[q], 3) : '',
        ratio: `+${ms(added, 3)} ms`,
        target: `added ≤ ${limit} ms`,
        pass: added <= limit,
      });
    }
  }

  if (r.latency?.floor) {
    const { floor: f, lw: l, direct: d } = r.latency;
    add({
      metric: 'c=1 floor proxy (no logic, lw core) p50 / p99',
      direct: pair(f.p50, f.p99, 3),
      lw: `+${ms(l.p50 - f.p50, 3)} / +${ms(l.p99 - f.p99, 3)}`,
      ratio: `floor +${ms(f.p50 - d.p50, 3)} ms`,
      target: 'info',
    });
  }

  if (r.latency?.control) {
    const { control: k, lw: l } = r.latency;
    add({
      metric: 'c=1 control: mock on the lw core p50 / p99',
      direct: pair(k.p50, k.p99, 3),
      lw: `+${ms(l.p50 - k.p50, 3)} / +${ms(l.p99 - k.p99, 3)}`,
      ratio: 'lw − control',
      target: 'info',
    });
  }

  if (r.firstByte) {
    for (const c of Object.keys(r.firstByte)) {
      const { direct: d, lw: l, portkey: p } = r.firstByte[c];
      for (const q of ['p50', 'p99']) {
        const added = l[q] - d[q];
        if (q === 'p50' && r.firstByte[c].floor) {
          const f = r.firstByte[c].floor;
          add({ metric: `stream first byte c=${c} floor proxy p50`, direct: ms(f.p50, 3), lw: `+${ms(l.p50 - f.p50, 3)}`, ratio: 'lw − floor', target: 'info' });
        }
        if (q === 'p50' && r.firstByte[c].control) {
          const k = r.firstByte[c].control;
          add({ metric: `stream first byte c=${c} control (mock on lw core) p50`, direct: ms(k.p50, 3), lw: `+${ms(l.p50 - k.p50, 3)}`, ratio: 'lw − control', target: 'info' });
        }
        add({
          metric: `stream first byte c=${c} ${q} ms`,
          direct: ms(d[q], 3),
          lw: ms(l[q], 3),
          portkey: p ? ms(p[q], 3) : '',
          ratio: `+${ms(added, 3)} ms`,
          target: q === 'p50' ? 'added ≤ 1 ms' : '',
          pass: q === 'p50' ? added <= 1 : null,
        });
      }
    }
  }

  if (r.rss) {
    add({
      metric: 'RSS under load, max MB',
      direct: mb(r.rss.mockMax) + ' (mock)',
      lw: `${mb(r.rss.lwMax)} (idle ${mb(r.rss.lwIdle)}${r.rss.restarted ? `; 1st start ${mb(r.rss.firstStartIdle)}` : ''})`,
      portkey: r.rss.portkeyMax ? mb(r.rss.portkeyMax) : '',
      target: '≤ 120 MB',
      pass: r.rss.lwMax !== null ? r.rss.lwMax <= 120 : null,
    });
    if (r.rss.storeMax != null) {
      add({ metric: 'embedded store process RSS, max MB', direct: '', lw: `${mb(r.rss.storeMax)} (idle ${mb(r.rss.storeIdle)})`, portkey: '', target: 'info' });
    }
  }

  if (peer && r.cells.chat?.['32']?.portkey && r.cells.chat['32'].lw && !r.cells.chat['32'].lw.na) {
    const x = r.cells.chat['32'].lw.rps / r.cells.chat['32'].portkey.rps;
    add({ metric: 'lw vs portkey, chat c=32 req/s', direct: '', lw: `${x.toFixed(1)}×`, portkey: '1×', target: '≥ 10×', pass: x >= 10 });
  }

  if (r.soak) {
    const s = r.soak;
    add({
      metric: `soak ${int(s.requests)} req: RSS before/end/max MB`,
      direct: '',
      lw: `${mb(s.startMB)} / ${mb(s.endMB)} / ${mb(s.maxMB)}`,
      ratio: `troughs ${s.troughDriftMB >= 0 ? '+' : ''}${mb(s.troughDriftMB)} MB`,
      target: 'flat: troughs of the 2 halves ≤ 10 MB apart',
      pass: s.troughDriftMB <= 10,
    });
  }
  return rows;
}

/** Renders rows as an aligned text table. */
export function renderTable(rows, peer) {
  const cols = ['metric', 'direct', 'lw', ...(peer ? ['portkey'] : []), 'ratio', 'target', 'pass'];
  const cell = (row, c) => (c === 'pass' ? (row.pass === null ? '' : row.pass ? 'PASS' : 'FAIL') : String(row[c] ?? ''));
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (vals) => vals.map((v, i) => (i === 0 ? v.padEnd(width[i]) : v.padStart(width[i]))).join(' | ');
  return [line(cols), width.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map((r) => line(cols.map((c) => cell(r, c))))].join('\n');
}
