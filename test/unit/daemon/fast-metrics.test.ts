/**
 * The hot path's metric series against prom-client's own Counter and Histogram fed the same values: the
 * Prometheus text and the JSON the cluster aggregates must be identical, before and after more traffic.
 */
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from '../../../src/daemon/fast-metrics.js';

const BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1];

function pair() {
  const ref = new Registry();
  const fast = new Registry();
  const config = (r: Registry) => ({ name: 'x_requests_total', help: 'Requests', labelNames: ['endpoint', 'status'], registers: [r] });
  const hist = (r: Registry) => ({ name: 'x_duration_seconds', help: 'Latency "quoted"\nline', labelNames: ['endpoint'], buckets: BUCKETS, registers: [r] });
  const plain = (r: Registry) => ({ name: 'x_overhead_seconds', help: 'Overhead', buckets: BUCKETS, registers: [r] });
  return {
    ref,
    fast,
    refCounter: new Counter(config(ref)),
    fastCounter: new FastCounter(config(fast)),
    refHist: new Histogram(hist(ref)),
    fastHist: new FastHistogram(hist(fast)),
    refPlain: new Histogram(plain(ref)),
    fastPlain: new FastHistogram(plain(fast)).labels(),
  };
}

describe('fast metric series', () => {
  it('expose what prom-client would, in text and in the JSON the cluster aggregates', async () => {
    const m = pair();
    // nothing observed: the label-less histogram already shows its zero series, the others nothing
    expect(await m.fast.metrics()).toBe(await m.ref.metrics());

    const traffic: Array<[string, string, number]> = [
      ['chat', '200', 0.003],
      ['chat', '200', 0.07],
      ['responses', '200', 0.005],
      ['chat', '502', 2.5],
      ['chat', '200', 0.0101],
      ['embeddings', '429', 0],
    ];
    const play = (rows: typeof traffic) => {
      for (const [endpoint, status, seconds] of rows) {
        m.refCounter.inc({ endpoint, status });
        m.refHist.observe({ endpoint }, seconds);
        m.refPlain.observe(seconds / 100);
        m.fastCounter.labels(endpoint, status).inc();
        m.fastHist.labels(endpoint).observe(seconds);
        m.fastPlain.observe(seconds / 100);
      }
    };
    play(traffic);
    const text = await m.fast.metrics();
    expect(text).toBe(await m.ref.metrics());
    expect(text).toContain('x_duration_seconds_bucket{le="+Inf",endpoint="chat"} 4');
    expect(text).toContain('x_requests_total{endpoint="chat",status="200"} 3');
    expect(JSON.stringify(await m.fast.getMetricsAsJSON())).toBe(JSON.stringify(await m.ref.getMetricsAsJSON()));

    // a second scrape after more traffic (counters hand over only what is new)
    play([...traffic].reverse());
    m.fastCounter.labels('chat', '200').inc(2);
    m.refCounter.inc({ endpoint: 'chat', status: '200' }, 2);
    expect(await m.fast.metrics()).toBe(await m.ref.metrics());
    const fastJson = await m.fast.getMetricsAsJSON();
    const refJson = await m.ref.getMetricsAsJSON();
    expect(JSON.stringify(fastJson)).toBe(JSON.stringify(refJson));
    expect(await AggregatorRegistry.aggregate([fastJson, fastJson]).metrics()).toBe(
      await AggregatorRegistry.aggregate([refJson, refJson]).metrics(),
    );
  });

  it('refuses what prom-client refuses', () => {
    const m = pair();
    expect(() => m.fastHist.labels('chat').observe(Number.NaN)).toThrow(TypeError);
    expect(() => m.refHist.observe({ endpoint: 'chat' }, Number.NaN)).toThrow(TypeError);
    expect(() => m.fastCounter.labels('chat')).toThrow();
  });
});
