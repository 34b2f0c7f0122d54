// A fixed-size latency histogram for millions of samples: log-linear buckets (exact
// below 64 µs, then 32 buckets per power of two, so ~3% relative resolution up to
// ~35 minutes). Recording is one array increment; workers ship the bucket array over
// IPC and the orchestrator sums them, so no per-sample storage exists anywhere.

const LINEAR = 64;
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const MAX_EXPONENT = 30;
export const BUCKETS = LINEAR + (MAX_EXPONENT - 5) * SUB;

/** Bucket index of a value in microseconds (clamped to [0, 2^31)). */
export function bucketOf(valueUs: number): number {
  if (!(valueUs > 0)) return 0;
  const v = valueUs >= 0x7fffffff ? 0x7fffffff : Math.floor(valueUs);
  if (v < LINEAR) return v;
  const exponent = 31 - Math.clz32(v);
  const mantissa = (v >>> (exponent - SUB_BITS)) & (SUB - 1);
  return LINEAR + (exponent - 6) * SUB + mantissa;
}

/** The [low, high) range in microseconds covered by a bucket. */
export function bucketRange(index: number): [number, number] {
  if (index < LINEAR) return [index, index + 1];
  const exponent = 6 + Math.floor((index - LINEAR) / SUB);
  const mantissa = (index - LINEAR) % SUB;
  const width = 2 ** (exponent - SUB_BITS);
  const low = (SUB + mantissa) * width;
  return [low, low + width];
}

export class Histogram {
  readonly counts: Float64Array;
  total = 0;
  maxUs = 0;

  constructor(counts?: readonly number[]) {
    this.counts = new Float64Array(BUCKETS);
    if (counts) this.add(counts);
  }

  record(valueUs: number): void {
    this.counts[bucketOf(valueUs)]! += 1;
    this.total += 1;
    if (valueUs > this.maxUs) this.maxUs = valueUs;
  }

  /** Adds another histogram's bucket counts (as shipped over IPC). */
  add(counts: readonly number[] | Float64Array): void {
    for (let i = 0; i < BUCKETS; i++) {
      const c = counts[i] ?? 0;
      if (c === 0) continue;
      this.counts[i]! += c;
      this.total += c;
      const high = bucketRange(i)[1];
      if (high > this.maxUs) this.maxUs = high;
    }
  }

  /** The value below which `fraction` of samples fall (bucket midpoint), in µs; NaN when empty. */
  percentile(fraction: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(this.total * fraction));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const [low, high] = bucketRange(i);
        return i < LINEAR ? low : (low + high) / 2;
      }
    }
    return this.maxUs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxUs = 0;
  }

  toArray(): number[] {
    return Array.from(this.counts);
  }
}
