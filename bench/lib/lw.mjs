/**
 * @module Starting the mock upstream and lw for a benchmark, and configuring lw through its own CLI:
 * provider `mock`, models `bench-chat` / `bench-fb` (5 ms between stream chunks) / `bench-embed`, a
 * tier `bench` with every limit enabled but far out of reach (so the limiter and the token estimate
 * run on every request) and a key. Shared by run.mjs and ab.mjs.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, startChild, waitForLine, waitHttp } from './procs.mjs';

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));

const MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Write one short sentence about the sea.' },
];
/** Request bodies by kind, for a model name. Streams ask for usage, as usage-tracking clients do. */
export const BODY = {
  chat: (model) => JSON.stringify({ model, messages: MESSAGES, max_tokens: 64 }),
  stream: (model) => JSON.stringify({ model, messages: MESSAGES, max_tokens: 64, stream: true, stream_options: { include_usage: true } }),
  embed: (model) => JSON.stringify({ model, input: 'The quick brown fox jumps over the lazy dog.' }),
};
export const PATH = { chat: '/v1/chat/completions', stream: '/v1/chat/completions', embed: '/v1/embeddings' };
/** Model names: direct to the mock (the name shapes the stream) and through lw. */
export const MOCK_MODELS = { chat: 'mock', stream: 'mock', embed: 'mock-embed', fb: 'mock-d5-n3' };
export const LW_MODELS = { chat: 'bench-chat', stream: 'bench-chat', embed: 'bench-embed', fb: 'bench-fb' };
export const TIER = { rpm: '10000000', tpm: '1000000000', monthlyTokens: '1000000000000', maxConcurrent: '1000000' };

/** Starts the mock (exits with us through its stdin pipe); resolves { child, port, base }. */
export async function startMock({ core, chunks = 16, log }) {
  const child = startChild('mock', process.execPath, [join(BENCH, 'mock-upstream.mjs'), '--port', '0', '--chunks', String(chunks), '--parent-pipe'], {
    core,
    stdin: 'pipe',
    onStderr: (l) => log(`mock: ${l}`),
  });
  const line = await waitForLine(child, (l) => l.startsWith('{'), 10_000, 'mock upstream');
  const { port } = JSON.parse(line);
  return { child, port, base: `http://127.0.0.1:${port}` };
}

/** Starts bench/floor-proxy.mjs (a logic-free Node proxy) in front of `upstream`; resolves { child, port, base }. */
export async function startFloor({ core, upstream, log }) {
  const child = startChild('floor', process.execPath, [join(BENCH, 'floor-proxy.mjs'), '--upstream', upstream, '--parent-pipe'], {
    core,
    stdin: 'pipe',
    onStderr: (l) => log(`floor: ${l}`),
  });
  const line = await waitForLine(child, (l) => l.startsWith('{'), 10_000, 'floor proxy');
  const { port } = JSON.parse(line);
  return { child, port, base: `http://127.0.0.1:${port}` };
}

/** `['K=V', …]` (command-line `K=V` pairs) as an environment object for `startLw`'s `extraEnv`. */
export function envPairs(pairs) {
  return Object.fromEntries(pairs.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/**
 * The V8 flags the build at `entry` runs its daemon with (`daemon/node-flags.js`: what `lw serve` gets from
 * the launcher's shebang, `npm start` and the systemd unit); none for a build from before that file.
 */
async function daemonNodeFlags(entry) {
  const file = join(dirname(entry), '..', 'daemon', 'node-flags.js');
  if (!existsSync(file)) return [];
  return [...(await import(pathToFileURL(file).href)).DAEMON_NODE_FLAGS];
}

/**
 * Starts `node <daemon flags> [nodeArgs] <entry> serve` on a free loopback port with LW_HOME=home, on the
 * embedded store (database / Redis variables removed) unless extraEnv names one (--db). Resolves
 * { child, port, base, env, startupMs }.
 */
export async function startLw({ entry, home, core, logLevel = 'warn', nodeArgs = [], extraEnv = {}, log, name = 'lw' }) {
  nodeArgs = [...(await daemonNodeFlags(entry)), ...nodeArgs];
  const port = await freePort();
  const env = { ...process.env, LW_HOME: home, LW_LOG_LEVEL: logLevel };
  for (const k of ['LW_DATABASE_URL', 'DATABASE_URL', 'LW_REDIS_URL', 'LW_CONFIG', 'LW_PORT', 'LW_HOST', 'LW_URL']) delete env[k];
  Object.assign(env, extraEnv); // e.g. LW_DATABASE_URL from --db
  let echoed = 0;
  const t0 = Date.now();
  const child = startChild(name, process.execPath, [...nodeArgs, entry, 'serve', '--host', '127.0.0.1', '--port', String(port), '--log-level', logLevel], {
    core,
    env,
    onStderr: (l) => {
      // echo what lw says beyond its per-request info lines, but never flood the report
      if (/"level":"info"/.test(l) || echoed > 10) return;
      log(echoed++ === 10 ? `${name}: (more stderr lines not shown)` : `${name}: ${l.slice(0, 300)}`);
    },
  });
  child.stdout.resume();
  const base = `http://127.0.0.1:${port}`;
  await waitHttp(`${base}/healthz`, 120_000, child, name);
  return { child, port, base, env, startupMs: Date.now() - t0, storePid: storePidOf(home, child.pid) };
}

/**
 * The embedded store's own process, when lw runs it in one (`store_pid` in daemon.json); null when the
 * store is in-process or a PostgreSQL server. Measured beside lw, never hidden in it or left out.
 */
function storePidOf(home, lwPid) {
  try {
    const info = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8'));
    return info.pid === lwPid && typeof info.store_pid === 'number' ? info.store_pid : null;
  } catch {
    return null;
  }
}

function cli(entry, env, home, args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [entry, '--home', home, ...args, '--json'], { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`lw ${args.slice(0, 2).join(' ')} failed: ${(stderr || err.message).trim().slice(0, 400)}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/** Configures a running lw through the CLI (it reaches the daemon's admin API); resolves the key. */
export async function configureLw({ entry, env, home, mockBase }) {
  const run = (args) => cli(entry, env, home, args);
  await run(['providers', 'add', 'mock', '--kind', 'openai', '--base-url', `${mockBase}/v1`]);
  await Promise.all([
    run(['models', 'add', 'bench-chat', '--provider', 'mock', '--upstream-model', MOCK_MODELS.chat, '--price-in', '1', '--price-out', '2']),
    run(['models', 'add', 'bench-fb', '--provider', 'mock', '--upstream-model', MOCK_MODELS.fb, '--price-in', '1', '--price-out', '2']),
    run(['models', 'add', 'bench-embed', '--provider', 'mock', '--upstream-model', MOCK_MODELS.embed, '--embedding', '--price-in', '0.02', '--price-out', '0']),
    run(['tiers', 'create', 'bench', '--rpm', TIER.rpm, '--tpm', TIER.tpm, '--monthly-tokens', TIER.monthlyTokens, '--max-concurrent', TIER.maxConcurrent]),
  ]);
  const created = await run(['keys', 'create', '--name', 'bench', '--tier', 'bench']);
  return created.key;
}
