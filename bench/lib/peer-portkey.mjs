/**
 * @module `--peer portkey`: installs @portkey-ai/gateway with npm into a temporary folder (reused across
 * runs: <os tmp>/lw-bench-peer-portkey), starts its Node server (`build/start-server.js --port=P
 * --headless`, the package's `bin`) pinned to the gateway core with portkey-fetch-shim.mjs preloaded
 * (without it Portkey's streams fail on Node 20, see there), and describes how to reach the mock through
 * it (`x-portkey-provider: openai`, `x-portkey-custom-host: <mock>/v1`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChild, waitHttp } from './procs.mjs';

export const PORTKEY_DIR = join(tmpdir(), 'lw-bench-peer-portkey');
const PKG = '@portkey-ai/gateway';

function npmInstall(dir, log) {
  return new Promise((resolve, reject) => {
    log(`portkey: npm i --prefix ${dir} ${PKG} (bounded to 240 s)`);
    execFile(
      process.platform === 'win32' ? 'npm.cmd' : 'npm',
      ['i', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel', 'error', PKG],
      { timeout: 240_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`npm install failed: ${(stderr || err.message).slice(-800)}`)) : resolve()),
    );
  });
}

/** Installs (unless already there) and starts Portkey; resolves { child, port, version, baseUrl }. */
export async function startPortkey({ core, log, fresh = false }) {
  const pkgDir = join(PORTKEY_DIR, 'node_modules', '@portkey-ai', 'gateway');
  if (fresh || !existsSync(join(pkgDir, 'package.json'))) {
    mkdirSync(PORTKEY_DIR, { recursive: true });
    await npmInstall(PORTKEY_DIR, log);
  }
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin && Object.values(pkg.bin)[0]) || 'build/start-server.js';
  const entry = join(pkgDir, bin);
  if (!existsSync(entry)) throw new Error(`portkey ${pkg.version}: no server entry at ${entry}`);
  const port = await freePort();
  const stderr = [];
  const shim = new URL('./portkey-fetch-shim.mjs', import.meta.url).href;
  const child = startChild('portkey', process.execPath, ['--import', shim, entry, `--port=${port}`, '--headless'], {
    core,
    cwd: PORTKEY_DIR,
    env: { ...process.env, NODE_ENV: 'production' },
    onStderr: (l) => stderr.length < 50 && stderr.push(l),
  });
  child.stdout.resume();
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    // its server answers GET / with a plain greeting
    await waitHttp(`${baseUrl}/`, 30_000, child, 'portkey');
  } catch (e) {
    throw new Error(`${e.message}; stderr: ${stderr.join(' | ').slice(0, 800)}`);
  }
  log(`portkey ${pkg.version} listening on ${baseUrl} (pid ${child.pid})`);
  return { child, port, version: pkg.version, baseUrl };
}

/** Headers that make Portkey forward to the mock as an OpenAI-compatible custom host. */
export function portkeyHeaders(mockBase) {
  return {
    'content-type': 'application/json',
    authorization: 'Bearer sk-bench-not-a-key',
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `${mockBase}/v1`,
  };
}
