/** Latency figures of one measured series, in milliseconds. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of ascending-sorted values (`q` in 0..1); NaN for no values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? total / sorted.length : Number.NaN,
  };
}

/** A growable list of numbers that does not box them: a fan-out run records hundreds of thousands. */
export class Samples {
  private values = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  view(): Float64Array {
    return this.values.subarray(0, this.length);
  }

  summary(): Summary {
    return summarize(this.view());
  }
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** `a / b` rounded for a table, or null when it cannot be computed. */
export function ratio(a: number, b: number): number | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}

/** Bucket growth of `LatencyHistogram`: values are kept to within 1%. */
const GROWTH = Math.log(1.01);
const SMALLEST_MS = 0.01;

/**
 * Latencies as counts in logarithmic buckets (1% wide): a run's worth in a few kilobytes, so client processes
 * can ship them and rounds of a benchmark can be merged before percentiles are taken.
 */
export class LatencyHistogram {
  readonly counts = new Map<number, number>();
  count = 0;
  max = 0;
  total = 0;

  record(ms: number): void {
    const index = ms <= SMALLEST_MS ? 0 : Math.ceil(Math.log(ms / SMALLEST_MS) / GROWTH);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.count++;
    this.total += ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: HistogramData): void {
    for (const [index, n] of other.counts) this.counts.set(index, (this.counts.get(index) ?? 0) + n);
    this.count += other.count;
    this.total += other.total;
    this.max = Math.max(this.max, other.max);
  }

  /** The upper edge of the bucket holding the nearest-rank percentile (at most 1% above the true value). */
  percentile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const index of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(index)!;
      if (seen >= rank) return Math.min(this.max, SMALLEST_MS * Math.exp(index * GROWTH));
    }
    return this.max;
  }

  summary(): Summary {
    return {
      count: this.count,
      p50: this.percentile(0.5),
      p99: this.percentile(0.99),
      max: this.count ? this.max : Number.NaN,
      mean: this.count ? this.total / this.count : Number.NaN,
    };
  }

  data(): HistogramData {
    return { counts: [...this.counts], count: this.count, max: this.max, total: this.total };
  }
}

/** A histogram as plain data, for IPC. */
export interface HistogramData {
  counts: Array<[number, number]>;
  count: number;
  max: number;
  total: number;
}
