/**
 * @module Prometheus metrics (prom-client, own registry per daemon): requests, latency and overhead,
 * in-flight, upstream errors, usage queue depth, estimated and dropped usage, unknown prices.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { FastCounter, FastHistogram, type CounterSeries, type HistogramSeries } from './fast-metrics.js';

interface RouteSeries {
  done: CounterSeries;
  latency: HistogramSeries;
}

export class Metrics {
  readonly registry = new Registry();

  constructor() {
    // process and runtime gauges (RSS, heap spaces, GC, event-loop lag), read when /metrics is scraped
    collectDefaultMetrics({ register: this.registry, prefix: 'lw_' });
  }

  readonly requests = new FastCounter({
    name: 'lw_requests_total',
    help: 'Inference requests by endpoint and status',
    labelNames: ['endpoint', 'status'],
    registers: [this.registry],
  });
  readonly latency = new FastHistogram({
    name: 'lw_request_duration_seconds',
    help: 'Total request latency as the client sees it',
    labelNames: ['endpoint'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  /** No labels: its one series, observed once per request that reached an upstream. */
  readonly overhead = new FastHistogram({
    name: 'lw_overhead_seconds',
    help: 'Time spent in the gateway before the upstream request was sent',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  }).labels();
  readonly inflight = new Gauge({ name: 'lw_inflight_requests', help: 'Requests in flight', registers: [this.registry] });
  readonly upstreamErrors = new FastCounter({
    name: 'lw_upstream_errors_total',
    help: 'Failed upstream attempts by provider and code',
    labelNames: ['provider', 'code'],
    registers: [this.registry],
  });
  readonly usageQueue = new Gauge({ name: 'lw_usage_queue_depth', help: 'Usage events waiting to be written', registers: [this.registry] });
  readonly usageEstimated = new Counter({
    name: 'lw_usage_estimated_total',
    help: 'Usage events whose tokens were estimated by lw',
    registers: [this.registry],
  });
  readonly usageDropped = new Counter({ name: 'lw_usage_dropped_total', help: 'Usage events that could not be written', registers: [this.registry] });
  readonly unpriced = new FastCounter({
    name: 'lw_unpriced_requests_total',
    help: 'Requests to models without a price (cost unknown, not zero)',
    labelNames: ['model'],
    registers: [this.registry],
  });

  /** endpoint → status → its series, looked up without building a key string. */
  private readonly perRoute = new Map<string, Map<number, RouteSeries>>();

  /** One finished inference request: counted by endpoint and status, its latency observed by endpoint. */
  requestDone(endpoint: string, status: number, seconds: number): void {
    let byStatus = this.perRoute.get(endpoint);
    if (!byStatus) this.perRoute.set(endpoint, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (!s) byStatus.set(status, (s = { done: this.requests.labels(endpoint, String(status)), latency: this.latency.labels(endpoint) }));
    s.done.inc();
    s.latency.observe(seconds);
  }
}
