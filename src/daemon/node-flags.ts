/**
 * @module The V8 flags `lw serve` runs with. They must be on node's command line (V8 sizes its heap when
 * the process starts), so they live in one list used by every way the daemon starts: the `lw` launcher's
 * shebang (`bin/lw.js`, checked equal by a test), `npm start`, the systemd unit `lw service install`
 * writes, `--workers` processes, and the benchmark.
 *
 * `--max-semi-space-size=4`: V8's young generation grows to 2 × 16 MB under load by default. With the
 * daemon's own HTTP server a request allocates little, and small semi-spaces cost no CPU: in A/B runs 8 MB
 * took 10–20 MB off the RSS under chat, stream and embeddings load at 0 to −9% CPU per request, and 4 MB
 * another 5–7 MB at −6% to +2% (bench/README.md).
 */

export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** The daemon flags this process did not start with (on its command line or in NODE_OPTIONS). */
export function missingDaemonFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((f) => f.split('=')[0]!.replace(/_/g, '-')));
  return DAEMON_NODE_FLAGS.filter((f) => !given.has(f.split('=')[0]!));
}
