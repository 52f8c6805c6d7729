/**
 * @module The V8 flags `lw serve` runs with. They must be on node's command line (V8 sizes its heap when
 * the process starts), so they live in one list used by every way the daemon starts: the `lw` launcher's
 * shebang (`bin/lw.js`, checked equal by a test), `npm start`, the systemd unit `lw service install`
 * writes, `--workers` processes, and the benchmark.
 *
 * `--max-semi-space-size=4`: V8's young generation grows to 2 × 16 MB under load by default. With the
 * daemon's own HTTP server a request allocates little, and smaller semi-spaces cost no CPU: in A/B runs 8 MB
 * took 10–20 MB off the RSS under chat, stream and embeddings load at 0 to −9% CPU per request, and 4 MB
 * (with the next flag) another 8–10 MB. V8 rounds the size to a power of two.
 *
 * `--heap-growing-percent=25`: after each full GC V8 lets the old generation grow by a factor it picks from
 * the heap's maximum, up to 4× on a machine with 16 GB or more. Under c=128 load the requests in flight
 * outlive scavenges, their objects and buffers are promoted, and the old generation climbed from a live
 * ~20 MB to 47 MB before it was marked (`--trace-gc`), with the external buffers it holds on top: peaks of
 * 130–165 MB. A fixed 1.25× keeps it within ~25 MB; the mark-compacts it adds take 5–10 ms every few seconds.
 * It is also what lets the young generation shrink to 4 MB: alone, at embeddings c=128, that promoted
 * enough to grow the old generation to 57 MB (peak 140 MB). Together, A/B at chat c=32, embeddings c=128
 * and stream c=128: CPU per request within the runs' noise (±10–20% here), peak RSS 98–111 MB where the 8 MB
 * semi-spaces alone peaked at 109–162 (`bench/rss-probe.mjs`, `bench/ab.mjs`). Unlike
 * `--max-old-space-size` it sets no ceiling a large request could hit. It cannot be given in NODE_OPTIONS
 * (node refuses it there), only on the command line.
 */

export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=25'];

/** The daemon flags this process did not start with (on its command line or in NODE_OPTIONS). */
export function missingDaemonFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].map((f) => f.split('=')[0]!.replace(/_/g, '-')));
  return DAEMON_NODE_FLAGS.filter((f) => !given.has(f.split('=')[0]!));
}
