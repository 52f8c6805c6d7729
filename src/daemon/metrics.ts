/**
 * @module Prometheus metrics (prom-client, own registry per daemon): requests, latency and overhead,
 * in-flight, upstream errors, usage queue depth, estimated and dropped usage, unknown prices.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  constructor() {
    // process and runtime gauges (RSS, heap spaces, GC, event-loop lag), read when /metrics is scraped
    collectDefaultMetrics({ register: this.registry, prefix: 'lw_' });
  }

  readonly requests = new Counter({
    name: 'lw_requests_total',
    help: 'Inference requests by endpoint and status',
    labelNames: ['endpoint', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'lw_request_duration_seconds',
    help: 'Total request latency as the client sees it',
    labelNames: ['endpoint'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly overhead = new Histogram({
    name: 'lw_overhead_seconds',
    help: 'Time spent in the gateway before the upstream request was sent',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });
  readonly inflight = new Gauge({ name: 'lw_inflight_requests', help: 'Requests in flight', registers: [this.registry] });
  readonly upstreamErrors = new Counter({
    name: 'lw_upstream_errors_total',
    help: 'Failed upstream attempts by provider and code',
    labelNames: ['provider', 'code'] as const,
    registers: [this.registry],
  });
  readonly usageQueue = new Gauge({ name: 'lw_usage_queue_depth', help: 'Usage events waiting to be written', registers: [this.registry] });
  readonly usageEstimated = new Counter({
    name: 'lw_usage_estimated_total',
    help: 'Usage events whose tokens were estimated by lw',
    registers: [this.registry],
  });
  readonly usageDropped = new Counter({ name: 'lw_usage_dropped_total', help: 'Usage events that could not be written', registers: [this.registry] });
  readonly unpriced = new Counter({
    name: 'lw_unpriced_requests_total',
    help: 'Requests to models without a price (cost unknown, not zero)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  private readonly perRoute = new Map<string, { done: { inc(): void }; latency: { observe(v: number): void } }>();

  /**
   * One finished inference request. The labelled children are looked up once per endpoint and status
   * (prom-client hashes the label object on every `inc({…})`, measurable on the hot path).
   */
  requestDone(endpoint: string, status: number, seconds: number): void {
    const k = `${endpoint} ${status}`;
    let c = this.perRoute.get(k);
    if (!c) {
      c = { done: this.requests.labels(endpoint, String(status)), latency: this.latency.labels(endpoint) };
      this.perRoute.set(k, c);
    }
    c.done.inc();
    c.latency.observe(seconds);
  }
}
