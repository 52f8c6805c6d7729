/**
 * Pieces of the `lw serve --workers` suite: one request per fresh TCP connection (node:cluster hands
 * connections to workers in turn, so a batch reaches every worker), a held stream, the processes a pid
 * started (/proc), a scripted mock upstream, and the `lw` CLI as a subprocess.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultHandler, startMockUpstream, streamChat, type MockUpstream } from '../../helpers/mock-upstream.js';
import { ROOT } from '../../helpers/serve-process.js';

export const MODEL = 'gpt-4o-mini';
export const PRICEY = 'pricey';
export const SLOW_WORDS = Array.from({ length: 20 }, (_, i) => ` w${i}`);

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  worker: number;
}

export interface ChatOpts {
  content?: string;
  model?: string;
  stream?: boolean;
  max_tokens?: number;
}

function body(o: ChatOpts): string {
  return JSON.stringify({
    model: o.model ?? MODEL,
    messages: [{ role: 'user', content: o.content ?? 'hi' }],
    ...(o.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    ...(o.max_tokens ? { max_tokens: o.max_tokens } : {}),
  });
}

/** Opens a chat request on a new connection and resolves with the response head. */
export function open(url: string, key: string, o: ChatOpts = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/v1/chat/completions`);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } },
      resolve,
    );
    req.on('error', reject);
    req.end(body(o));
  });
}

export const workerOf = (h: IncomingHttpHeaders): number => Number(h['x-lw-worker'] ?? 0);

/** A whole chat request on a new connection. */
export async function chat(url: string, key: string, o: ChatOpts = {}): Promise<Answer> {
  const res = await open(url, key, o);
  let text = '';
  for await (const c of res) text += (c as Buffer).toString();
  return { status: res.statusCode ?? 0, headers: res.headers, text, worker: workerOf(res.headers) };
}

/** GET on a new connection. */
export function get(url: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}${path}`);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, agent: false, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, worker: workerOf(res.headers) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The cluster's worker processes among `pids` (running cluster/entry.ts; tsx may run an esbuild child too). */
export function workerPids(pids: number[]): number[] {
  return pids.filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join('cluster', 'entry.'));
    } catch {
      return false;
    }
  });
}

/** Processes whose parent is `pid` (Linux /proc). */
export function childrenOf(pid: number): number[] {
  if (!existsSync('/proc')) return [];
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** A gate the upstream waits on for requests whose message is `hold`. */
export interface Holds {
  up: MockUpstream;
  /** Requests with content `hold` wait until `release()`. */
  hold(): void;
  release(): void;
  /** Streams with content `stall` send one chunk and wait until `unstall()` or the client leaves. */
  unstall(): void;
}

/**
 * The mock upstream: `hold` waits on a gate, `stall` streams one chunk then waits, `slow` streams 20
 * chunks 100 ms apart; everything else answers like OpenAI with MOCK_USAGE.
 */
export async function scriptedUpstream(): Promise<Holds> {
  let gate: Promise<void> = Promise.resolve();
  let open_: () => void = () => {};
  let stall: Promise<void> = new Promise(() => {});
  let unstall_: () => void = () => {};
  const newStall = (): void => {
    stall = new Promise<void>((r) => (unstall_ = r));
  };
  newStall();
  const up = await startMockUpstream(async (req, res) => {
    const content = (req.body?.['messages'] as Array<{ content?: string }> | undefined)?.[0]?.content;
    if (content === 'hold') await gate;
    if (content === 'slow') return streamChat(req, res, { words: SLOW_WORDS, delayMs: 100 });
    if (content === 'stall') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'x' }, finish_reason: null }] })}\n\n`);
      await Promise.race([stall, new Promise((r) => res.once('close', r))]);
      return void res.end('data: [DONE]\n\n');
    }
    return defaultHandler(req, res);
  });
  return {
    up,
    hold() {
      gate = new Promise<void>((r) => (open_ = r));
    },
    release: () => open_(),
    unstall() {
      unstall_();
      newStall();
    },
  };
}

const run = promisify(execFile);

/** `lw …` as a subprocess on `home`; returns stdout. */
export async function lw(home: string, ...args: string[]): Promise<string> {
  const env = { ...process.env, LW_HOME: home, HOME: home, NO_COLOR: '1' };
  const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env, timeout: 60_000 });
  return r.stdout;
}

/** The value of one sample line (`name{labels} value`) of Prometheus text, or undefined. */
export function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}
