/**
 * @module `lw serve`: runs the daemon in the foreground (systemd-friendly: logs to stderr, exits 0 on
 * SIGTERM); with `--workers N` (N > 1) as a node:cluster primary and N worker processes.
 */
import { Command } from 'commander';
import { loadConfig, workerCount } from '../../lib/config.js';
import { lwPaths } from '../../lib/paths.js';

export interface ServeOptions {
  host?: string;
  port?: string;
  config?: string;
  db?: string;
  demo?: boolean;
  sync?: boolean;
  workers?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export function serveCommand(write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  return new Command('serve')
    .description('run the gateway daemon in the foreground')
    .option('--host <host>', 'listen address (default 127.0.0.1)')
    .option('--port <port>', 'listen port (default 8040; 0 = any free port)')
    .option('--config <file>', 'config file (default $LW_HOME/lw.toml)')
    .option('--db <url>', 'Postgres URL (default: the embedded store in $LW_HOME)')
    .option('--demo', 'add a built-in echo provider and a demo key, to try lw with no upstream')
    .option('--sync', "import each enabled provider's GET /models at start-up (like lw models sync)")
    .option('--workers <n>', 'HTTP worker processes sharing the port, limits exact across them (default 1; 0 or auto = one per CPU)')
    .option('--log-level <level>', 'debug | info | warn | error | silent')
    .addHelpText(
      'after',
      `
Examples:
  lw serve                          # embedded store in ~/.local/share/lw, 127.0.0.1:8040
  lw serve --demo                   # echo model + a demo key, no upstream needed
  lw serve --sync                   # import every provider's model list first
  lw serve --workers 4              # 4 worker processes on one port (or --workers auto: one per CPU)
  LW_DATABASE_URL=postgres://… lw serve --host 0.0.0.0 --port 8040`,
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<{ db?: string }>();
      const config = loadConfig({ ...opts, db: opts.db ?? globals.db });
      const workers = workerCount(config);
      // loaded here so admin commands do not pay for the daemon's imports
      const daemon =
        workers > 1
          ? await (await import('../../daemon/cluster/primary.js')).startCluster(config, { workers, signals: true })
          : await (await import('../../daemon/server.js')).startDaemon(config, { signals: true });
      const where = daemon.store.kind === 'pglite' ? `embedded store: ${lwPaths(config.home).db}` : `postgres: ${daemon.store.location}`;
      write(`lw listening on ${daemon.url}  (${where}${workers > 1 ? `, ${workers} workers` : ''})\n`);
      write(`OpenAI base URL: ${daemon.url}/v1\n`);
      if (daemon.demoKey) {
        write(`demo key (shown once): ${daemon.demoKey}\n`);
        write(
          `try: curl ${daemon.url}/v1/chat/completions -H "Authorization: Bearer ${daemon.demoKey}" -H 'content-type: application/json' -d '{"model":"echo","messages":[{"role":"user","content":"hello"}]}'\n`,
        );
      }
      // the daemon runs until SIGTERM/SIGINT, whose handler drains and exits; the command never returns
      await new Promise<never>(() => {});
    });
}
