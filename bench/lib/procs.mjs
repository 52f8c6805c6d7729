/**
 * @module Child processes for the benchmark: started pinned to a core (`taskset -c N` when available),
 * tracked by PID, and all killed by PID on exit, SIGINT, SIGTERM or a crash. Plus /proc readers
 * (CPU time, RSS), free ports and small HTTP waits. Linux only for the /proc parts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { Buffer } from 'node:buffer';
import { clearTimeout, setTimeout } from 'node:timers';

/** pid → { name, child } of every child still alive. */
const children = new Map();

function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export const TASKSET = which('taskset');
export const CORES = availableParallelism();
/** Pinning only makes sense with taskset and at least two cores. */
export const PINNING = Boolean(TASKSET) && CORES >= 2;

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Pins this process (all its threads) to `core`; returns false when it cannot. */
export function pinSelf(core) {
  if (!PINNING) return false;
  try {
    execFileSync(TASKSET, ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `cmd args` (pinned to `core` when possible) and tracks it. stdout is piped (for the caller),
 * stderr goes to `onStderr` line by line. The PID is the program's own: taskset execs it.
 */
export function startChild(name, cmd, args, { core = null, env = process.env, cwd, stdin = 'ignore', onStderr } = {}) {
  const [file, argv] = core !== null && PINNING ? [TASKSET, ['-c', String(core), cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { env, cwd, stdio: [stdin, 'pipe', 'pipe'] });
  children.set(child.pid, { name, child });
  child.on('exit', () => children.delete(child.pid));
  child.stderr.setEncoding('utf8');
  let buf = '';
  child.stderr.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (onStderr) onStderr(line);
    }
  });
  return child;
}

/** Resolves with the first stdout line matching `test`, or rejects on exit / timeout. */
export function waitForLine(child, test, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => done(new Error(`${what}: no ready line within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d) => {
      buf += d;
      for (const line of buf.split('\n')) if (test(line)) return done(null, line);
    };
    const onExit = (code, sig) => done(new Error(`${what} exited early (code ${code}, signal ${sig})`));
    function done(err, line) {
      clearTimeout(t);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line);
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Stops one child by PID: `signal`, then SIGKILL after `graceMs`. Resolves when it is gone. */
export function stopChild(child, signal = 'SIGTERM', graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    try {
      process.kill(child.pid, signal);
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

/** Stops every tracked child, each by its PID. */
export async function stopAll(graceMs = 5000) {
  await Promise.all([...children.values()].map(({ child }) => stopChild(child, 'SIGTERM', graceMs)));
}

/** Last resort on process exit (synchronous): SIGKILL whatever is left, by PID. */
export function killAllNow() {
  for (const pid of children.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  children.clear();
}

/** utime + stime of a process (all its threads) in microseconds, or null when it is gone. */
export function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that ends the command name: state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return (ticks * 1e6) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size in MB (VmRSS), or null. */
export function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** A free loopback TCP port (listen on 0, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One small HTTP request; resolves { status, headers, body } (never rejects: status 0 on error). */
export function httpCall(url, { method = 'GET', headers = {}, body, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve) => {
    const req = request(url, { method, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => resolve({ status: 0, headers: {}, body: String(e) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, headers: {}, body: String(e.message) }));
    req.end(body);
  });
}

/** Polls `url` until it answers 200 or `timeoutMs` passes; throws with the last answer. */
export async function waitHttp(url, timeoutMs, child, what) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${what} exited (code ${child.exitCode})`);
    last = await httpCall(url, { timeoutMs: 1000 });
    if (last.status === 200) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} not ready at ${url} within ${timeoutMs} ms (last: ${last?.status} ${last?.body?.slice(0, 200)})`);
}

/** Per-core busy % over `ms` from /proc/stat (user+nice+system+irq+softirq+steal), or null. */
export async function coreBusy(ms = 1000) {
  const read = () => {
    try {
      return readFileSync('/proc/stat', 'utf8')
        .split('\n')
        .filter((l) => /^cpu\d+ /.test(l))
        .map((l) => {
          const f = l.trim().split(/\s+/).slice(1).map(Number);
          const idle = f[3] + f[4];
          const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
          return { idle, total };
        });
    } catch {
      return null;
    }
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  if (!a || !b) return null;
  return b.map((x, i) => Math.round((100 * (x.total - a[i].total - (x.idle - a[i].idle))) / Math.max(1, x.total - a[i].total)));
}
