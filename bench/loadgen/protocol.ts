// What the bench processes say to each other: the shared clock, the payload format
// every published update carries, and the IPC commands of the load-generator workers.
//
// The clock is CLOCK_MONOTONIC (process.hrtime), which every process on the machine
// shares, so a publisher's send time and a subscriber's receive time are comparable
// without any clock sync; Date.now() would add wall-clock steps and ms granularity.

function hrtimeUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1_000_000 + ns / 1000;
}

// performance.now() reads the same monotonic clock without allocating (it is called
// once per delivery); this offset turns it into absolute monotonic time.
// Calibrated on the tightest of a few hrtime/now/hrtime brackets (the first calls are slow).
const OFFSET_US = ((): number => {
  let best = { width: Infinity, offset: 0 };
  for (let i = 0; i < 20; i++) {
    const before = hrtimeUs();
    const now = performance.now() * 1000;
    const after = hrtimeUs();
    if (after - before < best.width) best = { width: after - before, offset: (before + after) / 2 - now };
  }
  return best.offset;
})();

/** Microseconds on the machine-wide monotonic clock (integer). */
export function nowUs(): number {
  return Math.floor(OFFSET_US + performance.now() * 1000);
}

/**
 * The data of every bench update: `<tag> <seq> <sendUs>[ <lateUs>]`. `tag` names the
 * scenario (late deliveries from an earlier one are ignored), `seq` counts per topic
 * from 1 (0 is the readiness probe, never counted), `sendUs` is the time latency is
 * measured from; `lateUs`, when the publisher stamped its schedule instead of the
 * clock, is how much later it actually sent (so both views can be reported).
 */
export function formatPayload(tag: number, seq: number, sendUs: number, lateUs = 0): string {
  return lateUs > 0 ? `${tag} ${seq} ${sendUs} ${lateUs}` : `${tag} ${seq} ${sendUs}`;
}

/** How one target wants a publish to look on the wire (plain data, crosses IPC). */
export interface PublishSpec {
  /** Path with `{topic}` replaced by the already-encoded topic string, e.g. `/pub/{topic}`. */
  readonly pathTemplate: string;
  /** Body with `{topic}` and `{data}`; `{data}` is form-encoded when `form` is true. */
  readonly bodyTemplate: string;
  readonly form: boolean;
  readonly headers: Readonly<Record<string, string>>;
  /** Topic strings per topic index, already encoded for where they appear. */
  readonly topics: readonly string[];
  /**
   * A batch publish path (Herald's JSON extension). When set, scenario 4 also sends
   * `maxItems` updates per request, bodies built by publish-client.ts.
   */
  readonly batch?: {
    readonly path: string;
    readonly maxItems: number;
    readonly contentType: string;
    /** Topic strings per topic index as they appear in the batch body (not encoded). */
    readonly topics: readonly string[];
  };
}

/** Where subscribers connect: one request path per topic index. */
export interface SubscribeSpec {
  readonly host: string;
  readonly port: number;
  readonly paths: readonly string[];
}

export type PublishMode =
  | { readonly kind: 'rate'; readonly perSecond: number }
  | { readonly kind: 'max' }
  /** Closed loop: the orchestrator grants `credit` messages as deliveries arrive. */
  | { readonly kind: 'credit' };

export interface PublishRunRequest {
  readonly tag: number;
  readonly mode: PublishMode;
  readonly durationMs: number;
  readonly maxInFlight: number;
  /** Topic indexes to publish to, round robin. */
  readonly topicCount: number;
  /** Use the spec's batch path (only when the spec has one). */
  readonly batch: boolean;
}

/** How well a fixed-rate publisher kept its schedule (what it adds to latency). */
export interface Pacing {
  /** Sends 2 ms or more behind schedule (their lateness counts as latency). */
  lateSends: number;
  maxLateUs: number;
  /** Times the publisher was behind schedule with every request slot in flight. */
  capped: number;
  /** The publisher's own event-loop delay (p99, max) and longest GC pause in the run, ms. */
  loopP99Ms: number;
  loopMaxMs: number;
  gcMaxMs: number;
}

export interface PublishRunResult {
  readonly issued: number;
  readonly ok: number;
  readonly errors: number;
  /** First few error descriptions, for the report. */
  readonly errorSamples: string[];
  /** Successful publishes per topic index (what subscribers must receive). */
  readonly okPerTopic: number[];
  readonly startUs: number;
  readonly endUs: number;
  readonly pacing: Pacing;
}

export interface SubscriberStats {
  /** Unique deliveries of the current tag (seq >= 1). */
  readonly delivered: number;
  readonly duplicates: number;
  readonly lost: number;
  /** Events of another tag (late from an earlier scenario). */
  readonly stale: number;
  /** Connections the server closed or reset. */
  readonly disconnects: number;
  readonly firstUs: number;
  readonly lastUs: number;
  /** Latency histogram buckets (see histogram.ts). */
  readonly histogram: number[];
  /** The same, measured from the actual send (the publisher's lateness left out). */
  readonly fromSend: number[];
  /** The worker's own event-loop delay since the reset: how late it read, at worst (ms). */
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
  /** Its garbage-collection pauses since the reset: the longest, and all of them (ms). */
  readonly gcMaxMs: number;
  readonly gcTotalMs: number;
}

/** An IPC request to a worker; the reply carries the same id. */
export interface WorkerRequest {
  readonly id: number;
  readonly cmd: string;
  readonly args?: unknown;
}

export interface WorkerReply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}
