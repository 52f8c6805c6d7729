/**
 * @module What every command needs from the program: the global options, an `Output` honouring
 * `--json`, and the admin service (picked by `backend.ts`, closed after the command). Tests pass
 * their own streams and a fake `getAdmin`, so commands run without a store or a terminal.
 */
import type { Command } from 'commander';
import type { AdminService } from '../admin/types.js';
import { getAdmin as realGetAdmin, type AdminBackend, type BackendDeps, type BackendOptions } from './backend.js';
import { createOutput, type Output, type OutputStream } from './output.js';
import type { InkKit } from './ui/load.js';

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions extends BackendOptions {
  json?: boolean;
}

export interface CliDeps {
  getAdmin?: (opts: BackendOptions, deps: BackendDeps) => Promise<AdminBackend>;
  stdout?: OutputStream;
  stderr?: OutputStream;
  /** Force TTY (ink) or plain rendering; defaults to stdout.isTTY. */
  isTTY?: boolean;
  columns?: number;
  /** Environment read for LW_* variables; `--home` writes LW_HOME into it. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Stops watch loops; default: the first SIGINT (Ctrl-C). */
  signal?: AbortSignal;
  /** The ink kit for rendered output; `run()` loads it unless the command needs none (serve, --json). */
  inkKit?: InkKit | null;
}

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal | undefined;
  globals(cmd: Command): GlobalOptions;
  output(cmd: Command): Output;
  /** Opens the admin backend for this command; the caller closes it. */
  open(cmd: Command): Promise<AdminBackend>;
  /** Runs `fn` on the admin service and closes the backend afterwards, whatever happens. */
  withService<T>(cmd: Command, fn: (service: AdminService) => Promise<T>): Promise<T>;
}

export function createContext(deps: CliDeps = {}): CliContext {
  const env = deps.env ?? process.env;
  const getAdmin = deps.getAdmin ?? realGetAdmin;
  const outputs = new WeakMap<Command, Output>();
  const ctx: CliContext = {
    env,
    signal: deps.signal,
    globals: (cmd) => cmd.optsWithGlobals<GlobalOptions>(),
    output(cmd) {
      let out = outputs.get(cmd);
      if (!out) {
        out = createOutput({
          json: ctx.globals(cmd).json === true,
          ...(deps.stdout ? { stdout: deps.stdout } : {}),
          ...(deps.stderr ? { stderr: deps.stderr } : {}),
          ...(deps.isTTY !== undefined ? { isTTY: deps.isTTY } : {}),
          ...(deps.columns !== undefined ? { columns: deps.columns } : {}),
          kit: deps.inkKit ?? null,
        });
        outputs.set(cmd, out);
      }
      return out;
    },
    open(cmd) {
      const g = ctx.globals(cmd);
      return getAdmin({ db: g.db, url: g.url, adminKey: g.adminKey, home: g.home, config: g.config }, { env });
    },
    async withService(cmd, fn) {
      const backend = await ctx.open(cmd);
      try {
        return await fn(backend.service);
      } finally {
        await backend.close();
      }
    },
  };
  return ctx;
}
