// The publisher process of the load generator: paces publishes at a fixed offered
// rate, as fast as a bounded number of in-flight requests allows, or on credit
// granted by the orchestrator (closed loop on deliveries). Each update carries
// `<tag> <seq> <sendUs>`; in rate mode sendUs is the *intended* send time (once late
// by more than timer jitter), so a lagging publisher shows up as latency instead of
// hiding it (coordinated omission).
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { formatPayload, nowUs, type Pacing, type PublishRunRequest, type PublishRunResult, type PublishSpec } from './protocol.js';
import { PublishClient, type PublishItem } from './publish-client.js';
import { serveCommands, workerLifetimeMs } from './worker-ipc.js';

export interface PublisherInit {
  readonly host: string;
  readonly port: number;
  readonly spec: PublishSpec;
  readonly sockets: number;
}

/** Lateness below this is timer granularity (libuv timers tick in ms), not backlog. */
const TIMER_JITTER_US = 2000;

/** [time to measure from, how much later it is sent]: the schedule, unless merely late by timer jitter. */
function sendTime(intendedUs: number, pacing: Pacing): [number, number] {
  const now = nowUs();
  if (now - intendedUs < TIMER_JITTER_US) return [now, 0];
  pacing.lateSends++;
  pacing.maxLateUs = Math.max(pacing.maxLateUs, now - intendedUs);
  return [intendedUs, now - intendedUs];
}

/** The publisher's own stalls make it late; they are reported with its pacing. */
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let gcMaxMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration);
}).observe({ entryTypes: ['gc'] });

let client: PublishClient | undefined;
let credit = 0;
let wake: (() => void) | undefined;
let stopRequested = false;

function ready(): PublishClient {
  if (!client) throw new Error('publisher not initialised');
  return client;
}

/** Sends the readiness probe (seq 0) once to each topic, a few at a time. */
async function probe(tag: number, topics: readonly number[], maxInFlight: number): Promise<number> {
  const c = ready();
  let next = 0;
  let ok = 0;
  const lane = async (): Promise<void> => {
    while (next < topics.length) {
      const topic = topics[next++]!;
      const status = await c.publish({ topic, data: formatPayload(tag, 0, nowUs()) }).catch(() => 0);
      if (status >= 200 && status < 300) ok++;
    }
  };
  await Promise.all(Array.from({ length: maxInFlight }, lane));
  return ok;
}

function run(req: PublishRunRequest): Promise<PublishRunResult> {
  const c = ready();
  if (req.batch && !c.supportsBatch) throw new Error('batch publishing requested but the target has none');
  const perRequest = req.batch ? c.batchSize : 1;
  const seqs = new Array<number>(req.topicCount).fill(0);
  const okPerTopic = new Array<number>(req.topicCount).fill(0);
  const errorSamples: string[] = [];
  let issued = 0;
  let ok = 0;
  let errors = 0;
  let inFlight = 0;
  credit = 0;
  stopRequested = false;
  const startUs = nowUs();
  const endAtUs = startUs + req.durationMs * 1000;
  const rate = req.mode.kind === 'rate' ? req.mode.perSecond : 0;
  const pacing: Pacing = { lateSends: 0, maxLateUs: 0, capped: 0, loopP99Ms: 0, loopMaxMs: 0, gcMaxMs: 0 };
  loopDelay.reset();
  gcMaxMs = 0;

  return new Promise((resolve) => {
    let finished = false;
    const fail = (what: string): void => {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(what);
    };
    const issue = (): void => {
      const items: PublishItem[] = [];
      for (let k = 0; k < perRequest; k++) {
        const topic = issued % req.topicCount;
        const [sendUs, lateUs] = rate > 0 ? sendTime(startUs + Math.floor((issued * 1e6) / rate), pacing) : [nowUs(), 0];
        items.push({ topic, data: formatPayload(req.tag, ++seqs[topic]!, sendUs, lateUs) });
        issued++;
      }
      inFlight++;
      const sent = req.batch ? c.publishBatch(items) : c.publish(items[0]!);
      sent.then(
        (status) => {
          if (status >= 200 && status < 300) {
            ok += items.length;
            for (const item of items) okPerTopic[item.topic]!++;
          } else fail(`HTTP ${status}`);
        },
        (error: unknown) => fail(String((error as Error).message)),
      ).finally(() => {
        inFlight--;
        pump();
      });
    };
    const pump = (): void => {
      const now = nowUs();
      const open = !stopRequested && now < endAtUs;
      while (open && inFlight < req.maxInFlight) {
        if (rate > 0 && issued >= ((now - startUs) * rate) / 1e6) break;
        if (req.mode.kind === 'credit') {
          if (credit <= 0) break;
          credit -= perRequest;
        }
        issue();
      }
      // Behind schedule with every request slot taken: the server is holding us back.
      if (open && rate > 0 && inFlight >= req.maxInFlight && issued < ((now - startUs) * rate) / 1e6) pacing.capped++;
      if (!open && inFlight === 0 && !finished) {
        finished = true;
        clearInterval(ticker);
        clearTimeout(endTimer);
        wake = undefined;
        pacing.loopP99Ms = loopDelay.percentile(99) / 1e6;
        pacing.loopMaxMs = loopDelay.max / 1e6;
        pacing.gcMaxMs = gcMaxMs;
        resolve({ issued, ok, errors, errorSamples, okPerTopic, startUs, endUs: nowUs(), pacing });
      }
    };
    // The ticker drives the fixed rate; completions and credit grants pump directly;
    // the end timer notices the end of the run when nothing else is going on.
    const ticker = rate > 0 ? setInterval(pump, 1) : undefined;
    const endTimer = setTimeout(pump, req.durationMs + 1);
    wake = pump;
    pump();
  });
}

serveCommands(
  {
    init: (args) => {
      const init = args as PublisherInit;
      client?.close();
      client = new PublishClient(init.host, init.port, init.spec, init.sockets);
      return null;
    },
    probe: (args) => {
      const { tag, topics, maxInFlight } = args as { tag: number; topics: number[]; maxInFlight: number };
      return probe(tag, topics, maxInFlight);
    },
    run: (args) => run(args as PublishRunRequest),
    credit: (args) => {
      credit += (args as { n: number }).n;
      wake?.();
      return null;
    },
    stop: () => {
      stopRequested = true;
      wake?.();
      return null;
    },
    close: () => {
      client?.close();
      client = undefined;
      return null;
    },
  },
  workerLifetimeMs(),
);
