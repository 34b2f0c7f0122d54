// A label-less histogram for a hot path, exported in exactly prom-client's Histogram
// form. prom-client's observe() builds a closure, a labels object and a label hash on
// every call (about 160 B and a few hash lookups per publish); this one adds to a
// fixed array of counts, and the export is built only when /metrics is scraped.
// It is registered as a plain metric object (Registry.registerMetric: an object with
// a name and get()), and its get() returns what Histogram.get() would for the same
// observations, in the same order, so the text and JSON exports are identical
// (counting-histogram.test.ts compares them with a real Histogram).
import type { Registry } from 'prom-client';

/** One exported sample, as Histogram.get() lists it. */
interface Sample {
  readonly value: number;
  readonly metricName: string;
  readonly exemplar: null | undefined;
  readonly labels: Readonly<Record<string, string | number>>;
}

export interface HistogramExport {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly values: readonly Sample[];
  readonly aggregator: 'sum';
}

export interface CountingHistogramOptions {
  readonly name: string;
  readonly help: string;
  /** Upper bounds, ascending (as prom-client's `buckets`). */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

export class CountingHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  /** Per bucket, the observations at or below its bound and above the previous one. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(options: CountingHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets];
    this.counts = new Float64Array(this.bounds.length);
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  observe(value: number): void {
    // prom-client refuses these too (a TypeError): a NaN would poison the sum for good.
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }

  /** Registry.resetMetrics(): back to no observations. */
  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** Histogram.get()'s shape: cumulative buckets by `le`, `+Inf`, then sum and count. */
  async get(): Promise<HistogramExport> {
    const bucketName = `${this.name}_bucket`;
    const values: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      values.push({ value: cumulative, metricName: bucketName, exemplar: null, labels: { le: this.bounds[i]! } });
    }
    values.push({ value: this.count, metricName: bucketName, exemplar: null, labels: { le: '+Inf' } });
    values.push({ value: this.sum, metricName: `${this.name}_sum`, exemplar: undefined, labels: {} });
    values.push({ value: this.count, metricName: `${this.name}_count`, exemplar: undefined, labels: {} });
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
