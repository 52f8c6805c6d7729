/**
 * Done-when of issue 4, as a new user would do it: `lw configure codex` (the CLI as a subprocess) into a
 * temporary CODEX_HOME, then the real `codex exec` (@openai/codex 0.169, devDependency) answers through
 * the daemon's /v1/responses, translated to a Chat-Completions-only mock upstream: a plain answer and a
 * tool round trip (the model asks for `exec_command`, codex runs it and sends the output back).
 * Loopback only: proxy variables point at a local socket that answers 502, every codex run has a hard
 * timeout and is killed by its process group.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { chunk, startMockUpstream, type MockUpstream, type RecordedRequest } from '../../helpers/mock-upstream.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const CODEX = join(ROOT, 'node_modules', '.bin', 'codex');
const available = existsSync(CODEX);
if (!available) console.warn('[lw tests] SKIPPING codex-e2e: node_modules/.bin/codex is not installed (npm i)');

/** Hard limit for one codex run; it hangs forever when the gateway is unreachable. */
const CODEX_TIMEOUT_MS = 45_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Spawns `cmd` in its own process group; on timeout the whole group is killed by its id. */
function run(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // helpers codex left behind, if any
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

interface CodexEvent {
  type: string;
  item?: { type?: string; text?: string; command?: string; aggregated_output?: string; status?: string; exit_code?: number | null };
  usage?: { input_tokens?: number; cached_input_tokens?: number; output_tokens?: number };
  [k: string]: unknown;
}

function jsonl(stdout: string): CodexEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as CodexEvent);
}

interface ChatMessage {
  role: string;
  content: unknown;
  tool_call_id?: string;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
}

const messagesOf = (r: RecordedRequest): ChatMessage[] => (r.body?.['messages'] as ChatMessage[] | undefined) ?? [];
const toolNamesOf = (r: RecordedRequest): string[] =>
  ((r.body?.['tools'] as Array<{ function: { name: string } }> | undefined) ?? []).map((t) => t.function.name);
const textOf = (m: ChatMessage): string => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''));

const TOOL_PROMPT = 'please run the lw tool check';
const PLAIN_ANSWER = 'hi from the lw mock';

/** Streams a chat answer: text, or one tool call; then finish_reason and a usage chunk. */
function streamAnswer(req: RecordedRequest, res: ServerResponse, answer: { text?: string; tool?: { name: string; args: string } }, usage: { prompt_tokens: number; completion_tokens: number }): void {
  const model = String(req.body?.['model'] ?? 'mock');
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const write = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
  write(chunk(model, { role: 'assistant', content: '' }));
  if (answer.text) for (const part of answer.text.match(/.{1,6}/gs) ?? []) write(chunk(model, { content: part }));
  if (answer.tool) {
    const { name, args } = answer.tool;
    write(chunk(model, { tool_calls: [{ index: 0, id: 'call_lw_1', type: 'function', function: { name, arguments: '' } }] }));
    write(chunk(model, { tool_calls: [{ index: 0, function: { arguments: args.slice(0, 8) } }] }));
    write(chunk(model, { tool_calls: [{ index: 0, function: { arguments: args.slice(8) } }] }));
  }
  write(chunk(model, {}, answer.tool ? 'tool_calls' : 'stop'));
  write({ ...chunk(model, {}), choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
  res.end('data: [DONE]\n\n');
}

describe.skipIf(!available)('codex exec through lw to a chat-only upstream', () => {
  let up: MockUpstream;
  let gw: TestDaemon;
  let key: string;
  let tmp: string;
  let proxy: Server;
  const proxied: string[] = [];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // Anything codex tries to reach outside loopback goes to this socket and gets a 502.
    proxy = createServer((socket) => {
      socket.once('data', (d) => {
        proxied.push(d.toString('latin1').split('\r\n')[0] ?? '');
        socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

    up = await startMockUpstream((req, res) => {
      const msgs = messagesOf(req);
      const last = msgs.at(-1);
      if (last?.role === 'tool') {
        const out = textOf(last);
        const text = out.includes('lw-tool-ok') ? 'the command printed lw-tool-ok' : `no marker in: ${out.slice(0, 200)}`;
        streamAnswer(req, res, { text }, { prompt_tokens: 300, completion_tokens: 20 });
        return;
      }
      const asked = msgs.filter((m) => m.role === 'user').some((m) => textOf(m).includes(TOOL_PROMPT));
      if (asked) {
        const names = toolNamesOf(req);
        const tool = names.includes('exec_command')
          ? { name: 'exec_command', args: JSON.stringify({ cmd: 'echo lw-tool-ok' }) }
          : { name: 'shell', args: JSON.stringify({ command: ['echo', 'lw-tool-ok'] }) };
        streamAnswer(req, res, { tool }, { prompt_tokens: 200, completion_tokens: 10 });
        return;
      }
      streamAnswer(req, res, { text: PLAIN_ANSWER }, { prompt_tokens: 100, completion_tokens: 5 });
    });
    gw = await startTestDaemon({ env: { MOCK_KEY: 'sk-upstream-codex' } });
    await gw.admin.providers.add({ name: 'chatonly', kind: 'openai', base_url: up.url, api_key_env: 'MOCK_KEY' });
    await gw.admin.models.add({ id: 'coder', provider: 'chatonly', upstream_model: 'mock-model' });
    key = (await gw.admin.keys.create({ name: 'codex-e2e' })).key;

    tmp = mkdtempSync(join(tmpdir(), 'lw-codex-e2e-'));
    for (const d of ['home', 'codex', 'work']) mkdirSync(join(tmp, d));
    env = {
      PATH: process.env['PATH'],
      HOME: join(tmp, 'home'),
      CODEX_HOME: join(tmp, 'codex'),
      // the CLI finds the in-process daemon (daemon.json + admin token) in its LW_HOME
      LW_HOME: gw.home,
      LW_API_KEY: key,
      HTTPS_PROXY: proxyUrl,
      HTTP_PROXY: proxyUrl,
      ALL_PROXY: proxyUrl,
      https_proxy: proxyUrl,
      http_proxy: proxyUrl,
      all_proxy: proxyUrl,
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
    };
  });

  afterAll(async () => {
    await gw?.close();
    await up?.close();
    await new Promise((r) => proxy?.close(r));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const configure = (...extra: string[]) =>
    run(process.execPath, ['--import', 'tsx', MAIN, 'configure', 'codex', '--key', key, '--model', 'coder', '--base-url', gw.baseURL, ...extra], {
      env,
      cwd: ROOT,
      timeoutMs: 30_000,
    });

  const codex = (prompt: string) =>
    run(CODEX, ['exec', '--skip-git-repo-check', '-c', 'analytics.enabled=false', '--json', prompt], {
      env,
      cwd: join(tmp, 'work'),
      timeoutMs: CODEX_TIMEOUT_MS,
    });

  interface Report {
    files: Array<{ path: string; changed: boolean; created: boolean }>;
    instructions: string[];
  }

  it('lw configure codex writes the lw provider into $CODEX_HOME/config.toml, and a re-run changes nothing', async () => {
    const first = await configure('--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as Report;
    const path = join(tmp, 'codex', 'config.toml');
    expect(report.files).toEqual([expect.objectContaining({ path, changed: true, created: true })]);
    expect(report.instructions.join('\n')).toContain('export LW_API_KEY=');
    const written = readFileSync(path, 'utf8');
    expect(written).toContain('model = "coder"');
    expect(written).toContain('model_provider = "lw"');
    expect(written).toContain(`base_url = "${gw.baseURL}"`);
    expect(written).toContain('env_key = "LW_API_KEY"');
    expect(written).toContain('wire_api = "responses"');
    expect(written).not.toContain(key); // the key stays in the environment

    // the same command again, as a person would run it: nothing to do, nothing written, no backup
    const again = await configure();
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged ${path}`);
    expect(again.stdout).not.toMatch(/^(created|updated) /m);
    expect(readFileSync(path, 'utf8')).toBe(written);
    expect(readdirSync(join(tmp, 'codex')).filter((f) => f.startsWith('config.toml'))).toEqual(['config.toml']);
  }, 60_000);

  // The codex runs below use the config.toml the test above wrote (tests in a file run in order).
  it('codex exec answers through lw: agent_message with the mock text and turn.completed with usage', async () => {
    const before = up.requests.length;
    const r = await codex('say hi');
    const diag = `exit ${r.code} ${r.signal ?? ''} timedOut=${r.timedOut}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
    expect(r.timedOut, diag).toBe(false);
    expect(r.code, diag).toBe(0);
    const events = jsonl(r.stdout);
    const messages = events.filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message');
    expect(messages.map((e) => e.item?.text), diag).toEqual([PLAIN_ANSWER]);
    const done = events.filter((e) => e.type === 'turn.completed');
    expect(done, diag).toHaveLength(1);
    expect(done[0]!.usage).toMatchObject({ input_tokens: 100, output_tokens: 5 });
    expect(events.some((e) => e.type === 'turn.failed' || e.type === 'error')).toBe(false);

    // one upstream chat request, translated from codex's Responses request
    const sent = up.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/v1/chat/completions');
    expect(sent[0]!.headers.authorization).toBe('Bearer sk-upstream-codex');
    expect(sent[0]!.body).toMatchObject({ model: 'mock-model', stream: true, stream_options: { include_usage: true } });
    const msgs = messagesOf(sent[0]!);
    expect(msgs[0]!.role).toBe('system'); // codex's developer messages, joined
    expect(msgs.filter((m) => m.role === 'system')).toHaveLength(1);
    expect(textOf(msgs.at(-1)!)).toContain('say hi');
  }, 60_000);

  it('codex runs the tool the chat model called and sends its output back as a tool message', async () => {
    const before = up.requests.length;
    const r = await codex(TOOL_PROMPT);
    const diag = `exit ${r.code} ${r.signal ?? ''} timedOut=${r.timedOut}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
    expect(r.timedOut, diag).toBe(false);
    expect(r.code, diag).toBe(0);

    const sent = up.requests.slice(before);
    expect(sent, diag).toHaveLength(2);
    const toolNames = toolNamesOf(sent[0]!);
    expect(toolNames).toContain('exec_command');

    const events = jsonl(r.stdout);
    const command = events.find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    expect(command?.item?.command, diag).toContain('echo lw-tool-ok');
    expect(command?.item?.aggregated_output).toContain('lw-tool-ok');
    expect(command?.item?.exit_code).toBe(0);
    const messages = events.filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message');
    expect(messages.map((e) => e.item?.text), diag).toEqual(['the command printed lw-tool-ok']);
    const done = events.filter((e) => e.type === 'turn.completed');
    expect(done).toHaveLength(1);
    // the turn's usage is the sum of both upstream answers (200+300 in, 10+20 out)
    expect(done[0]!.usage).toMatchObject({ input_tokens: 500, output_tokens: 30 });

    // the second upstream request: the assistant tool call, then the tool message carrying the output
    const second = messagesOf(sent[1]!);
    const call = second.at(-2)!;
    expect(call.role).toBe('assistant');
    expect(call.tool_calls).toEqual([
      { id: 'call_lw_1', type: 'function', function: { name: 'exec_command', arguments: JSON.stringify({ cmd: 'echo lw-tool-ok' }) } },
    ]);
    const tool = second.at(-1)!;
    expect(tool.role).toBe('tool');
    expect(tool.tool_call_id).toBe('call_lw_1');
    expect(textOf(tool)).toContain('lw-tool-ok');
  }, 60_000);

  it('stayed on loopback: the gateway was reached directly, other hosts only reached the local 502 proxy', () => {
    // codex 0.169 also tries github.com / chatgpt.com (CONNECT through the proxy, refused); never the gateway
    expect(proxied.filter((l) => !/^CONNECT [a-z0-9.-]+:443 HTTP\/1\.1$/.test(l))).toEqual([]);
    expect(proxied.some((l) => l.includes('127.0.0.1'))).toBe(false);
  });
});
