/**
 * @module Hot-path Prometheus series without prom-client's per-call work: prom-client builds, validates
 * and hashes the label set on every `inc`/`observe`, even through a `labels(…)` child (0.2–0.35 µs a
 * call, several calls per request). Here a series is a plain object the caller looks up once and keeps;
 * recording is an addition. Registry reads (GET /metrics, the cluster's JSON) see the same names,
 * labels, buckets and values a prom-client Counter / Histogram would show.
 */
import { Counter, type Histogram, type Registry } from 'prom-client';

type Labels = Record<string, string>;

/** Label values → their object (`labelNames[i]` = `values[i]`), rejecting a wrong count as prom-client does. */
function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  if (names.length !== values.length) throw new Error(`expected ${names.length} label values, got ${values.length}`);
  const labels: Labels = {};
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i]!;
  return labels;
}

/** The series of `series` for these label values (in `names` order), made by `make` the first time. */
function seriesFor<S>(series: Map<string, S>, names: readonly string[], values: readonly string[], make: (labels: Labels) => S): S {
  const k = values.length === 1 ? values[0]! : values.join('\u0000');
  let s = series.get(k);
  if (!s) series.set(k, (s = make(labelsOf(names, values))));
  return s;
}

/** One counter series: what it counted since the registry last read it. */
export class CounterSeries {
  pending = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.pending += by;
  }
}

export interface FastCounterConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: Registry[];
}

/** A prom-client Counter fed by plain additions, which it takes over whenever it is read (`collect`). */
export class FastCounter {
  private readonly series = new Map<string, CounterSeries>();
  private readonly labelNames: readonly string[];
  readonly metric: Counter;

  constructor(config: FastCounterConfig) {
    this.labelNames = config.labelNames;
    const series = this.series;
    this.metric = new Counter({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: config.registers,
      collect() {
        for (const s of series.values()) {
          if (s.pending === 0) continue;
          this.inc(s.labels, s.pending);
          s.pending = 0;
        }
      },
    });
  }

  /** The series for these label values, in `labelNames` order (cache it on a hot path). */
  labels(...values: string[]): CounterSeries {
    return seriesFor(this.series, this.labelNames, values, (labels) => new CounterSeries(labels));
  }
}

/** One histogram series: counts per bucket (not cumulative), sum and count. */
export class HistogramSeries {
  sum = 0;
  count = 0;
  readonly counts: Float64Array;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const b = this.bounds;
    // the first bucket whose upper bound holds the value; above the last one only +Inf (= count) counts it
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

export interface FastHistogramConfig {
  name: string;
  help: string;
  labelNames?: readonly string[];
  buckets: readonly number[];
  registers: Registry[];
}

interface SampleValue {
  value: number;
  metricName: string;
  exemplar: null | undefined;
  labels: Record<string, string | number>;
}

/**
 * A histogram kept as plain numbers and registered as a metric object (the contract prom-client's own
 * cluster aggregator uses: `name`, `help`, `type`, `aggregator`, `get()`). `get()` answers what
 * prom-client's Histogram#get does; a histogram without labels shows its zero series from the start.
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly string[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, HistogramSeries>();

  constructor(config: FastHistogramConfig) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? [];
    this.bounds = config.buckets;
    if (this.labelNames.length === 0) this.labels();
    // prom-client's own AggregatorRegistry registers plain metric objects like this one
    for (const r of config.registers) r.registerMetric(this as unknown as Histogram);
  }

  /** The series for these label values, in `labelNames` order (cache it on a hot path). */
  labels(...values: string[]): HistogramSeries {
    return seriesFor(this.series, this.labelNames, values, (labels) => new HistogramSeries(labels, this.bounds));
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; values: SampleValue[]; aggregator: 'sum' }> {
    const values: SampleValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ value: acc, metricName: bucket, exemplar: null, labels: { le: this.bounds[i]!, ...s.labels } });
      }
      values.push({ value: s.count, metricName: bucket, exemplar: null, labels: { le: '+Inf', ...s.labels } });
      values.push({ value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined, labels: { ...s.labels } });
      values.push({ value: s.count, metricName: `${this.name}_count`, exemplar: undefined, labels: { ...s.labels } });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** `Registry#resetMetrics`: every series back to zero. */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
