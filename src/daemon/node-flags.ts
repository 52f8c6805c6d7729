/**
 * @module The V8 flags `lw serve` runs with. They must be on node's command line (V8 sizes its heap when
 * the process starts), so they live in one list used by every way the daemon starts: the `lw` launcher's
 * shebang (`bin/lw.js`, checked equal by a test), `npm start`, the systemd unit `lw service install`
 * writes, `--workers` processes, and the benchmark.
 *
 * `--max-semi-space-size=8`: V8's young generation grows to 2 × 16 MB under load by default. With the
 * daemon's own HTTP server a request allocates little, and smaller semi-spaces cost no CPU: in A/B runs 8 MB
 * took 10–20 MB off the RSS under chat, stream and embeddings load at 0 to −9% CPU per request. 4 MB took
 * 5–7 MB more off under chat and stream, but at embeddings c=128 more requests outlived two scavenges: the
 * old generation grew to 57 MB (25 MB with 8) and the peak RSS was 140 MB (122 with 8; `bench/rss-probe.mjs`).
 * V8 rounds the size to a power of two.
 */

export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** The daemon flags this process did not start with (on its command line or in NODE_OPTIONS). */
export function missingDaemonFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((f) => f.split('=')[0]!.replace(/_/g, '-')));
  return DAEMON_NODE_FLAGS.filter((f) => !given.has(f.split('=')[0]!));
}
