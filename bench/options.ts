// The bench's command line and the two sizes it runs at: the full run (10k
// subscribers, seconds per scenario, < 10 minutes on a 2-core box) and --smoke
// (a tiny run for CI that fails only on lost or duplicated deliveries and errors,
// never on a speed threshold).
import { parseArgs } from 'node:util';

export interface ScenarioSizes {
  /** Subscribers in scenarios 1, 2, 3, 5, 6. */
  readonly subscribers: number;
  /** Topics in scenarios 3, 4 and 8 (8 has one subscriber on each). */
  readonly topics: number;
  /** Seconds of publishing per scenario. */
  readonly seconds: number;
  /**
   * Scenarios 2 and 3: the same publishing, unmeasured, before the measured seconds, so
   * that start-up effects (fresh publisher sockets, JIT, the server's first major GC
   * after the connection burst) do not land in a short window.
   */
  readonly warmupSeconds: number;
  /** Scenario 2: messages per second to the single topic. */
  readonly latencyRate: number;
  /** Scenario 3: messages per second spread over the topics. */
  readonly topicsRate: number;
  /** Scenario 1: at most this many deliveries published but not yet received (closed loop). */
  readonly broadcastWindow: number;
  /** Scenario 4: concurrent publish requests (keep-alive sockets). */
  readonly publishConcurrency: number;
  /** Pause after connecting/starting before measuring memory. */
  readonly settleMs: number;
  /** Scenario 6: `--workers N`. */
  readonly heraldWorkers: number;
  /** Scenario 7: connections to one Herald process; 0: not run (the smoke run). */
  readonly manySubscribers: number;
  /** Scenario 7: events per second, for `manySeconds`. */
  readonly manyRate: number;
  readonly manySeconds: number;
  /**
   * After publishing: wait until every expected delivery is in, or nothing moved for
   * `quietMs`, or `drainMs` passed. Generous: they only cost time when something is lost.
   */
  readonly drain: { readonly quietMs: number; readonly drainMs: number };
}

export interface BenchOptions {
  readonly smoke: boolean;
  readonly sizes: ScenarioSizes;
  /** Target names to run (herald, nchan, tutorial). */
  readonly targets: readonly string[];
  readonly scenarios: ReadonlySet<number>;
  /** Compile Herald (tsc) before measuring it. */
  readonly build: boolean;
  /** Pin server to CPU 0 and load to CPU 1 with taskset (when there are 2+ CPUs). */
  readonly pin: boolean;
  /** Where the JSON goes; default bench/results/<timestamp>.json. */
  readonly out?: string;
  /** Node flags for every Herald server (profiling), split on spaces. */
  readonly heraldNodeArgs: readonly string[];
  /** An earlier commit to build and measure beside this one (target herald@REV). */
  readonly before?: string;
  /** Run the Redis scenarios (bench/redis/) instead of the fan-out ones. */
  readonly redis: boolean;
  /** R3's log sizes (updates kept), smallest first. */
  readonly redisKept: readonly number[];
  /** The Redis scenarios to run (R1 includes R2). */
  readonly redisScenarios: ReadonlySet<string>;
}

const FULL: ScenarioSizes = {
  subscribers: 10_000,
  topics: 1000,
  seconds: 8,
  warmupSeconds: 4,
  latencyRate: 5,
  topicsRate: 2000,
  broadcastWindow: 100_000,
  publishConcurrency: 32,
  settleMs: 2000,
  heraldWorkers: 2,
  manySubscribers: 19_000,
  manyRate: 2,
  manySeconds: 3,
  drain: { quietMs: 5000, drainMs: 30_000 },
};

const SMOKE: ScenarioSizes = {
  subscribers: 200,
  topics: 20,
  seconds: 2,
  warmupSeconds: 0.5,
  latencyRate: 5,
  topicsRate: 200,
  broadcastWindow: 20_000,
  publishConcurrency: 8,
  settleMs: 300,
  heraldWorkers: 2,
  manySubscribers: 0,
  manyRate: 2,
  manySeconds: 1,
  drain: { quietMs: 5000, drainMs: 20_000 },
};

export const USAGE = `Usage: npm run bench -- [options]
  --smoke                 tiny run (200 subscribers, 2 s per scenario, no scenario 7);
                          exits 1 on any lost/duplicated delivery, drop or error
  --targets a,b           herald,nchan,tutorial (default: all)
  --scenarios 1,2,..      1 broadcast, 2 latency, 3 topics, 4 publish, 5 idle RSS,
                          6 herald --workers, 7 19k subscribers on one Herald process,
                          8 publish as fast as possible, one subscriber on each topic
  --subscribers N         override the subscriber count (scenarios 1, 2, 3, 5, 6)
  --many N                override scenario 7's subscriber count
  --seconds N             override the seconds per scenario
  --no-build              do not compile Herald first
  --no-pin                do not use taskset
  --before REV            also build and measure Herald at git revision REV (target
                          herald@REV) in the same run: before/after on the same machine
  --redis                 the Redis Cluster scenarios instead (R1 Redis CPU per publish per
                          master with 1/2/3 masters, R2 Herald CPU on an uninterested process,
                          R3 rare-topic resume, R4 cross-process latency; docs/performance.md)
  --redis-kept a,b,c      R3's log sizes (default 10000,200000,1000000)
  --redis-scenarios R1,R4 only these Redis scenarios (R1 includes R2; default all);
                          with --before, R1 and R4 also run herald@REV, interleaved
  --out FILE              JSON output path
  --herald-node-args=A    node flags for Herald, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
                          or "--trace-gc" (output kept in bench/results/herald-<port>.log)`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      smoke: { type: 'boolean', default: false },
      targets: { type: 'string' },
      scenarios: { type: 'string' },
      subscribers: { type: 'string' },
      many: { type: 'string' },
      seconds: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string' },
      'herald-node-args': { type: 'string' },
      before: { type: 'string' },
      redis: { type: 'boolean', default: false },
      'redis-kept': { type: 'string' },
      'redis-scenarios': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const base = values.smoke ? SMOKE : FULL;
  const positive = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive whole number, got ${raw}`);
    return n;
  };
  const sizes: ScenarioSizes = {
    ...base,
    subscribers: positive('subscribers', values.subscribers, base.subscribers),
    seconds: positive('seconds', values.seconds, base.seconds),
    manySubscribers: values.many === undefined ? base.manySubscribers : positive('many', values.many, 0),
  };
  const targets = (values.targets ?? 'herald,nchan,tutorial').split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of targets) if (!['herald', 'nchan', 'tutorial'].includes(t)) throw new Error(`--targets: unknown target ${t}`);
  const scenarios = new Set((values.scenarios ?? '1,2,3,4,5,6,7,8').split(',').map(Number));
  for (const s of scenarios) if (!(Number.isInteger(s) && s >= 1 && s <= 8)) throw new Error('--scenarios: numbers from 1 to 8');
  return {
    smoke: values.smoke ?? false,
    sizes,
    targets,
    scenarios,
    build: !values['no-build'],
    pin: !values['no-pin'],
    out: values.out,
    heraldNodeArgs: (values['herald-node-args'] ?? '').split(' ').filter(Boolean),
    before: values.before,
    redis: values.redis ?? false,
    redisKept: (values['redis-kept'] ?? '10000,200000,1000000').split(',').map((v) => positive('redis-kept', v.trim(), 0)),
    redisScenarios: redisScenarios(values['redis-scenarios']),
  };
}

function redisScenarios(raw: string | undefined): ReadonlySet<string> {
  const wanted = new Set((raw ?? 'R1,R2,R3,R4').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean));
  for (const s of wanted) if (!['R1', 'R2', 'R3', 'R4'].includes(s)) throw new Error('--redis-scenarios: R1, R2, R3 or R4');
  if (wanted.has('R2')) wanted.add('R1');
  return wanted;
}
